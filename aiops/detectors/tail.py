"""Calibrated tail probabilities for a non-negative deviation statistic (peaks over threshold).

`PeaksOverThreshold` turns a statistic such as a robust z-score into a surprise ``-log10(p)``, where p is
the estimated probability of a value at least that large under the series' own recent behaviour. It fits
an exponential tail (generalised Pareto with shape 0) above a high quantile, as in SPOT (Siffer et al.,
KDD 2017): an initial batch sets the quantile and the mean excess, then both adapt online with capped
updates so that anomalies do not inflate the tail. With `log_scale` the tail is fitted to
``log1p(statistic)`` (more conservative, for Pareto-like statistics). This is what makes one threshold
work across series with very different noise shapes. It holds O(1) state after the initial batch; it
does not look at values, timestamps or seasonality (the detectors that feed it do).
"""

from __future__ import annotations

import math
from typing import Any

MAX_SURPRISE = 15.0
"""Cap of -log10(p): scores round to 1.0 beyond ~1e-16 anyway."""

_LOG10_E = math.log10(math.e)


def surprise_to_score(surprise: float) -> float:
    """Calibrated score 1 - p from surprise -log10(p)."""
    return 1.0 - math.pow(10.0, -min(max(surprise, 0.0), MAX_SURPRISE))


def score_to_surprise(score: float) -> float:
    """Inverse of `surprise_to_score`, capped at `MAX_SURPRISE`."""
    tail = 1.0 - score
    if tail <= 10.0**-MAX_SURPRISE:
        return MAX_SURPRISE
    return float(-math.log10(tail))


class PeaksOverThreshold:
    """Online exponential-tail model of a non-negative statistic; O(1) per point after `init_points`."""

    def __init__(
        self,
        *,
        init_points: int = 200,
        tail_fraction: float = 0.02,
        min_excess: float = 0.1,
        rate: float = 0.02,
        excess_cap: float = 2.0,
        log_scale: bool = False,
    ) -> None:
        self.log_scale = log_scale
        self.init_points = init_points
        self.tail_fraction = tail_fraction
        self.min_excess = min_excess
        self.rate = rate
        self.excess_cap = excess_cap
        self.batch: list[float] = []
        self.quantile = 0.0
        self.excess = min_excess
        self.fitted = False

    @property
    def warm(self) -> bool:
        return self.fitted

    def _transform(self, statistic: float) -> float:
        return math.log1p(statistic) if self.log_scale else statistic

    def surprise(self, statistic: float) -> float:
        """-log10 of the estimated probability of a statistic >= `statistic`."""
        statistic = self._transform(statistic)
        if not self.fitted:
            return 0.0
        base = -math.log10(self.tail_fraction)
        if statistic <= self.quantile:
            return base * statistic / self.quantile if self.quantile > 0 else 0.0
        return min(base + _LOG10_E * (statistic - self.quantile) / self.excess, MAX_SURPRISE)

    def learn(self, statistic: float) -> None:
        statistic = self._transform(statistic)
        if not self.fitted:
            self.batch.append(statistic)
            if len(self.batch) >= self.init_points:
                self._fit_batch()
            return
        exceeded = statistic > self.quantile
        step = self.rate * self.excess
        self.quantile += step * ((1.0 - self.tail_fraction) if exceeded else -self.tail_fraction)
        self.quantile = max(self.quantile, 0.0)
        if exceeded:
            excess = min(statistic - self.quantile, self.excess_cap * self.excess)
            self.excess += self.rate * (excess - self.excess)
            self.excess = max(self.excess, self.min_excess)

    def _fit_batch(self) -> None:
        ordered = sorted(self.batch)
        cut = min(int(len(ordered) * (1.0 - self.tail_fraction)), len(ordered) - 1)
        self.quantile = ordered[cut]
        excesses = [value - self.quantile for value in ordered[cut + 1 :]]
        mean_excess = sum(excesses) / len(excesses) if excesses else 0.0
        self.excess = max(mean_excess, self.min_excess)
        self.batch = []
        self.fitted = True

    def snapshot(self) -> dict[str, Any]:
        return {
            "batch": list(self.batch),
            "quantile": self.quantile,
            "excess": self.excess,
            "fitted": self.fitted,
        }

    def load(self, state: dict[str, Any]) -> None:
        """Overwrite the learnt state from a `snapshot` (hyper-parameters stay as constructed)."""
        self.batch = [float(value) for value in state["batch"]]
        self.quantile = float(state["quantile"])
        self.excess = float(state["excess"])
        self.fitted = bool(state["fitted"])
