"""Detector protocols shared by every metric and log detector.

`SeriesDetector` is the online interface of one univariate series: `score` a point without changing
state, then `learn` from it; `warm` says whether the baseline is trustworthy yet. Scores are calibrated to
[0, 1] (1 - tail probability) so that one threshold works across very different series. `LogDetector`
consumes log events and emits anomaly signals, with `advance` closing event-time windows. Nothing here
reads the clock: every method takes event time in epoch seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

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
