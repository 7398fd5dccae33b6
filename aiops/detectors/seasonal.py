"""Seasonal detector: residual against a time-of-period profile (daily by default).

`SeasonalDetector` splits the period (e.g. 86400 s) into buckets by event time, keeps an EW mean of the
de-levelled value per bucket plus a fast EW level offset, and scores the robust z of
``value - (profile[bucket] + offset)`` through the peaks-over-threshold tail. Memory is one float per
bucket. It only scores after a full period has been seen; a series without seasonality just gets a
profile of noise and a correspondingly wide, calibrated tail. It does not detect the period itself.
"""

from __future__ import annotations

from typing import ClassVar

from aiops.detectors.calibrated import Baseline, CalibratedDetector
from aiops.detectors.level import scale_floor
from aiops.detectors.tail import PeaksOverThreshold

_MAD_TO_SIGMA = 1.2533


class SeasonalDetector(CalibratedDetector):
    """Robust z of the value against a per-bucket seasonal profile plus level offset."""

    name: str = "seasonal"
    state_fields: ClassVar[tuple[str, ...]] = ("first_ts", "last_ts", "offset", "scale", "profile", "visits")

    def __init__(
        self,
        *,
        period_seconds: float = 86400.0,
        buckets: int = 48,
        profile_alpha: float = 0.1,
        offset_alpha: float = 0.1,
        scale_alpha: float = 0.01,
        clip: float = 4.0,
        tail: PeaksOverThreshold | None = None,
    ) -> None:
        super().__init__(warmup_points=2, tail=tail)
        self.period_seconds = period_seconds
        self.buckets = buckets
        self.profile_alpha = profile_alpha
        self.offset_alpha = offset_alpha
        self.scale_alpha = scale_alpha
        self.clip = clip
        self.first_ts = 0.0
        self.last_ts = 0.0
        self.offset = 0.0
        self.scale = 0.0
        self.profile = [0.0] * buckets
        self.visits = [0] * buckets

    def _bucket(self, ts: float) -> int:
        return int((ts % self.period_seconds) / self.period_seconds * self.buckets) % self.buckets

    def _ready(self) -> bool:
        return self.count > 0 and self._covered_period

    @property
    def _covered_period(self) -> bool:
        return self.last_ts - self.first_ts >= self.period_seconds

    def _statistic(self, ts: float, value: float) -> tuple[float, Baseline]:
        expected = self.profile[self._bucket(ts)] + self.offset
        scale = max(self.scale, scale_floor(expected))
        return abs(value - expected) / scale, Baseline(expected, 3.0 * _MAD_TO_SIGMA * scale)

    def _update(self, ts: float, value: float, statistic: float) -> None:
        self.last_ts = ts
        if self.count == 0:
            self.first_ts = ts
            self.offset = value
        bucket = self._bucket(ts)
        seasonal = value - self.offset
        visits = self.visits[bucket]
        if visits == 0:
            self.profile[bucket] = seasonal
        else:
            rate = max(self.profile_alpha, 1.0 / (visits + 1))
            self.profile[bucket] += rate * (seasonal - self.profile[bucket])
        self.visits[bucket] = visits + 1
        residual = value - self.profile[bucket] - self.offset
        self.offset += self.offset_alpha * residual
        scale = max(self.scale, scale_floor(self.offset))
        clipped = min(abs(residual), self.clip * scale) if self._covered_period else abs(residual)
        self.scale += max(self.scale_alpha, 1.0 / (self.count + 1)) * (clipped - self.scale)
