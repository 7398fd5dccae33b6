"""EWMA z-score detector: the simple first metric detector of the vertical slice.

Keeps an exponentially weighted mean and variance of one series and scores a point by the two-sided
Gaussian tail probability of its z-score (score = 1 - p). Catches spikes, dips and level shifts; it does
not model seasonality or trend (the ensemble of the metric-detector issue does).

With `clip_sigma` set, a warm detector learns each point with its deviation clipped at that many standard
deviations (a winsorised EWMA): the first point of a spike no longer inflates the variance the next point
is scored against, so a two-point confirmation still sees the second point, and a real level shift is
still learnt (the mean moves up to `alpha * clip_sigma` deviations per point and the variance grows).
"""

from __future__ import annotations

import math
from typing import Any

from aiops.detectors.base import PointScore, non_finite_point

_MIN_STD_FRACTION = 1e-3
_ABS_MIN_STD = 1e-9


class EwmaZScore:
    """Online EWMA mean/variance with a calibrated Gaussian tail score."""

    name = "ewma_zscore"

    def __init__(self, alpha: float = 0.05, warmup_points: int = 30, clip_sigma: float | None = None) -> None:
        self.alpha = alpha
        self.warmup_points = warmup_points
        self.clip_sigma = clip_sigma
        self.count = 0
        self.mean = 0.0
        self.var = 0.0

    @property
    def warm(self) -> bool:
        return self.count >= self.warmup_points

    def _std(self) -> float:
        floor = max(abs(self.mean) * _MIN_STD_FRACTION, _ABS_MIN_STD)
        return max(math.sqrt(self.var), floor)

    def score(self, ts: float, value: float) -> PointScore:
        if not math.isfinite(value):
            return non_finite_point(self.warm)
        if self.count == 0:
            return PointScore(0.0, None, None, None, warm=False)
        std = self._std()
        z = abs(value - self.mean) / std
        tail = math.erfc(z / math.sqrt(2.0))
        return PointScore(
            score=1.0 - tail,
            expected=self.mean,
            lower=self.mean - 3.0 * std,
            upper=self.mean + 3.0 * std,
            warm=self.warm,
            detail=f"z={z:.2f}",
        )

    def learn(self, ts: float, value: float) -> None:
        if not math.isfinite(value):
            return
        if self.clip_sigma is not None and self.count >= self.warmup_points:
            limit = self.clip_sigma * self._std()
            value = min(max(value, self.mean - limit), self.mean + limit)
        self.count += 1
        if self.count == 1:
            self.mean = value
            return
        alpha = max(self.alpha, 1.0 / self.count)
        delta = value - self.mean
        self.mean += alpha * delta
        self.var = (1.0 - alpha) * (self.var + alpha * delta * delta)

    def snapshot(self) -> dict[str, Any]:
        return {"count": self.count, "mean": self.mean, "var": self.var}

    @classmethod
    def restore(
        cls, state: dict[str, Any], alpha: float = 0.05, warmup_points: int = 30, clip_sigma: float | None = None
    ) -> EwmaZScore:
        detector = cls(alpha, warmup_points, clip_sigma)
        detector.count = int(state["count"])
        detector.mean = float(state["mean"])
        detector.var = float(state["var"])
        return detector
