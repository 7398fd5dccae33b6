"""Trend and drift detector: EWMA control chart of a fast mean against a slow mean.

`DriftDetector` keeps a fast and a slow EWMA of the value; their gap is small and centred while the
series is stable and grows steadily under a drift or a sustained shift. The gap is standardised by its
own slowly-learnt centre and mean absolute deviation (self-normalising, so autocorrelated series are not
over-flagged) and scored through the peaks-over-threshold tail. It reacts slowly by design and does not
catch single spikes (the level detector does).
"""

from __future__ import annotations

from typing import ClassVar

from aiops.detectors.calibrated import Baseline, CalibratedDetector
from aiops.detectors.level import scale_floor
from aiops.detectors.tail import PeaksOverThreshold


class DriftDetector(CalibratedDetector):
    """Standardised gap between a fast and a slow EWMA."""

    name: str = "drift"
    state_fields: ClassVar[tuple[str, ...]] = ("fast", "slow", "gap_centre", "gap_scale")

    def __init__(
        self,
        *,
        fast_alpha: float = 0.05,
        slow_alpha: float = 0.005,
        gap_alpha: float = 0.002,
        clip: float = 4.0,
        warmup_points: int = 100,
        tail: PeaksOverThreshold | None = None,
    ) -> None:
        # The gap is strongly autocorrelated: its tail must adapt slowly or a drift calibrates itself away.
        super().__init__(warmup_points, tail if tail is not None else PeaksOverThreshold(rate=0.005))
        self.fast_alpha = fast_alpha
        self.slow_alpha = slow_alpha
        self.gap_alpha = gap_alpha
        self.clip = clip
        self.fast = 0.0
        self.slow = 0.0
        self.gap_centre = 0.0
        self.gap_scale = 0.0

    def _gap(self, value: float) -> float:
        fast = self.fast + self.fast_alpha * (value - self.fast)
        slow = self.slow + self.slow_alpha * (value - self.slow)
        return fast - slow

    def _statistic(self, ts: float, value: float) -> tuple[float, Baseline]:
        scale = max(self.gap_scale, scale_floor(self.slow))
        return abs(self._gap(value) - self.gap_centre) / scale, Baseline(self.slow)

    def _update(self, ts: float, value: float, statistic: float) -> None:
        if self.count == 0:
            self.fast = self.slow = value
            return
        gap = self._gap(value)
        self.fast += self.fast_alpha * (value - self.fast)
        self.slow += max(self.slow_alpha, 1.0 / (self.count + 1)) * (value - self.slow)
        deviation = gap - self.gap_centre
        scale = max(self.gap_scale, scale_floor(self.slow))
        if self.count > self.warmup_points:
            deviation = max(-self.clip * scale, min(deviation, self.clip * scale))
        rate = max(self.gap_alpha, 1.0 / self.count)
        self.gap_centre += rate * deviation
        self.gap_scale += rate * (abs(deviation) - self.gap_scale)
