"""Vectorised ensemble members: level, variance, drift, seasonal and flat-line detectors over a block.

Each `*Columns` class mirrors one `CalibratedDetector` subclass of the default ensemble on a `[fields, m]`
block of series (see `layout.py`): `ready`, `judge` (statistic, centre, spread of every column against
the current state, pure) and `update` (the state part of `absorb`; the caller feeds the tail). The
formulas, their operation order and every ``max``/``min`` written as a comparison are the scalar
detectors', so results agree with them to the last bits (exactly where numpy's transcendental functions
round like `math`; see ensemble_bank.py). `export`/`load`
move one series' state to and from a scalar detector (the snapshot path). Hyper-parameters come from the
prototype detector. It does not fit tails (see `TailColumns`) nor combine members (see `ensemble_bank.py`).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from aiops.detectors.metric.bank.held import HeldColumns
from aiops.detectors.metric.bank.layout import Array, Index, Layout, Mask, TailColumns, where
from aiops.detectors.metric.calibrated import CalibratedDetector
from aiops.detectors.metric.flatline import _REL_TOLERANCE
from aiops.detectors.metric.level import ABS_SCALE_FLOOR, BAND, REL_SCALE_FLOOR
from aiops.detectors.metric.seasonal import WEEK_SECONDS, WEEKS_BEFORE_WEEKLY

Judged = tuple[Array, Array | None, Array | None]
"""(statistic, centre or None when the member gives none, spread or None)."""


def _floor(level: Array) -> Array:
    """`scale_floor` per column."""
    floor = np.abs(level) * REL_SCALE_FLOOR
    return where(floor < ABS_SCALE_FLOOR, ABS_SCALE_FLOOR, floor)


def _at_least(rate: float, inverse: Array) -> Array:
    """``rate``, raised to ``inverse`` where that is larger (the scalar ``if 1.0 / n > rate``)."""
    return where(inverse > rate, inverse, rate)


class MemberColumns:
    """One member's rows (count plus `fields`) and its tail's; subclasses add the statistic."""

    fields: ClassVar[tuple[str, ...]] = ()
    int_fields: ClassVar[frozenset[str]] = frozenset()
    outside_fields: ClassVar[frozenset[str]] = frozenset()
    """State fields kept in arrays outside the block (a subclass' own export/load)."""
    confirms: ClassVar[bool] = False
    """The subclass applies `confirmed`/`remember` of `held` (the scalar member's `HeldStatistic`)."""

    def __init__(self, layout: Layout, label: str, component: CalibratedDetector) -> None:
        unknown = set(component.state_fields) - set(self.fields) - self.outside_fields
        if self.confirms:
            unknown.discard("recent")
        if unknown:
            raise TypeError(f"ensemble member {label} has state the bank does not know: {sorted(unknown)}")
        self.label = label
        self.warmup = component.warmup_points
        self.count = layout.add(f"{label}.count", component.count)
        self.rows = {name: layout.add(f"{label}.{name}", getattr(component, name)) for name in self.fields}
        self.tail = TailColumns(layout, f"{label}.tail", component.tail) if component.uses_tail else None
        self._snapshot_plan = tuple(
            (name, self.rows.get(name, -1), name in self.int_fields) for name in component.state_fields
        )
        """(field, its row or -1 when kept outside the block, integer?) in the scalar snapshot's order."""
        self.idle_tail = None if component.uses_tail else component.tail.snapshot()
        """The unused tail of a member without one, as its snapshots show it (never learns)."""
        self.held = HeldColumns(layout, label, component)
        if self.held.kept and not self.confirms:
            raise TypeError(f"ensemble member {label} confirms its statistic, which the bank does not do for it")

    def grow(self, capacity: int) -> None:
        """Room for `capacity` series in arrays kept outside the block."""
        self.held.grow(capacity)

    def ready(self, block: Array) -> Mask:
        ready: Mask = block[self.count] >= self.warmup
        return ready

    def judge(self, block: Array, series: Index, ts: Array, seen: Array) -> Judged:
        raise NotImplementedError

    def update(self, block: Array, series: Index, ts: Array, seen: Array) -> None:
        raise NotImplementedError

    def export(self, series: int, column: Array, component: CalibratedDetector) -> None:
        """Write one series' state (`column`) into a freshly built scalar `component`."""
        component.count = int(column[self.count])
        for name, row in self.rows.items():
            setattr(component, name, int(column[row]) if name in self.int_fields else float(column[row]))
        if self.tail is not None:
            component.tail.load(self.tail.state(column))
        self.held.export(series, column, component)
        component.ready = component._ready()  # the scalar's own rule, as its `load` applies it

    def snapshot(self, series: int, column: list[float]) -> dict[str, Any]:
        """One series' `component.snapshot()`, straight from its state (`column`, as a list)."""
        state: dict[str, Any] = {}
        for name, row, integer in self._snapshot_plan:
            if row < 0:
                state[name] = self._outside(series, column, name)
            else:
                state[name] = int(column[row]) if integer else column[row]
        if self.tail is not None:
            tail = self.tail.state(column)
        else:
            idle = self.idle_tail or {}
            tail = {**idle, "batch": list(idle.get("batch", []))}
        return {"count": int(column[self.count]), "tail": tail, "state": state}

    def _outside(self, series: int, column: list[float], name: str) -> Any:
        """A state field kept outside the block (subclasses add theirs)."""
        if name == "recent":
            return self.held.recent_of(series, column)
        raise KeyError(name)

    def load(self, series: int, column: Array, component: CalibratedDetector) -> None:
        """Overwrite one series' `column` with a scalar `component`'s state."""
        column[self.count] = component.count
        for name, row in self.rows.items():
            column[row] = getattr(component, name)
        if self.tail is not None:
            self.tail.load(column, component.tail)
        self.held.load(series, column, component)


class LevelColumns(MemberColumns):
    """`LevelDetector`: robust z against an EWMA level."""

    fields = ("level", "scale")
    confirms = True

    def __init__(self, layout: Layout, label: str, component: CalibratedDetector) -> None:
        super().__init__(layout, label, component)
        self.alpha, self.scale_alpha, self.clip = component.alpha, component.scale_alpha, component.clip  # type: ignore[attr-defined]

    def judge(self, block: Array, series: Index, ts: Array, seen: Array) -> Judged:
        level, scale = block[self.rows["level"]], block[self.rows["scale"]]
        floor = _floor(level)
        scale = where(floor > scale, floor, scale)
        return self.held.confirmed(block, np.abs(seen - level) / scale), level, BAND * scale

    def update(self, block: Array, series: Index, ts: Array, seen: Array) -> None:
        count, level, old = block[self.count], block[self.rows["level"]], block[self.rows["scale"]]
        residual = seen - level
        floor = _floor(level)
        scale = where(floor > old, floor, old)
        self.held.remember(block, series, np.abs(residual) / scale, count > 0)
        clipped = np.abs(residual)
        cap = self.clip * scale
        clipped = where((count > self.warmup) & (cap < clipped), cap, clipped)
        scaled = old + _at_least(self.scale_alpha, 1.0 / count) * (clipped - old)
        moved = level + _at_least(self.alpha, 1.0 / (count + 1)) * residual
        first = count == 0
        block[self.rows["level"]] = where(first, seen, moved)
        block[self.rows["scale"]] = where(first, old, scaled)
        block[self.count] = count + 1


class VarianceColumns(MemberColumns):
    """`VarianceDetector`: log ratio of short- to long-horizon mean absolute change."""

    fields = ("previous", "short", "long")

    def __init__(self, layout: Layout, label: str, component: CalibratedDetector) -> None:
        super().__init__(layout, label, component)
        self.short_alpha, self.long_alpha, self.clip = component.short_alpha, component.long_alpha, component.clip  # type: ignore[attr-defined]

    def judge(self, block: Array, series: Index, ts: Array, seen: Array) -> Judged:
        previous, short = block[self.rows["previous"]], block[self.rows["short"]]
        short = short + self.short_alpha * (np.abs(seen - previous) - short)
        floor = _floor(previous)
        statistic = np.log((short + floor) / (block[self.rows["long"]] + floor))
        return where(statistic < 0.0, 0.0, statistic), None, None

    def update(self, block: Array, series: Index, ts: Array, seen: Array) -> None:
        count = block[self.count]
        previous, short, long = (block[self.rows[name]] for name in ("previous", "short", "long"))
        change = np.abs(seen - previous)
        cap = self.clip * long
        capped = where((count > self.warmup) & (cap < change), cap, change)
        later = count > 0
        block[self.rows["short"]] = where(later, short + self.short_alpha * (change - short), short)
        block[self.rows["long"]] = where(later, long + _at_least(self.long_alpha, 1.0 / count) * (capped - long), long)
        block[self.rows["previous"]] = seen
        block[self.count] = count + 1


class DriftColumns(MemberColumns):
    """`DriftDetector`: standardised gap between a fast and a slow EWMA (confirmed over `confirm_points`)."""

    fields = ("fast", "slow", "gap_centre", "gap_scale")
    confirms = True

    def __init__(self, layout: Layout, label: str, component: CalibratedDetector) -> None:
        super().__init__(layout, label, component)
        self.fast_alpha, self.slow_alpha = component.fast_alpha, component.slow_alpha  # type: ignore[attr-defined]
        self.gap_alpha, self.clip = component.gap_alpha, component.clip  # type: ignore[attr-defined]

    def _gap(self, block: Array, seen: Array) -> Array:
        fast, slow = block[self.rows["fast"]], block[self.rows["slow"]]
        gap: Array = (fast + self.fast_alpha * (seen - fast)) - (slow + self.slow_alpha * (seen - slow))
        return gap

    def _scale(self, block: Array, slow: Array) -> Array:
        floor, gap_scale = _floor(slow), block[self.rows["gap_scale"]]
        return where(~(gap_scale < floor), gap_scale, floor)

    def _standardised(self, block: Array, seen: Array) -> Array:
        scale = self._scale(block, block[self.rows["slow"]])
        gap: Array = np.abs(self._gap(block, seen) - block[self.rows["gap_centre"]]) / scale
        return gap

    def judge(self, block: Array, series: Index, ts: Array, seen: Array) -> Judged:
        return self.held.confirmed(block, self._standardised(block, seen)), block[self.rows["slow"]], None

    def update(self, block: Array, series: Index, ts: Array, seen: Array) -> None:
        count, fast, slow = block[self.count], block[self.rows["fast"]], block[self.rows["slow"]]
        centre, gap_scale = block[self.rows["gap_centre"]], block[self.rows["gap_scale"]]
        if self.held.kept:
            self.held.remember(block, series, self._standardised(block, seen), count > 0)
        gap = self._gap(block, seen)
        moved_fast = fast + self.fast_alpha * (seen - fast)
        moved_slow = slow + _at_least(self.slow_alpha, 1.0 / (count + 1)) * (seen - slow)
        deviation = gap - centre
        bound = self.clip * self._scale(block, moved_slow)
        late = count > self.warmup
        deviation = where(late & (bound < deviation), bound, deviation)
        deviation = where(late & ~(deviation > -bound), -bound, deviation)
        rate = _at_least(self.gap_alpha, 1.0 / count)
        first = count == 0
        block[self.rows["fast"]] = where(first, seen, moved_fast)
        block[self.rows["slow"]] = where(first, seen, moved_slow)
        block[self.rows["gap_centre"]] = where(first, centre, centre + rate * deviation)
        block[self.rows["gap_scale"]] = where(first, gap_scale, gap_scale + rate * (np.abs(deviation) - gap_scale))
        block[self.count] = count + 1


class FlatLineColumns(MemberColumns):
    """`FlatLineDetector`: geometric run-length surprise of repeated values (no tail)."""

    fields = ("previous", "run", "longest_run", "repeat_rate")
    int_fields = frozenset({"run"})

    def __init__(self, layout: Layout, label: str, component: CalibratedDetector) -> None:
        super().__init__(layout, label, component)
        self.rate_alpha, self.longest_decay = component.rate_alpha, component.longest_decay  # type: ignore[attr-defined]
        self.min_rate, self.max_rate = component.min_repeat_rate, component.max_repeat_rate  # type: ignore[attr-defined]

    def _repeats(self, block: Array, seen: Array) -> Mask:
        previous = block[self.rows["previous"]]
        largest = np.abs(seen)
        largest = where(np.abs(previous) > largest, np.abs(previous), largest)
        largest = where(largest < 1.0, 1.0, largest)
        repeats: Mask = np.abs(seen - previous) <= _REL_TOLERANCE * largest
        return repeats

    def judge(self, block: Array, series: Index, ts: Array, seen: Array) -> Judged:
        rate = block[self.rows["repeat_rate"]]
        rate = where(self.min_rate > rate, self.min_rate, rate)
        rate = where(self.max_rate < rate, self.max_rate, rate)
        beyond = block[self.rows["run"]] + 1 - block[self.rows["longest_run"]]
        statistic = where(beyond < 0.0, 0.0, beyond) * -np.log10(rate)
        return where(self._repeats(block, seen), statistic, 0.0), block[self.rows["previous"]], None

    def update(self, block: Array, series: Index, ts: Array, seen: Array) -> None:
        count, run = block[self.count], block[self.rows["run"]]
        longest, rate = block[self.rows["longest_run"]], block[self.rows["repeat_rate"]]
        repeated = self._repeats(block, seen)
        decayed = longest * self.longest_decay
        step = _at_least(self.rate_alpha, 1.0 / (count + 1))
        later = count > 0
        longest = where(later & ~repeated, where(run > decayed, run, decayed), longest)
        block[self.rows["run"]] = where(later, where(repeated, run + 1, 0.0), run)  # `run` is a view: write last
        block[self.rows["longest_run"]] = longest
        block[self.rows["repeat_rate"]] = where(later, rate + step * (where(repeated, 1.0, 0.0) - rate), rate)
        block[self.rows["previous"]] = seen
        block[self.count] = count + 1


class SeasonalColumns(MemberColumns):
    """`SeasonalDetector`: robust z against a per-bucket profile plus level offset and, where it fits, the
    weekly correction (profiles and weekly blocks kept outside the block)."""

    fields = (
        "first_ts", "last_ts", "offset", "scale", "seasoned",
        "daily_error", "weekly_error", "open_block", "open_day_mean", "open_sum", "open_count", "week_from",
    )  # fmt: skip
    int_fields = frozenset({"seasoned", "open_block", "open_count"})
    outside_fields = frozenset({"profile", "visits", "week", "week_visits"})
    _outside_names = ("profile", "visits", "week", "week_visits")

    def __init__(self, layout: Layout, label: str, component: CalibratedDetector) -> None:
        super().__init__(layout, label, component)
        seasonal: Any = component
        self.period, self.buckets = seasonal.period_seconds, seasonal.buckets
        self.profile_alpha, self.offset_alpha = seasonal.profile_alpha, seasonal.offset_alpha
        self.scale_alpha, self.clip = seasonal.scale_alpha, seasonal.clip
        self.week_buckets, self.week_alpha = seasonal.week_buckets, seasonal.week_alpha
        self.weekly_gain, self.error_alpha = seasonal.weekly_gain, seasonal.error_alpha
        self.profile: Array = np.zeros((0, self.buckets))
        self.visits: Array = np.zeros((0, self.buckets))
        self.week: Array = np.zeros((0, self.week_buckets))
        self.week_visits: Array = np.zeros((0, self.week_buckets))

    def grow(self, capacity: int) -> None:
        super().grow(capacity)
        for name in self._outside_names:
            old: Array = getattr(self, name)
            grown = np.zeros((capacity, old.shape[1]))
            grown[: old.shape[0]] = old
            setattr(self, name, grown)

    def ready(self, block: Array) -> Mask:
        covered = block[self.rows["last_ts"]] - block[self.rows["first_ts"]] >= self.period
        ready: Mask = (block[self.count] > 0) & covered & (block[self.rows["seasoned"]] >= self.buckets)
        return ready

    def _weekly(self, block: Array) -> Mask:
        """`SeasonalDetector.weekly` of every column (`_weekly_fits` of its state)."""
        span = block[self.rows["last_ts"]] - block[self.rows["week_from"]]
        errors = block[self.rows["weekly_error"]] < self.weekly_gain * block[self.rows["daily_error"]]
        weekly: Mask = (span >= WEEKS_BEFORE_WEEKLY * WEEK_SECONDS) & errors
        return weekly

    def _bucket(self, ts: Array) -> Index:
        position = (np.remainder(ts, self.period) / self.period * self.buckets).astype(np.intp)
        return position % self.buckets  # type: ignore[no-any-return]

    def _week_block(self, ts: Array) -> Index:
        position = (np.remainder(ts, WEEK_SECONDS) / WEEK_SECONDS * self.week_buckets).astype(np.intp)
        return position % self.week_buckets  # type: ignore[no-any-return]

    def _scale(self, scale: Array, around: Array) -> Array:
        floor = _floor(around)
        return where(~(scale < floor), scale, floor)

    def judge(self, block: Array, series: Index, ts: Array, seen: Array) -> Judged:
        expected = self.profile[series, self._bucket(ts)] + block[self.rows["offset"]]
        expected = where(self._weekly(block), expected + self.week[series, self._week_block(ts)], expected)
        scale = self._scale(block[self.rows["scale"]], expected)
        return np.abs(seen - expected) / scale, expected, BAND * scale

    def update(self, block: Array, series: Index, ts: Array, seen: Array) -> None:
        count, first = block[self.count], block[self.count] == 0
        weekly = self._weekly(block)
        first_ts = where(first, ts, block[self.rows["first_ts"]])
        offset = where(first, seen, block[self.rows["offset"]])
        bucket = self._bucket(ts)
        seasonal = seen - offset
        visits, profile = self.visits[series, bucket], self.profile[series, bucket]
        week_block = self._week_block(ts)
        correction = self.week[series, week_block]
        tracked = (visits > 0) & (count > 0)
        seasoned = block[self.rows["seasoned"]] + where(tracked, 1.0, 0.0)
        block[self.rows["seasoned"]] = seasoned
        self._track_week(block, series, tracked, week_block, seasonal - profile, correction)
        profile = where(
            visits == 0, seasonal, profile + _at_least(self.profile_alpha, 1.0 / (visits + 1)) * (seasonal - profile)
        )
        self.profile[series, bucket] = profile
        self.visits[series, bucket] = visits + 1
        residual = seen - profile - offset
        residual = where(weekly, residual - correction, residual)
        offset = offset + self.offset_alpha * residual
        old = block[self.rows["scale"]]
        scale = self._scale(old, offset)
        clipped = np.abs(residual)
        cap = self.clip * scale
        clip = (ts - first_ts >= self.period) & (seasoned >= self.buckets)
        clipped = where(clip & (cap < clipped), cap, clipped)
        block[self.rows["scale"]] = old + _at_least(self.scale_alpha, 1.0 / (count + 1)) * (clipped - old)
        block[self.rows["first_ts"]] = first_ts
        block[self.rows["week_from"]] = where(first, ts, block[self.rows["week_from"]])
        block[self.rows["last_ts"]] = ts
        block[self.rows["offset"]] = offset
        block[self.count] = count + 1

    def _track_week(
        self, block: Array, series: Index, tracked: Mask, week_block: Index, residual: Array, correction: Array
    ) -> None:
        """`SeasonalDetector._track_week` on the `tracked` columns: the open visit, then both errors."""
        open_block = block[self.rows["open_block"]]
        moved = tracked & (week_block != open_block)
        folded = moved & (open_block >= 0) & (block[self.rows["open_count"]] > 0)
        self._fold_visits(block, series[folded], folded)
        block[self.rows["open_block"]] = where(moved, week_block.astype(np.float64), open_block)
        day_mean = block[self.rows["open_day_mean"]]
        if moved.any():
            day_mean = where(moved, self._day_mean(series, week_block), day_mean)
            block[self.rows["open_day_mean"]] = day_mean
        open_sum, open_count = block[self.rows["open_sum"]], block[self.rows["open_count"]]
        block[self.rows["open_sum"]] = where(tracked, open_sum + residual, open_sum)
        block[self.rows["open_count"]] = where(tracked, open_count + 1, open_count)
        scored = tracked & (self.week_visits[series, week_block] > 0)
        scale = block[self.rows["scale"]]
        cap = self.clip * where(scale > ABS_SCALE_FLOOR, scale, ABS_SCALE_FLOOR)
        plain = np.abs(residual - day_mean)
        weekly = np.abs(residual - correction)
        plain = where(plain > cap, cap, plain)
        weekly = where(weekly > cap, cap, weekly)
        for name, error in (("daily_error", plain), ("weekly_error", weekly)):
            old = block[self.rows[name]]
            block[self.rows[name]] = where(scored, old + self.error_alpha * (error - old), old)

    def _fold_visits(self, block: Array, series: Index, folded: Mask) -> None:
        """`SeasonalDetector._fold_visit` for the `folded` columns (`series` are theirs, in order)."""
        if not folded.any():
            return
        open_block = block[self.rows["open_block"]][folded].astype(np.intp)
        mean = block[self.rows["open_sum"]][folded] / block[self.rows["open_count"]][folded]
        weeks, correction = self.week_visits[series, open_block], self.week[series, open_block]
        rate = _at_least(self.week_alpha, 1.0 / (weeks + 1))
        self.week[series, open_block] = where(weeks == 0, mean, correction + rate * (mean - correction))
        self.week_visits[series, open_block] = weeks + 1
        block[self.rows["open_sum"]] = where(folded, 0.0, block[self.rows["open_sum"]])
        block[self.rows["open_count"]] = where(folded, 0.0, block[self.rows["open_count"]])

    def _day_mean(self, series: Index, week_block: Index) -> Array:
        """`SeasonalDetector._day_mean`: the block's correction averaged over the days of the week seen."""
        per_day = self.week_buckets // 7
        first = week_block % per_day
        total = np.zeros(len(series))
        days = np.zeros(len(series))
        for day in range(7):
            day_block = first + day * per_day
            seen = self.week_visits[series, day_block] > 0
            total = where(seen, total + self.week[series, day_block], total)
            days = days + where(seen, 1.0, 0.0)
        return where(days > 0, total / np.where(days > 0, days, 1.0), 0.0)

    def _outside(self, series: int, column: list[float], name: str) -> Any:
        if name in ("profile", "week"):
            return getattr(self, name)[series].tolist()
        if name in ("visits", "week_visits"):
            counts: list[int] = getattr(self, name)[series].astype(np.int64).tolist()
            return counts
        return super()._outside(series, column, name)

    def export(self, series: int, column: Array, component: CalibratedDetector) -> None:
        seasonal: Any = component
        seasonal.profile = self.profile[series].tolist()
        seasonal.visits = [int(visits) for visits in self.visits[series]]
        seasonal.week = self.week[series].tolist()
        seasonal.week_visits = [int(weeks) for weeks in self.week_visits[series]]
        super().export(series, column, component)
        seasonal.weekly = seasonal._weekly_fits()

    def load(self, series: int, column: Array, component: CalibratedDetector) -> None:
        seasonal: Any = component
        for name in self._outside_names:
            values, width = getattr(seasonal, name), getattr(self, name).shape[1]
            if len(values) != width:
                raise ValueError(f"seasonal {name} has {len(values)} entries, the bank {width}")
            getattr(self, name)[series] = values
        super().load(series, column, component)


MEMBER_COLUMNS: dict[str, type[MemberColumns]] = {
    "LevelDetector": LevelColumns,
    "VarianceDetector": VarianceColumns,
    "DriftDetector": DriftColumns,
    "SeasonalDetector": SeasonalColumns,
    "FlatLineDetector": FlatLineColumns,
}
"""Vectorised counterpart of each scalar member class, by exact class name."""
