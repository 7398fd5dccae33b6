"""Tail calibration for autocorrelated statistics (synthetic AR(1) series only).

`PeaksOverThreshold(fit_fraction=...)` fits its initial batch on a wider upper share, so a slow statistic
whose batch top 2% are a few neighbouring points of one excursion does not get a too-thin tail; the
ensemble's sustained term uses it. The drift member still over-fires on noise: recorded as a strict xfail
(see docs/benchmarks.md, "Why the stream's default is still `ewma`").
"""

from __future__ import annotations

import numpy as np
import pytest

from aiops.detectors.metric.ensemble import SUSTAINED_FIT_FRACTION, MetricEnsemble
from aiops.detectors.metric.tail import PeaksOverThreshold

NOMINAL_AT_4 = 1e-4
"""Probability of a surprise >= 4 for a calibrated tail."""


def _ar1(seed: int, n: int, phi: float) -> np.ndarray:
    """A unit-variance AR(1) series."""
    rng = np.random.default_rng(seed)
    shocks = rng.normal(0.0, np.sqrt(1.0 - phi * phi), n)
    values = np.empty(n)
    level = 0.0
    for index, shock in enumerate(shocks):
        level = phi * level + shock
        values[index] = level
    return values


def _abs_ar1(seed: int, n: int, phi: float) -> np.ndarray:
    """|x| of an AR(1) series: a smooth, strongly autocorrelated deviation statistic."""
    return np.abs(_ar1(seed, n, phi))


def _exceedance_rate(fit_fraction: float | None, phi: float = 0.9, seeds: int = 20, n: int = 5000) -> float:
    """Share of the points after the batch fit whose surprise reaches 4 (learning online throughout)."""
    hits = judged = 0
    for seed in range(seeds):
        tail = PeaksOverThreshold(fit_fraction=fit_fraction)
        for statistic in _abs_ar1(seed, n, phi).tolist():
            if tail.fitted:
                judged += 1
                hits += tail.surprise(statistic) >= 4.0
            tail.learn(statistic)
    return hits / judged


def test_wide_fit_keeps_an_autocorrelated_statistic_near_the_nominal_rate() -> None:
    narrow, wide = _exceedance_rate(None), _exceedance_rate(SUSTAINED_FIT_FRACTION)
    assert narrow > 6 * NOMINAL_AT_4  # the 2% batch fit: ~9.5x too many
    assert wide <= 3 * NOMINAL_AT_4  # 0.1: ~2.7x (0.2: ~1.7x)
    assert narrow >= 3 * wide


def test_wide_fit_changes_little_for_independent_exponential_statistics() -> None:
    batch = np.random.default_rng(3).exponential(1.0, 200).tolist()
    narrow, wide = PeaksOverThreshold(), PeaksOverThreshold(fit_fraction=0.2)
    for statistic in batch:
        narrow.learn(statistic)
        wide.learn(statistic)
    assert wide.quantile >= narrow.quantile
    assert wide.excess >= narrow.excess
    assert wide.quantile - narrow.quantile < 1.0
    assert wide.excess < 1.5


def test_fit_fraction_is_a_hyper_parameter_not_state() -> None:
    tail = PeaksOverThreshold(fit_fraction=0.2)
    for statistic in _abs_ar1(1, 300, 0.9).tolist():
        tail.learn(statistic)
    restored = PeaksOverThreshold(fit_fraction=0.2)
    restored.load(tail.snapshot())
    assert "fit_fraction" not in tail.snapshot()
    assert (restored.quantile, restored.excess, restored.fitted) == (tail.quantile, tail.excess, True)


@pytest.mark.xfail(strict=True, reason="drift member over-fires ~10x on noise (docs/benchmarks.md)")
def test_ensemble_does_not_over_fire_on_ar1_noise() -> None:
    reports = judged = 0
    for seed in range(6):
        noise = _ar1(seed, 2000, 0.5)
        detector = MetricEnsemble()
        for index, value in enumerate((100.0 + noise).tolist()):
            ts = 1_400_000_000.0 + 60.0 * index
            score = detector.score(ts, value).score
            if index >= 400:
                judged += 1
                reports += score >= 0.9999
            detector.learn(ts, value)
    assert reports / judged <= 2 * NOMINAL_AT_4
