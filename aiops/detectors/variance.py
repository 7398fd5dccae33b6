"""Variance-shift detector: short-term versus long-term size of one-step changes.

`VarianceDetector` tracks the EW mean absolute first difference over a short and a long horizon and
scores the log ratio short/long (increases only) through the peaks-over-threshold tail, so a series that
suddenly gets noisier is flagged even when its level is unchanged. The long horizon learns from clipped
differences so a burst does not immediately become normal. It does not flag a drop in variance (the
flat-line detector covers a signal that stops moving) nor level changes.
"""

from __future__ import annotations

import math
from typing import ClassVar

from aiops.detectors.calibrated import Baseline, CalibratedDetector
from aiops.detectors.level import scale_floor
from aiops.detectors.tail import PeaksOverThreshold


class VarianceDetector(CalibratedDetector):
    """Log ratio of short- to long-horizon mean absolute change."""

    name: str = "variance"
    state_fields: ClassVar[tuple[str, ...]] = ("previous", "short", "long")

    def __init__(
        self,
        *,
        short_alpha: float = 0.1,
        long_alpha: float = 0.005,
        clip: float = 6.0,
        warmup_points: int = 60,
        tail: PeaksOverThreshold | None = None,
    ) -> None:
        super().__init__(warmup_points, tail)
        self.short_alpha = short_alpha
        self.long_alpha = long_alpha
        self.clip = clip
        self.previous = 0.0
        self.short = 0.0
        self.long = 0.0

    def _statistic(self, ts: float, value: float) -> tuple[float, Baseline]:
        change = abs(value - self.previous)
        short = self.short + self.short_alpha * (change - self.short)
        floor = scale_floor(self.previous)
        ratio = (short + floor) / (self.long + floor)
        return max(math.log(ratio), 0.0), Baseline()

    def _update(self, ts: float, value: float, statistic: float) -> None:
        if self.count == 0:
            self.previous = value
            return
        change = abs(value - self.previous)
        self.short += self.short_alpha * (change - self.short)
        capped = min(change, self.clip * self.long) if self.count > self.warmup_points else change
        self.long += max(self.long_alpha, 1.0 / self.count) * (capped - self.long)
        self.previous = value
