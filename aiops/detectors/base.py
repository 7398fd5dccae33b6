"""Detector protocols shared by every metric and log detector.

`SeriesDetector` is the online interface of one univariate series: `score` a point without changing
state, then `learn` from it; `warm` says whether the baseline is trustworthy yet. Scores are calibrated to
[0, 1] (1 - tail probability) so that one threshold works across very different series; the verdict is a
`PointScore` (`point_score` builds one fast). `LogDetector` consumes log events and emits anomaly
signals, with `advance` closing event-time windows. Nothing here reads the clock: every method takes event
time in epoch seconds. No detector lives here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from aiops.events import LogEvent
from aiops.signals import Signal


@dataclass(frozen=True, slots=True)
class PointScore:
    """The verdict on one point: calibrated score plus the baseline that explains it."""

    score: float
    expected: float | None = None
    lower: float | None = None
    upper: float | None = None
    warm: bool = True
    detail: str = ""
    undamped: float | None = None
    """The score before the detector's own repeat damping (None: not damped, same as `score`). A detector
    that reports only the news of an alert episode (the ensemble) scores its later points low; this says
    whether they are still anomalous, which confirms a just-opened episode (`min_anomalous_points`)."""
    shape: ClassVar[bool] = False
    """The verdict is about the series' shape (stuck, noisier or quieter than usual), not its distance from
    `expected`: True for a `ShapeScore`. The episode tracker's significance gate does not measure such a
    verdict by that distance."""


class ShapeScore(PointScore):
    """A verdict decided by the series' shape (a flat line, a variance change): `shape` is True. Same fields,
    so snapshots (which keep the fields) restore it as a plain `PointScore`; only the current point's
    verdict is gated. A kind rather than a field: one more field costs every verdict a slot write."""

    __slots__ = ()
    shape: ClassVar[bool] = True


_POINT_FIELDS = ("score", "expected", "lower", "upper", "warm", "detail", "undamped")
PointMaker = Callable[[float, float | None, float | None, float | None, bool, str, float | None, bool], PointScore]
"""A verdict from (score, expected, lower, upper, warm, detail, undamped, shape), all positional: a
`ShapeScore` when `shape`, else a `PointScore`."""


def _point_score_factory() -> PointMaker:
    """A maker of `PointScore`s, faster than the frozen dataclass' constructor.

    A frozen dataclass' `__init__` sets each field through `object.__setattr__`, which costs as much as the
    rest of the ensemble's `score`. With slots, the field descriptors can set them directly on a bare
    instance, giving an equal object. Used only while `PointScore` is exactly that shape (same fields,
    slots, no `__post_init__`); otherwise the class itself.
    """
    fields = tuple(field.name for field in dataclasses.fields(PointScore))  # `shape` is a ClassVar, not a field
    if fields != _POINT_FIELDS or hasattr(PointScore, "__post_init__") or "__slots__" not in vars(PointScore):
        return _plain_point_score
    new = object.__new__
    setters = tuple(vars(PointScore)[field].__set__ for field in _POINT_FIELDS)
    set_score, set_expected, set_lower, set_upper, set_warm, set_detail, set_undamped = setters

    def make(
        score: float, expected: float | None, lower: float | None, upper: float | None, warm: bool, detail: str,
        undamped: float | None, shape: bool,
    ) -> PointScore:
        point = new(ShapeScore if shape else PointScore)
        set_score(point, score)
        set_expected(point, expected)
        set_lower(point, lower)
        set_upper(point, upper)
        set_warm(point, warm)
        set_detail(point, detail)
        set_undamped(point, undamped)
        return point

    return make


def _plain_point_score(
    score: float, expected: float | None, lower: float | None, upper: float | None, warm: bool, detail: str,
    undamped: float | None, shape: bool,
) -> PointScore:
    return (ShapeScore if shape else PointScore)(score, expected, lower, upper, warm, detail, undamped)


point_score = _point_score_factory()
"""Builds a verdict from all its fields and `shape`, positionally (the detectors' hot paths use it)."""


NON_FINITE_DETAIL = "non-finite value ignored"


def non_finite_point(warm: bool) -> PointScore:
    """The verdict on a NaN/inf sample: not anomalous, not learnt (the event contract already rejects such
    samples as data-quality dead letters; this keeps library and file users from an exception)."""
    return PointScore(0.0, None, None, None, warm, NON_FINITE_DETAIL)


class SeriesDetector(Protocol):
    """Online detector of one univariate series, O(1) amortised work and bounded memory per point."""

    name: str

    @property
    def warm(self) -> bool: ...

    def score(self, ts: float, value: float) -> PointScore:
        """Score `value` at event time `ts` against the current state, without changing it."""
        ...

    def learn(self, ts: float, value: float) -> None:
        """Fold the point into the state."""
        ...

    def snapshot(self) -> dict[str, Any]:
        """JSON-serialisable state, for restart-safety."""
        ...


SeriesDetectorFactory = Callable[[], SeriesDetector]
"""Makes a fresh detector for a new series."""


class LogDetector(Protocol):
    """Consumes log events of all services; emits log anomaly signals on event time."""

    def observe(self, event: LogEvent) -> list[Signal]:
        """Take one log event; return signals it completes (often none)."""
        ...

    def advance(self, now: float) -> list[Signal]:
        """Event time reached `now`: close windows, end episodes, return resulting signals."""
        ...
