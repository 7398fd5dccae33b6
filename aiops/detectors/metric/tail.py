"""Calibrated tail probabilities for a non-negative deviation statistic (peaks over threshold).

`PeaksOverThreshold` turns a statistic such as a robust z-score into a surprise ``-log10(p)``, where p is
the estimated probability of a value at least that large under the series' own recent behaviour. It fits
an exponential tail (generalised Pareto with shape 0) above a high quantile, as in SPOT (Siffer et al.,
KDD 2017): an initial batch sets the quantile and the mean excess, then both adapt online with capped
updates so that anomalies do not inflate the tail. Options for heavy-tailed (`log_scale`, `auto_log_cv`)
and strongly autocorrelated (`fit_fraction`) statistics: `PeaksOverThreshold`. This is what makes one
threshold work across series with very different noise shapes. It holds O(1) state after the initial
batch; it does not look at values, timestamps or seasonality (the detectors that feed it do).
"""

# ruff: noqa: PLR1730  # hot path: explicit comparisons instead of min()/max() calls, same results incl. NaN

from __future__ import annotations

import math
from typing import Any

MAX_SURPRISE = 15.0
"""Cap of -log10(p): scores round to 1.0 beyond ~1e-16 anyway."""

_LOG10_E = math.log10(math.e)


def surprise_to_score(surprise: float) -> float:
    """Calibrated score 1 - p from surprise -log10(p); NaN (a statistic overflowed on values near the float
    limits) scores 0, as the ensemble ignores a NaN member."""
    if not surprise > 0.0:
        return 0.0
    return 1.0 - math.pow(10.0, -min(surprise, MAX_SURPRISE))


def score_to_surprise(score: float) -> float:
    """Inverse of `surprise_to_score`, capped at `MAX_SURPRISE`."""
    tail = 1.0 - score
    if tail <= 10.0**-MAX_SURPRISE:
        return MAX_SURPRISE
    return float(-math.log10(tail))


class PeaksOverThreshold:
    """Online exponential-tail model of a non-negative statistic; O(1) per point after `init_points`.

    With `log_scale` the tail is fitted to ``log1p(statistic)`` (more conservative, for Pareto-like
    statistics); with `auto_log_cv` the choice is made per series when the initial batch is fitted: log
    scale when the excesses over the batch's 90th percentile vary more than an exponential tail's would
    (coefficient of variation above `auto_log_cv`, 1.0 for an exponential), so a bursty series' recurring
    spikes stop scoring as extreme. With `fit_fraction` (for strongly autocorrelated statistics, whose
    batch top 2% are a few neighbouring points of one excursion) the batch fit also estimates the
    exponential tail on that wider upper share and keeps the larger mean excess and the larger of the two
    quantiles (the wide one extrapolated to `tail_fraction`).

    Both `surprise` and `learn` run once per point per detector, so they are written with local variables
    and explicit comparisons instead of `min`/`max` calls (same results, NaN included: ``max(a, b)`` keeps
    `a` unless ``b > a``). Hyper-parameters are fixed at construction.
    """

    __slots__ = (
        "_keep",
        "auto_log_cv",
        "batch",
        "excess",
        "excess_cap",
        "fit_fraction",
        "fitted",
        "init_points",
        "log_scale",
        "min_excess",
        "quantile",
        "quantile_surprise",
        "rate",
        "tail_fraction",
    )

    def __init__(
        self,
        *,
        init_points: int = 200,
        tail_fraction: float = 0.02,
        min_excess: float = 0.1,
        rate: float = 0.02,
        excess_cap: float = 2.0,
        log_scale: bool = False,
        auto_log_cv: float | None = None,
        fit_fraction: float | None = None,
    ) -> None:
        self.log_scale = log_scale
        self.fit_fraction = fit_fraction
        """Fit the initial batch's tail on this wider upper share (None: on `tail_fraction`); see `_fit_batch`."""
        self.auto_log_cv = auto_log_cv
        """Switch to log scale at the batch fit when the batch's upper tail is this much heavier (None: never)."""
        self.init_points = init_points
        self.tail_fraction = tail_fraction
        self.min_excess = min_excess
        self.rate = rate
        self.excess_cap = excess_cap
        self.batch: list[float] = []
        self.quantile = 0.0
        self.excess = min_excess
        self.fitted = False
        self.quantile_surprise = -math.log10(tail_fraction)
        """Surprise at the quantile: -log10(tail_fraction)."""
        self._keep = 1.0 - tail_fraction
        """Quantile step up on an exceedance, in units of `rate * excess`."""

    @property
    def warm(self) -> bool:
        return self.fitted

    def surprise(self, statistic: float) -> float:
        """-log10 of the estimated probability of a statistic >= `statistic`."""
        if self.log_scale:
            statistic = math.log1p(statistic)
        if not self.fitted:
            return 0.0
        quantile = self.quantile
        if statistic <= quantile:
            return self.quantile_surprise * statistic / quantile if quantile > 0 else 0.0
        surprise = self.quantile_surprise + _LOG10_E * (statistic - quantile) / self.excess
        return MAX_SURPRISE if surprise > MAX_SURPRISE else surprise

    def learn(self, statistic: float) -> None:
        if self.log_scale:
            statistic = math.log1p(statistic)
        if not self.fitted:
            self.batch.append(statistic)
            if len(self.batch) >= self.init_points:
                self._fit_batch()
            return
        quantile = self.quantile
        excess = self.excess
        rate = self.rate
        exceeded = statistic > quantile
        quantile += rate * excess * (self._keep if exceeded else -self.tail_fraction)
        if quantile < 0.0:
            quantile = 0.0
        self.quantile = quantile
        if exceeded:
            capped = statistic - quantile
            cap = self.excess_cap * excess
            if cap < capped:
                capped = cap
            excess += rate * (capped - excess)
            self.excess = self.min_excess if self.min_excess > excess else excess

    def _fit_batch(self) -> None:
        """Quantile and mean excess from the initial batch (log scale first when `auto_log_cv` says so)."""
        if self.auto_log_cv is not None and not self.log_scale and _upper_tail_cv(self.batch) > self.auto_log_cv:
            self.log_scale = True
            self.batch = [math.log1p(value) for value in self.batch]
        ordered = sorted(self.batch)
        self.quantile, self.excess = _exponential_fit(ordered, self.tail_fraction, self.min_excess)
        wide = self.fit_fraction
        if wide is not None and wide > self.tail_fraction:
            base, excess = _exponential_fit(ordered, wide, self.min_excess)
            extrapolated = base + excess * math.log(wide / self.tail_fraction)
            if extrapolated > self.quantile:
                self.quantile = extrapolated
            if excess > self.excess:
                self.excess = excess
        self.batch = []
        self.fitted = True

    def snapshot(self) -> dict[str, Any]:
        return {
            "batch": list(self.batch),
            "quantile": self.quantile,
            "excess": self.excess,
            "fitted": self.fitted,
            "log_scale": self.log_scale,
        }

    def load(self, state: dict[str, Any]) -> None:
        """Overwrite the learnt state from a `snapshot` (hyper-parameters stay as constructed)."""
        self.batch = [float(value) for value in state["batch"]]
        self.quantile = float(state["quantile"])
        self.excess = float(state["excess"])
        self.fitted = bool(state["fitted"])
        self.log_scale = bool(state.get("log_scale", self.log_scale))  # absent before auto_log_cv: as built


def _exponential_fit(ordered: list[float], fraction: float, min_excess: float) -> tuple[float, float]:
    """(quantile, mean excess) of the upper `fraction` of the sorted, non-empty `ordered`."""
    cut = min(int(len(ordered) * (1.0 - fraction)), len(ordered) - 1)
    quantile = ordered[cut]
    excesses = [value - quantile for value in ordered[cut + 1 :]]
    mean_excess = sum(excesses) / len(excesses) if excesses else 0.0
    return quantile, max(mean_excess, min_excess)


UPPER_TAIL_FRACTION = 0.1
"""Share of the initial batch whose excesses decide `auto_log_cv`: enough points for a stable estimate."""


def _upper_tail_cv(batch: list[float]) -> float:
    """Coefficient of variation of the excesses over the batch's 90th percentile (0 when undefined).

    An exponential tail gives about 1; a Pareto-like one (rare huge bursts among small values) much more.
    """
    ordered = sorted(batch)
    if len(ordered) < 3:
        return 0.0
    cut = min(int(len(ordered) * (1.0 - UPPER_TAIL_FRACTION)), len(ordered) - 2)
    excesses = [value - ordered[cut] for value in ordered[cut + 1 :]]
    mean = sum(excesses) / len(excesses)
    if not mean > 0.0 or not math.isfinite(mean):
        return 0.0
    variance = sum((excess - mean) * (excess - mean) for excess in excesses) / len(excesses)  # `**` raises on overflow
    return math.sqrt(variance) / mean
