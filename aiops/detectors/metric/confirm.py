"""Confirmation of a deviation statistic: the smallest value of the last N points, this one included.

`HeldStatistic` is a mixin for `CalibratedDetector` subclasses whose statistic should count only once a
deviation has held: with `confirm_points` N > 1 the detector scores, and feeds its tail, the minimum of
its raw statistic over the last N points, so an excursion shorter than N points never scores above its
own smallest value while a lasting one is reported N - 1 points later. The raw statistics of the previous
N - 1 points are state (`recent`, oldest first; snapshots from before it load with none); their minimum
(`held`, infinity while empty) is derived. The detectors update both in `absorb` (inlined, hot path):
append this point's raw statistic as `judge` computed it; once `recent` holds N values, drop the oldest
and recompute `held = min(recent)` if the dropped one equalled `held`, else (or while filling) lower
`held` to the new value when smaller. It does not compute any statistic itself.
"""

from __future__ import annotations

import math
from typing import Any


class HeldStatistic:
    """Keeps the last `confirm_points - 1` raw statistics and their minimum; N = 1 keeps nothing."""

    confirm_points: int
    recent: list[float]
    held: float

    def _init_held(self, confirm_points: int) -> None:
        self.confirm_points = confirm_points
        self.recent = []
        """Raw statistics of the previous `confirm_points - 1` points, oldest first."""
        self.held = math.inf
        """min(recent), or infinity while it is empty (derived, not saved)."""

    def load(self, snapshot: dict[str, Any]) -> None:
        """The detector's `load`; a snapshot from before the confirmation has no recent statistics."""
        state = snapshot["state"]
        if "recent" not in state:
            snapshot = {**snapshot, "state": {**state, "recent": []}}
        super().load(snapshot)  # type: ignore[misc]  # the detector class after this mixin
        self.held = min(self.recent) if self.recent else math.inf
