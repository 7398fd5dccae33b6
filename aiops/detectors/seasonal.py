"""Seasonal detector: residual against a time-of-period profile (daily by default).

`SeasonalDetector` splits the period (e.g. 86400 s) into buckets by event time, keeps an EW mean of the
de-levelled value per bucket plus a fast EW level offset, and scores the robust z of
``value - (profile[bucket] + offset)`` through the peaks-over-threshold tail. Memory is one float per
bucket. It only scores after a full period has been seen; a series without seasonality just gets a
profile of noise and a correspondingly wide, calibrated tail. It does not detect the period itself.
"""

# ruff: noqa: PLR1730  # hot path: explicit comparisons instead of min()/max() calls, same results incl. NaN

from __future__ import annotations

from typing import ClassVar

from aiops.detectors.calibrated import CalibratedDetector, Judgement
from aiops.detectors.level import ABS_SCALE_FLOOR, BAND, REL_SCALE_FLOOR
from aiops.detectors.tail import PeaksOverThreshold


class SeasonalDetector(CalibratedDetector):
    """Robust z of the value against a per-bucket seasonal profile plus level offset."""

    name: str = "seasonal"
    state_fields: ClassVar[tuple[str, ...]] = ("first_ts", "last_ts", "offset", "scale", "profile", "visits")
    lazy_statistic: ClassVar[bool] = True

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
        self.ready = False

    def _bucket(self, ts: float) -> int:
        period = self.period_seconds
        buckets = self.buckets
        return int((ts % period) / period * buckets) % buckets

    def _ready(self) -> bool:
        return self.count > 0 and self._covered_period

    @property
    def _covered_period(self) -> bool:
        return self.last_ts - self.first_ts >= self.period_seconds

    def judge(self, ts: float, value: float) -> Judgement:
        period = self.period_seconds
        buckets = self.buckets
        expected = self.profile[int((ts % period) / period * buckets) % buckets] + self.offset
        scale = abs(expected) * REL_SCALE_FLOOR
        if scale < ABS_SCALE_FLOOR:
            scale = ABS_SCALE_FLOOR
        if not self.scale < scale:  # max(self.scale, floor) keeps self.scale unless floor is larger
            scale = self.scale
        return abs(value - expected) / scale, expected, BAND * scale

    def absorb(self, ts: float, value: float, statistic: float | None) -> None:
        count = self.count
        if self.ready:
            if statistic is None:
                statistic = self.judge(ts, value)[0] if count else 0.0
            self.tail.learn(statistic)
        self.last_ts = ts
        if count == 0:
            self.first_ts = ts
            self.offset = value
        offset = self.offset
        profile = self.profile
        period = self.period_seconds
        bucket = int((ts % period) / period * self.buckets) % self.buckets
        seasonal = value - offset
        visits = self.visits[bucket]
        if visits == 0:
            profile[bucket] = seasonal
        else:
            rate = self.profile_alpha
            if 1.0 / (visits + 1) > rate:
                rate = 1.0 / (visits + 1)
            profile[bucket] += rate * (seasonal - profile[bucket])
        self.visits[bucket] = visits + 1
        residual = value - profile[bucket] - offset
        offset += self.offset_alpha * residual
        self.offset = offset
        scale = abs(offset) * REL_SCALE_FLOOR
        if scale < ABS_SCALE_FLOOR:
            scale = ABS_SCALE_FLOOR
        old = self.scale
        if not old < scale:
            scale = old
        clipped = abs(residual)
        covered = ts - self.first_ts >= period  # last_ts is ts
        if covered:
            cap = self.clip * scale
            if cap < clipped:
                clipped = cap
        rate = self.scale_alpha
        if 1.0 / (count + 1) > rate:
            rate = 1.0 / (count + 1)
        self.scale = old + rate * (clipped - old)
        self.count = count + 1
        self.ready = covered  # and count > 0
        self._cache = None
