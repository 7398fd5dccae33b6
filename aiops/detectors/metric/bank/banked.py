"""The default ensemble on the micro-batched path, behind the per-series `SeriesDetector` interface.

`BankedEnsembles` owns one `EnsembleBank` and hands out `BankedSeries`, one per metric series, which the
episode tracker uses like any `MetricEnsemble` (`score`, `learn`, `snapshot`; restored from the same
snapshot format). Before a batch of events is handed to the tracker one by one, `prescore` scores and
learns all of the batch's metric samples at once and queues each verdict on its series; the tracker's
`score` then just takes it and `learn` drops it. The bank takes as many rounds as pay (`BankedEnsembles`);
the rest, and whatever was not prescored (a series evicted and readmitted within the batch, a caller that
never prescores), go through the scalar ensemble: same results, slower. Series not live yet get their
detector ready in advance (`make_for(key)` hands it out when the tracker admits that key). Verdicts are
the scalar ensemble's, point for point (see `ensemble_bank.py`). A series' bank index is released when
its detector is dropped (eviction, `forget`). One difference from the scalar path: a prescored sample
that the tracker never sees (the stage failed on that event before the tracker ran) has still been
learnt. No I/O, no clock.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from aiops.detectors.base import PointScore, SeriesDetector
from aiops.detectors.metric.bank.ensemble_bank import EnsembleBank, ranks
from aiops.detectors.metric.bank.layout import Index
from aiops.detectors.metric.ensemble import MetricEnsemble
from aiops.events import MetricEvent, series_key

ROUND_COST, BANK_POINT_COST, FILL_COST = 45.0, 0.1, 4.0
"""Measured costs in units of one point scored and learnt by the scalar ensemble (~20 us): a bank round
(fixed numpy overhead), each point in a round, filling a scalar ensemble from the bank and writing it back."""
_Prescored = tuple[float, float, PointScore]
"""(ts, value, verdict) of a point the bank has already learnt."""


def _same(left: float, right: float) -> bool:
    return left == right or (left != left and right != right)  # noqa: PLR0124 - NaN equals NaN here


class BankedSeries:
    """One series of a `BankedEnsembles`: the `SeriesDetector` interface over its bank index."""

    name = MetricEnsemble.name
    __slots__ = ("_learnt", "_owner", "_queue", "index")

    def __init__(self, owner: BankedEnsembles, index: int) -> None:
        self._owner = owner
        self.index = index
        self._queue: deque[_Prescored] = deque()
        self._learnt: tuple[float, float, PointScore] | None = None
        """A point scored on the spot (so already learnt) whose `learn` is still to come."""

    def __del__(self) -> None:  # the tracker dropped this series (eviction, `forget`): free its bank index
        self._owner.bank.release(self.index)

    @property
    def warm(self) -> bool:
        return self._owner.bank.detector(self.index).warm

    def belongs_to(self, owner: BankedEnsembles) -> bool:
        return self._owner is owner

    def clear(self) -> None:
        """Forget verdicts left from earlier batches (of events the tracker never saw)."""
        self._queue.clear()
        self._learnt = None

    def prescored(self, ts: float, value: float, verdict: PointScore) -> None:
        """Queue the verdict of a point the bank has just scored and learnt for this series."""
        self._queue.append((ts, value, verdict))

    def score(self, ts: float, value: float) -> PointScore:
        queue = self._queue
        while queue and not (_same(queue[0][0], ts) and _same(queue[0][1], value)):
            queue.popleft()  # prescored for an event the tracker never saw
        if queue:
            return queue[0][2]
        learnt = self._learnt
        if learnt is not None and _same(learnt[0], ts) and _same(learnt[1], value):
            return learnt[2]
        verdict = self._owner.scalar(self.index, [(ts, value)])[0]
        self._learnt = (ts, value, verdict)
        return verdict

    def learn(self, ts: float, value: float) -> None:
        queue = self._queue
        if queue and _same(queue[0][0], ts) and _same(queue[0][1], value):
            queue.popleft()
            return
        learnt = self._learnt
        self._learnt = None
        if learnt is None or not (_same(learnt[0], ts) and _same(learnt[1], value)):
            self._owner.scalar(self.index, [(ts, value)])

    def snapshot(self) -> dict[str, Any]:
        return self._owner.bank.snapshot(self.index)


class BankedEnsembles:
    """Factory, restorer and batch scorer of `BankedSeries` sharing one `EnsembleBank`.

    The bank takes the batch's first round (one point per series) and as many further rounds as pays
    (`_bank_rounds`: a round has a fixed numpy cost of ~45 scalar points); a series' points after those (a
    catch-up batch of a few series with many points each) go through the scalar ensemble filled from and
    written back to the bank.
    """

    def __init__(self, **params: Any) -> None:
        self.bank = EnsembleBank(**params)
        self._pending: dict[str, BankedSeries] = {}
        """Detectors `prescore` made for series not live yet, by key, until the tracker admits them."""

    def make(self) -> SeriesDetector:
        """A fresh detector."""
        return BankedSeries(self, self.bank.allocate())

    def make_for(self, key: str) -> SeriesDetector:
        """The detector of series `key` being admitted: the one `prescore` made for it, else a fresh one."""
        pending = self._pending.pop(key, None)
        return pending if pending is not None else self.make()

    def restore(self, state: dict[str, Any]) -> SeriesDetector:
        """A detector whose state is `state` (a `MetricEnsemble` snapshot)."""
        series = BankedSeries(self, self.bank.allocate())
        self.bank.restore(series.index, state)
        return series

    def prescore(self, events: list[MetricEvent], live: Callable[[str], SeriesDetector | None]) -> list[str]:
        """Score and learn the samples of `events` (in order) now; `live` finds a key's current detector.

        Returns the events' series keys, so the caller need not compute them again.
        """
        self._pending.clear()  # left over from a batch whose events never reached the tracker
        keys: list[str] = []
        targets: list[BankedSeries] = []
        stamps: list[float] = []
        values: list[float] = []
        pending = self._pending
        for event in events:
            key = series_key(event)
            keys.append(key)
            target = live(key)
            if not isinstance(target, BankedSeries) or not target.belongs_to(self):
                target = pending.get(key)
                if target is None:
                    target = pending[key] = BankedSeries(self, self.bank.allocate())
            targets.append(target)
            stamps.append(event.epoch)
            values.append(event.value)
        if targets:
            self._score(targets, stamps, values)
        return keys

    def _score(self, targets: list[BankedSeries], stamps: list[float], values: list[float]) -> None:
        """The bank scores the batch's first `wide` rounds (`_bank_rounds`); each series' points after those
        go through the scalar ensemble (same verdicts and state)."""
        for target in targets:
            target.clear()
        indices = np.fromiter((target.index for target in targets), np.intp, len(targets))
        rank = ranks(indices)
        wide = _bank_rounds(np.bincount(rank))
        banked = np.flatnonzero(rank < wide)
        verdicts = self.bank.process(indices[banked], np.array(stamps)[banked], np.array(values)[banked]).points()
        for position, verdict in zip(banked.tolist(), verdicts, strict=True):
            targets[position].prescored(stamps[position], values[position], verdict)
        rest: dict[BankedSeries, list[int]] = {}
        for position in np.flatnonzero(rank >= wide).tolist():
            rest.setdefault(targets[position], []).append(position)
        for target, positions in rest.items():
            points = [(stamps[position], values[position]) for position in positions]
            for (stamp, value), verdict in zip(points, self.scalar(target.index, points), strict=True):
                target.prescored(stamp, value, verdict)

    def scalar(self, series: int, points: list[tuple[float, float]]) -> list[PointScore]:
        """Score then learn `points` (ts, value) of bank series `series` in order with the scalar ensemble
        (filled from and written back to the bank): cheaper than one bank round per point."""
        detector = self.bank.detector(series)
        verdicts: list[PointScore] = []
        for ts, value in points:
            verdicts.append(detector.score(ts, value))
            detector.learn(ts, value)
        self.bank.load(series, detector)
        return verdicts


def _bank_rounds(widths: Index) -> int:
    """How many leading rounds (`widths[r]` series in round r; at least one) the bank should score so that
    the estimated cost, the remaining points going through filled scalar ensembles, is least."""
    rounds = np.arange(1, widths.size + 1)
    banked = np.cumsum(widths)
    filled = np.append(widths[1:], 0)  # series with points left after the first R rounds
    cost = ROUND_COST * rounds + BANK_POINT_COST * banked + FILL_COST * filled + (banked[-1] - banked)
    return int(np.argmin(cost)) + 1
