"""Micro-batched `MetricEnsemble`: score and learn many series' points in vectorised numpy steps.

`EnsembleBank` holds the state of many series of the default ensemble (`MetricEnsemble`) as a
`[fields, series]` float64 matrix plus the seasonal profiles, and `process(series, ts, values)` scores
then learns a micro-batch of points, as the stream delivers them, giving for every point what
`MetricEnsemble.score` would have returned just before its `learn` (`BankScores.point` builds that very
`PointScore`). Rare per-series events (tail fits, a new counter's members, snapshots) drop to per-series
code in the `MetricEnsemble` snapshot format, so a series can move between the bank and the scalar
detector (details: `EnsembleBank`). Equality with the scalar path: every formula, operation order and
NaN-aware comparison is the scalar one, so verdicts are the same and floats agree within 1e-9 relative
on any CPU (the contract: docs/ARCHITECTURE.md, tests/unit/test_ensemble_bank.py). It supports the
member set `build_components()` makes (construction raises TypeError otherwise;
`registry.unsupported_members` says so beforehand) and keeps no global state; it does no I/O.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np

from aiops.detectors.metric.bank.layout import Array, Index, Layout, Mask, TailColumns, where
from aiops.detectors.metric.bank.members import MemberColumns
from aiops.detectors.metric.bank.registry import member_columns
from aiops.detectors.metric.bank.scores import MODES, BankScores, empty_scores
from aiops.detectors.metric.ensemble import DEFAULT_THRESHOLD, MetricEnsemble
from aiops.detectors.metric.tail import MAX_SURPRISE, score_to_surprise

_BONFERRONI = np.array([math.log10(warm + 1) for warm in range(64)])
Judgement = tuple[Array, Array | None, Array | None, Mask, Mask]
"""A member's (statistic, centre or None, spread or None, warm, started) for a round's series."""
_ENSEMBLE_FIELDS = (
    "mode", "count", "since_alert", "alert_surprise", "since_report", "report_surprise",
    "previous_ts", "previous_value", "has_previous", "monotone", "increased", "persistence",
)  # fmt: skip


class EnsembleBank:
    """State of many `MetricEnsemble` series, scored and learnt a micro-batch at a time.

    A series may occur several times in a micro-batch: points are processed in rounds, each holding at most
    one point per series, in stream order. Rare per-series events drop to per-series code: a tail's initial
    batch fit (the scalar `PeaksOverThreshold`, see `TailColumns`), a new counter's fresh members,
    `restore(i, state)` (through `MetricEnsemble.restore`) and `snapshot(i)` (written directly, key for
    key). `allocate`/`release` recycle series indices. Floats are bit for bit the scalar path's where
    numpy's elementwise `log`, `log1p`, `log10` and `power` round like the C library's (not on AVX-512,
    where they differ by about one ulp).
    """

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, **params: Any) -> None:
        self.params: dict[str, Any] = {"threshold": threshold, **params}
        self._prototype = MetricEnsemble(**self.params)
        layout = Layout()
        self.rows = {name: layout.add(name, 0.0) for name in _ENSEMBLE_FIELDS}
        self.persistence_tail = TailColumns(layout, "persistence_tail", self._prototype.persistence_tail)
        self.members: list[MemberColumns[Any]] = [
            member_columns(layout, label, component) for label, component in self._prototype.components.items()
        ]
        self.layout = layout
        self.labels = ("", *(member.label for member in self.members), "sustained")
        self.shapes = (False, *(member.describes_shape for member in self.members), False)
        """By source code (as `labels`): the source measures the series' shape (`PointScore.shape`)."""
        self.alert_surprise = score_to_surprise(threshold)
        self.size = 0
        self._free: list[int] = []
        self.state: Array = np.zeros((layout.size, 0))
        fresh = np.array(layout.fresh)
        self._load_column(-1, fresh, self._prototype)
        self._fresh = fresh

    def add(self, count: int = 1) -> range:
        """Room for `count` new series, fresh; returns their indices."""
        start, end = self.size, self.size + count
        if end > self.state.shape[1]:
            capacity = max(end, 2 * self.state.shape[1], 64)
            grown = np.zeros((self.layout.size, capacity))
            grown[:, : self.size] = self.state[:, : self.size]
            self.state = grown
            for member in self.members:
                member.grow(capacity)
        self.state[:, start:end] = self._fresh[:, None]
        self.size = end
        return range(start, end)

    def allocate(self) -> int:
        """A fresh series: a released index (reset again: a release may run in a finalizer, mid-`add`) when
        there is one, else a new one."""
        if self._free:
            series = self._free.pop()
            self._load_column(series, self.state[:, series], self._prototype)
            return series
        return self.add(1)[0]

    def release(self, series: int) -> None:
        """Series `series` is no longer used: reset now (its tails' initial-batch pool slots go back at
        once, not when the index is reused) and `allocate` may hand its index out again."""
        self._load_column(self._checked(series), self.state[:, series], self._prototype)
        self._free.append(series)

    def process(self, series: Index, ts: Array, values: Array) -> BankScores:
        """Score then learn each point (series index, event time, value) in stream order."""
        series, ts, values = np.asarray(series, np.intp), np.asarray(ts, np.float64), np.asarray(values, np.float64)
        if series.size and (series.min() < 0 or series.max() >= self.size):
            raise IndexError("series index out of range")
        out = empty_scores(series.size, self.labels, self.shapes)
        finite = np.isfinite(values)
        with np.errstate(all="ignore"):
            for positions in _rounds(series):
                if not finite[positions].all():  # NaN/inf: not scored nor learnt, like `MetricEnsemble`
                    self._ignore(series[positions[~finite[positions]]], out, positions[~finite[positions]])
                    positions = positions[finite[positions]]  # noqa: PLW2901 - the round's finite points
                if positions.size:
                    self._round(series[positions], ts[positions], values[positions], out, positions)
        return out

    def _ignore(self, series: Index, out: BankScores, positions: Index) -> None:
        """`non_finite_point(warm)` for these points: score 0, no baseline, the series' current warm."""
        block = self.state[:, series]
        members = [member.ready(block) & (block[member.tail.fitted] != 0) if member.tail is not None
                   else member.ready(block) for member in self.members]  # fmt: skip
        out.warm[positions] = (block[self.rows["mode"]] != 0) & np.logical_or.reduce(members)
        out.ignored[positions] = True

    def _round(self, series: Index, ts: Array, values: Array, out: BankScores, positions: Index) -> None:
        block = self.state[:, series]
        rows = self.rows
        mode = block[rows["mode"]]
        seen, valid = self._seen(block, ts, values)
        scoring = valid & (mode != 0)
        judged = [self._judge(member, block, series, ts, seen) for member in self.members]
        raw, persistence = self._combine(block, judged, scoring, out, positions)
        warm = (mode != 0) & np.logical_or.reduce([judgement[3] for judgement in judged])
        self._score(block, raw, warm, out, positions)
        self._track(block, raw)
        rows_persistence = block[rows["persistence"]]
        block[rows["persistence"]] = where(warm, persistence, rows_persistence)
        self.persistence_tail.learn(block, series, persistence, warm)
        self._absorb(block, series, ts, seen, valid, judged)
        self._probe(block, series, values)
        block[rows["previous_ts"]] = ts
        block[rows["previous_value"]] = values
        block[rows["has_previous"]] = 1.0
        block[rows["count"]] += 1.0
        self.state[:, series] = block

    def _seen(self, block: Array, ts: Array, values: Array) -> tuple[Array, Mask]:
        """What the members see (value, or a counter's per-second rate) and where there is something."""
        counter = block[self.rows["mode"]] == 2
        previous = block[self.rows["previous_value"]]
        elapsed = ts - block[self.rows["previous_ts"]]
        elapsed = where(elapsed < 1e-9, 1e-9, elapsed)
        rate = where(values >= previous, values - previous, values) / elapsed
        return where(counter, rate, values), ~counter | (block[self.rows["has_previous"]] != 0)

    @staticmethod
    def _judge(member: MemberColumns[Any], block: Array, series: Index, ts: Array, seen: Array) -> Judgement:
        """(statistic, centre, spread, member warm, member started) against the state before the point."""
        statistic, centre, spread = member.judge(block, series, ts, seen)
        started = block[member.count] > 0
        warm = member.ready(block)
        if member.tail is not None:
            warm = warm & (block[member.tail.fitted] != 0)
        return where(started, statistic, 0.0), centre, spread, warm, started

    def _combine(
        self,
        block: Array,
        judged: list[Judgement],
        scoring: Mask,
        out: BankScores,
        positions: Index,
    ) -> tuple[Array, Array]:
        """`MetricEnsemble._combine`: raw surprise and next persistence; source and centre into `out`."""
        size = scoring.size
        best, source, warm = np.zeros(size), np.zeros(size, np.intp), np.zeros(size, np.intp)
        centre, spread = np.full(size, np.nan), np.full(size, np.nan)
        has_centre, has_spread = np.zeros(size, bool), np.zeros(size, bool)
        for code, (member, (statistic, judged_centre, judged_spread, member_warm, started)) in enumerate(
            zip(self.members, judged, strict=True), start=1
        ):
            active = scoring & member_warm
            surprise = statistic if member.tail is None else member.tail.surprise(block, statistic)
            better = active & (surprise > best)
            best, source = where(better, surprise, best), np.where(better, code, source)
            if judged_centre is not None:
                moved = active & (better | ~has_centre) & started
                centre, has_centre = where(moved, judged_centre, centre), has_centre | moved
                spread = where(moved, judged_spread, spread) if judged_spread is not None else spread
                has_spread = np.where(moved, judged_spread is not None, has_spread)
            warm += active
        any_warm = warm > 0
        held = block[self.rows["persistence"]]
        persistence = held + self._prototype.persistence_alpha * (best - held)
        sustained = self.persistence_tail.surprise(block, persistence)
        better = any_warm & (sustained > best)
        best, source = where(better, sustained, best), np.where(better, len(self.labels) - 1, source)
        combined = best - _BONFERRONI[warm]
        raw = where(any_warm, where(combined < 0.0, 0.0, combined), 0.0)
        out.source[positions] = np.where(any_warm, source, 0)
        gauge = block[self.rows["mode"]] == 1
        out.expected[positions], out.has_expected[positions] = centre, gauge & has_centre
        out.lower[positions], out.upper[positions] = centre - spread, centre + spread
        out.has_band[positions] = gauge & has_centre & has_spread
        out.mode[positions] = block[self.rows["mode"]].astype(np.intp)
        return raw, where(any_warm, persistence, held)

    def _score(self, block: Array, raw: Array, warm: Mask, out: BankScores, positions: Index) -> None:
        """`MetricEnsemble.score` from the raw surprise: episode and refractory damping, score, undamped."""
        rows = self.rows
        surprise = self._damped(block, raw)
        reporting = block[rows["since_report"]] <= self._prototype.refractory_points
        lowered = surprise - block[rows["report_surprise"]]
        surprise = where(reporting, where(lowered < 0.0, 0.0, lowered), surprise)
        capped = where(surprise < 0.0, 0.0, surprise)
        capped = where(capped > MAX_SURPRISE, MAX_SURPRISE, capped)
        out.score[positions] = 1.0 - np.power(10.0, -capped)
        out.surprise[positions] = surprise
        out.has_undamped[positions] = raw != surprise
        out.undamped[positions] = 1.0 - np.power(10.0, -where(raw < MAX_SURPRISE, raw, MAX_SURPRISE))
        out.warm[positions] = warm

    def _damped(self, block: Array, raw: Array) -> Array:
        """`MetricEnsemble._damped`: the episode's peak taken off while the episode lasts."""
        in_episode = block[self.rows["since_alert"]] <= self._prototype.cooldown_points
        lowered = raw - block[self.rows["alert_surprise"]]
        return where(in_episode, where(lowered < 0.0, 0.0, lowered), raw)

    def _track(self, block: Array, raw: Array) -> None:
        """`MetricEnsemble._track_reports` then `_track_alerts`."""
        rows = self.rows
        damped = self._damped(block, raw)
        since_report, report_surprise = block[rows["since_report"]], block[rows["report_surprise"]]
        reported = where(since_report <= self._prototype.refractory_points, damped - report_surprise, damped)
        paged = reported >= self.alert_surprise
        block[rows["since_report"]] = where(paged, 0.0, since_report + 1)
        block[rows["report_surprise"]] = where(paged, damped, report_surprise)
        since_alert, alert_surprise = block[rows["since_alert"]], block[rows["alert_surprise"]]
        in_episode = since_alert <= self._prototype.cooldown_points
        alerted = raw >= self.alert_surprise
        peak = where(in_episode, where(alert_surprise > raw, alert_surprise, raw), raw)
        block[rows["alert_surprise"]] = where(alerted, peak, alert_surprise)
        block[rows["since_alert"]] = where(alerted, 0.0, since_alert + 1)

    def _absorb(
        self, block: Array, series: Index, ts: Array, seen: Array, valid: Mask, judged: list[Judgement]
    ) -> None:
        """Every member learns what it saw (tails first, with the statistic judged before the point)."""
        for member, (statistic, _, _, _, _) in zip(self.members, judged, strict=True):
            if member.tail is not None:
                member.tail.learn(block, series, statistic, member.ready(block) & valid)
        if valid.all():
            for member in self.members:
                member.update(block, series, ts, seen)
            return
        columns = np.flatnonzero(valid)
        part = block[:, columns]
        for member in self.members:
            member.update(part, series[columns], ts[columns], seen[columns])
        block[:, columns] = part

    def _probe(self, block: Array, series: Index, values: Array) -> None:
        """`MetricEnsemble._probe` for the series still probing; a new counter starts fresh members."""
        rows = self.rows
        probing = block[rows["mode"]] == 0
        if not probing.any():
            return
        has_previous, previous = block[rows["has_previous"]] != 0, block[rows["previous_value"]]
        monotone = (block[rows["monotone"]] != 0) & ~(has_previous & (values < previous))
        increased = (block[rows["increased"]] != 0) | (has_previous & (values > previous))
        decided = probing & (block[rows["count"]] + 1 >= self._prototype.counter_probe_points)
        counter = decided & monotone & increased & (values > 0)
        block[rows["monotone"]] = where(probing, monotone, block[rows["monotone"]])
        block[rows["increased"]] = where(probing, increased, block[rows["increased"]])
        block[rows["mode"]] = where(decided, where(counter, 2.0, 1.0), block[rows["mode"]])
        if not counter.any():
            return
        fresh = copy.deepcopy(self._prototype)
        for column in np.flatnonzero(counter):
            for member in self.members:
                member.load(int(series[column]), block[:, column], fresh.components[member.label])

    # --- snapshots: one series at a time, through the scalar detector ---------------------------------
    def detector(self, series: int) -> MetricEnsemble:
        """A scalar `MetricEnsemble` holding series `series`' state (the bank is unchanged)."""
        return self._fill(MetricEnsemble(**self.params), series)

    def _fill(self, detector: MetricEnsemble, series: int) -> MetricEnsemble:
        """`detector` (built with this bank's parameters) overwritten with series `series`' whole state."""
        column = self.state[:, self._checked(series)]
        rows = self.rows
        detector.mode = MODES[int(column[rows["mode"]])]
        for name in ("count", "since_alert", "since_report"):
            setattr(detector, name, int(column[rows[name]]))
        for name in ("alert_surprise", "report_surprise", "persistence"):
            setattr(detector, name, float(column[rows[name]]))
        has_previous = column[rows["has_previous"]] != 0
        detector.previous = (
            (float(column[rows["previous_ts"]]), float(column[rows["previous_value"]])) if has_previous else None
        )
        detector.monotone = bool(column[rows["monotone"]])
        detector.increased = bool(column[rows["increased"]])
        detector.persistence_tail.load(self.persistence_tail.state(column))
        for member in self.members:
            member.export(series, column, detector.components[member.label])
        return detector

    def load(self, series: int, detector: MetricEnsemble) -> None:
        """Overwrite series `series` with a scalar detector's state (hyper-parameters stay the bank's)."""
        self._load_column(self._checked(series), self.state[:, series], detector)

    def _load_column(self, series: int, column: Array, detector: MetricEnsemble) -> None:
        rows = self.rows
        column[rows["mode"]] = MODES.index(detector.mode)
        for name in ("count", "since_alert", "since_report", "alert_surprise", "report_surprise", "persistence"):
            column[rows[name]] = getattr(detector, name)
        previous = detector.previous
        column[rows["has_previous"]] = previous is not None
        column[rows["previous_ts"]], column[rows["previous_value"]] = previous if previous is not None else (0.0, 0.0)
        column[rows["monotone"]] = detector.monotone
        column[rows["increased"]] = detector.increased
        self.persistence_tail.load(column, detector.persistence_tail)
        for member in self.members:
            if series >= 0:
                member.load(series, column, detector.components[member.label])
            else:  # the fresh template: member arrays outside the block start at zero
                MemberColumns.load(member, series, column, detector.components[member.label])

    def snapshot(self, series: int) -> dict[str, Any]:
        """Series `series`' state in `MetricEnsemble.snapshot` format, key for key (written directly: going
        through a scalar detector costs several times more)."""
        column: list[float] = self.state[:, self._checked(series)].tolist()
        rows = self.rows
        has_previous = column[rows["has_previous"]] != 0
        return {
            "mode": MODES[int(column[rows["mode"]])],
            "count": int(column[rows["count"]]),
            "since_alert": int(column[rows["since_alert"]]),
            "alert_surprise": column[rows["alert_surprise"]],
            "since_report": int(column[rows["since_report"]]),
            "report_surprise": column[rows["report_surprise"]],
            "previous": [column[rows["previous_ts"]], column[rows["previous_value"]]] if has_previous else None,
            "monotone": column[rows["monotone"]] != 0,
            "increased": column[rows["increased"]] != 0,
            "persistence": column[rows["persistence"]],
            "persistence_tail": self.persistence_tail.state(column),
            "components": {member.label: member.snapshot(series, column) for member in self.members},
        }

    def restore(self, series: int, state: dict[str, Any]) -> None:
        """Overwrite series `series` from a `MetricEnsemble.snapshot` (or this bank's `snapshot`)."""
        self.load(series, MetricEnsemble.restore(state, **self.params))

    def _checked(self, series: int) -> int:
        if not 0 <= series < self.size:
            raise IndexError(f"no series {series} in a bank of {self.size}")
        return series


def ranks(series: Index) -> Index:
    """Per point of a micro-batch, how many earlier points of its series it has (its round)."""
    rank = np.empty(series.size, np.intp)
    if series.size == 0:
        return rank
    order = np.argsort(series, kind="stable")
    ordered = series[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    lengths = np.diff(np.append(starts, ordered.size))
    rank[order] = np.arange(series.size) - np.repeat(starts, lengths)
    return rank


def _rounds(series: Index) -> list[Index]:
    """Positions of a micro-batch grouped in rounds: the k-th point of every series in round k, in order."""
    if series.size == 0:
        return []
    rank = ranks(series)
    if rank.max() == 0:
        return [np.arange(series.size)]
    by_round = np.argsort(rank, kind="stable")
    return np.split(by_round, np.cumsum(np.bincount(rank))[:-1])
