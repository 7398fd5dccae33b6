"""Spike, dip and level-shift detector: robust residual from an exponentially weighted level.

`LevelDetector` keeps an EWMA level and an EW mean absolute residual (updated with residuals clipped at
`clip` scales, so one outlier does not inflate the scale) and scores ``|value - level| / scale`` through
the peaks-over-threshold tail. A fast level (alpha near 1) reacts to spikes and steps; a slow level
(small alpha) keeps flagging a sustained shift or drift for longer. It does not model seasonality or
variance changes (see `seasonal.py`, `variance.py`).
"""

from __future__ import annotations

from typing import ClassVar

from aiops.detectors.calibrated import Baseline, CalibratedDetector
from aiops.detectors.tail import PeaksOverThreshold

_MAD_TO_SIGMA = 1.2533
"""Mean absolute deviation to standard deviation of a Gaussian."""
_REL_SCALE_FLOOR = 1e-6
_ABS_SCALE_FLOOR = 1e-9


def scale_floor(level: float) -> float:
    """Smallest residual scale used for a series at `level`, so constant series stay finite."""
    return max(abs(level) * _REL_SCALE_FLOOR, _ABS_SCALE_FLOOR)


class LevelDetector(CalibratedDetector):
    """Robust z of the value against an EWMA level."""

    name: str = "level"
    state_fields: ClassVar[tuple[str, ...]] = ("level", "scale")

    def __init__(
        self,
        *,
        alpha: float = 0.5,
        scale_alpha: float = 0.02,
        clip: float = 4.0,
        warmup_points: int = 30,
        tail: PeaksOverThreshold | None = None,
    ) -> None:
        super().__init__(warmup_points, tail)
        self.alpha = alpha
        self.scale_alpha = scale_alpha
        self.clip = clip
        self.level = 0.0
        self.scale = 0.0

    def _statistic(self, ts: float, value: float) -> tuple[float, Baseline]:
        scale = max(self.scale, scale_floor(self.level))
        return abs(value - self.level) / scale, Baseline(self.level, 3.0 * _MAD_TO_SIGMA * scale)

    def _update(self, ts: float, value: float, statistic: float) -> None:
        if self.count == 0:
            self.level = value
            return
        residual = value - self.level
        scale = max(self.scale, scale_floor(self.level))
        clipped = min(abs(residual), self.clip * scale) if self.count > self.warmup_points else abs(residual)
        rate = max(self.scale_alpha, 1.0 / self.count)
        self.scale += rate * (clipped - self.scale)
        self.level += max(self.alpha, 1.0 / (self.count + 1)) * residual
