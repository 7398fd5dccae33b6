"""Shared skeleton of the statistic-plus-tail metric detectors.

A `CalibratedDetector` subclass computes one non-negative deviation statistic per point and the baseline
it was judged against (`judge`, pure) and folds the point into its own state (`_update`); this base turns
the statistic into a calibrated score through `PeaksOverThreshold`, caches the statistic between `score`
and `learn` of the same point (so each point is evaluated once), and handles warm-up and snapshot/restore
of the tail model. It does not define any statistic itself.

Hot path: the ensemble calls `judge` only on `ready` detectors and hands the statistic back to `absorb`,
so a point costs two calls per member. `ready` is a cached attribute refreshed after every `learn`/`load`.
Subclasses written against the older hooks (`_statistic` returning a `Baseline`, `_update` that reads the
statistic) keep working: `judge` falls back to `_statistic`, and with `lazy_statistic = False` (the
default) `_update` always receives the real statistic.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Self

from aiops.detectors.base import PointScore, non_finite_point, point_score
from aiops.detectors.metric.tail import PeaksOverThreshold, surprise_to_score

Judgement = tuple[float, float | None, float | None]
"""(statistic, baseline centre, baseline half-width) of one point."""


class Baseline:
    """What a detector expected: centre and half-width of the normal band (3 robust sigmas)."""

    __slots__ = ("centre", "spread")

    def __init__(self, centre: float | None = None, spread: float | None = None) -> None:
        self.centre = centre
        self.spread = spread


class CalibratedDetector:
    """Base of detectors that score `-log10(tail p)` of one statistic; subclasses fill the hooks."""

    name: str = "calibrated"
    state_fields: ClassVar[tuple[str, ...]] = ()
    """Instance attributes (JSON-able) that make up the subclass' learnt state."""
    uses_tail: ClassVar[bool] = True
    """False when the statistic already is a calibrated surprise (-log10 p)."""
    lazy_statistic: ClassVar[bool] = False
    """True when `_update` ignores its `statistic` argument, so it is only computed when the tail needs it."""
    describes_shape: ClassVar[bool] = False
    """The statistic measures the series' shape (stuck, noisier or quieter), not its distance from the expected
    value: verdicts it decides say so (`PointScore.shape`)."""

    def __init__(self, warmup_points: int = 30, tail: PeaksOverThreshold | None = None) -> None:
        self.warmup_points = warmup_points
        self.tail = tail if tail is not None else PeaksOverThreshold()
        self.count = 0
        self.ready = warmup_points <= 0
        """Cached `_ready()`, refreshed whenever the state changes."""
        self._cache: tuple[float, float, Judgement] | None = None
        """(ts, value, its judgement) of the point `score` judged last, until `learn` folds it in."""

    # --- hooks -----------------------------------------------------------------------------------
    def _ready(self) -> bool:
        """The statistic is meaningful (enough history); before that it is neither scored nor fitted."""
        return self.count >= self.warmup_points

    def judge(self, ts: float, value: float) -> Judgement:
        """Statistic and baseline of a point against the current state (pure; needs `count > 0`)."""
        statistic, baseline = self._statistic(ts, value)
        return statistic, baseline.centre, baseline.spread

    def _statistic(self, ts: float, value: float) -> tuple[float, Baseline]:
        """Older hook: statistic plus `Baseline`; subclasses override either this or `judge`."""
        raise NotImplementedError

    def _update(self, ts: float, value: float, statistic: float) -> None:
        raise NotImplementedError

    # --- protocol ----------------------------------------------------------------------------------
    @property
    def warm(self) -> bool:
        return self.ready and (self.tail.fitted or not self.uses_tail)

    def surprise(self, ts: float, value: float) -> tuple[float, Baseline]:
        """-log10(tail p) of the point and the baseline it was judged against, without changing state."""
        statistic, centre, spread = self._evaluate(ts, value)
        baseline = Baseline(centre, spread)
        if not self.ready:
            return 0.0, baseline
        if not self.uses_tail:
            return statistic, baseline
        return self.tail.surprise(statistic), baseline

    def score(self, ts: float, value: float) -> PointScore:
        if not _isfinite(value):
            return non_finite_point(self.warm)
        surprise, baseline = self.surprise(ts, value)
        centre, spread = baseline.centre, baseline.spread
        lower = centre - spread if centre is not None and spread is not None else None
        upper = centre + spread if centre is not None and spread is not None else None
        detail, shape = f"{self.name} surprise={surprise:.2f}", self.describes_shape
        return point_score(surprise_to_score(surprise), centre, lower, upper, self.warm, detail, None, shape)

    def learn(self, ts: float, value: float) -> None:
        if not _isfinite(value):
            return
        cached = self._cache
        if cached is not None:
            cached_ts, cached_value, (statistic, _, _) = cached
            if cached_ts == ts and cached_value == value:
                self.absorb(ts, value, statistic)
                return
        self.absorb(ts, value, None)

    def absorb(self, ts: float, value: float, statistic: float | None) -> None:
        """`learn` with the point's statistic already known (None: compute it here if needed)."""
        if statistic is None and (not self.lazy_statistic or (self.ready and self.uses_tail)):
            statistic = self.judge(ts, value)[0] if self.count > 0 else 0.0
        if self.ready and self.uses_tail:
            self.tail.learn(statistic)  # type: ignore[arg-type]  # set just above when needed
        self._update(ts, value, statistic)  # type: ignore[arg-type]  # None only when `_update` ignores it
        self.count += 1
        self.ready = self._ready()
        self._cache = None

    def _evaluate(self, ts: float, value: float) -> Judgement:
        cached = self._cache
        if cached is not None:
            cached_ts, cached_value, judged = cached
            if cached_ts == ts and cached_value == value:
                return judged
        judged = self.judge(ts, value) if self.count > 0 else (0.0, None, None)
        self._cache = (ts, value, judged)
        return judged

    def snapshot(self) -> dict[str, Any]:
        state = {field: getattr(self, field) for field in self.state_fields}
        return {"count": self.count, "tail": self.tail.snapshot(), "state": state}

    def load(self, snapshot: dict[str, Any]) -> None:
        """Overwrite the learnt state from `snapshot()` output; hyper-parameters stay as constructed."""
        self.count = int(snapshot["count"])
        self.tail.load(snapshot["tail"])
        for field in self.state_fields:
            setattr(self, field, _thaw(snapshot["state"][field]))
        self.refresh_derived()

    def refresh_derived(self) -> None:
        """Recompute what derives from the learnt state (`ready`; a subclass' own, such as the seasonal
        member's `weekly`) after that state was set from outside (`load`, the micro-batched bank's export)."""
        self.ready = self._ready()
        self._cache = None

    @classmethod
    def restore(cls, snapshot: dict[str, Any], **params: Any) -> Self:
        """A detector built with `params` whose learnt state is `snapshot`."""
        detector = cls(**params)
        detector.load(snapshot)
        return detector


_isfinite = math.isfinite


def _thaw(value: Any) -> Any:
    """JSON round-trips tuples as lists; the detectors keep lists, so only copy containers."""
    if isinstance(value, list):
        return [_thaw(item) for item in value]
    return value
