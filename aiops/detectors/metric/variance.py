"""Variance-shift detector: short-term versus long-term size of one-step changes.

`VarianceDetector` tracks the EW mean absolute first difference over a short and a long horizon and
scores the log ratio short/long (increases only) through the peaks-over-threshold tail, so a series that
suddenly gets noisier is flagged even when its level is unchanged. The long horizon learns from clipped
differences so a burst does not immediately become normal. It does not flag a drop in variance (the
flat-line detector covers a signal that stops moving) nor level changes.
"""

# ruff: noqa: PLR1730  # hot path: explicit comparisons instead of min()/max() calls, same results incl. NaN

from __future__ import annotations

import math
from typing import ClassVar

from aiops.detectors.metric.calibrated import CalibratedDetector, Judgement
from aiops.detectors.metric.level import ABS_SCALE_FLOOR, REL_SCALE_FLOOR
from aiops.detectors.metric.tail import PeaksOverThreshold

_log = math.log


class VarianceDetector(CalibratedDetector):
    """Log ratio of short- to long-horizon mean absolute change."""

    name: str = "variance"
    state_fields: ClassVar[tuple[str, ...]] = ("previous", "short", "long")
    lazy_statistic: ClassVar[bool] = True
    describes_shape: ClassVar[bool] = True

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

    def judge(self, ts: float, value: float) -> Judgement:
        previous = self.previous
        short = self.short
        short = short + self.short_alpha * (abs(value - previous) - short)
        floor = abs(previous) * REL_SCALE_FLOOR
        if floor < ABS_SCALE_FLOOR:
            floor = ABS_SCALE_FLOOR
        statistic = _log((short + floor) / (self.long + floor))
        return (0.0 if statistic < 0.0 else statistic), None, None

    def absorb(self, ts: float, value: float, statistic: float | None) -> None:
        count = self.count
        if self.ready:
            if statistic is None:
                statistic = self.judge(ts, value)[0] if count else 0.0
            self.tail.learn(statistic)
        if count:
            change = abs(value - self.previous)
            self.short += self.short_alpha * (change - self.short)
            long = self.long
            capped = change
            if count > self.warmup_points:
                cap = self.clip * long
                if cap < capped:
                    capped = cap
            rate = self.long_alpha
            if 1.0 / count > rate:
                rate = 1.0 / count
            self.long = long + rate * (capped - long)
        self.previous = value
        self.count = count + 1
        self.ready = count + 1 >= self.warmup_points
        self._cache = None
