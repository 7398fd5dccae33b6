"""The EWMA detector's clipped learning (`clip_sigma`): a spike's first point must not mask the second."""

from __future__ import annotations

import math

import numpy as np

from aiops.config import AiopsConfig
from aiops.detectors.metric.ewma import EwmaZScore
from aiops.detectors.stage import series_detector_codec

THRESHOLD = 0.9999


def _warm(detector: EwmaZScore, points: int = 200, seed: int = 3) -> float:
    rng = np.random.default_rng(seed)
    ts = 0.0
    for ts, value in enumerate(100.0 + rng.normal(0.0, 1.0, points)):
        detector.score(float(ts), float(value))
        detector.learn(float(ts), float(value))
    return float(ts)


def _two_spike_points(detector: EwmaZScore) -> tuple[float, float]:
    """A 30-sigma first point, then a 12-sigma second one (an outage whose size wobbles)."""
    ts = _warm(detector)
    first = detector.score(ts + 1, 130.0).score
    detector.learn(ts + 1, 130.0)
    second = detector.score(ts + 2, 112.0).score
    return first, second


def test_unclipped_ewma_lets_a_spike_mask_its_own_second_point() -> None:
    first, second = _two_spike_points(EwmaZScore())
    assert first >= THRESHOLD
    assert second < THRESHOLD


def test_clipped_ewma_still_flags_the_second_point_of_a_spike() -> None:
    first, second = _two_spike_points(EwmaZScore(clip_sigma=8.0))
    assert first >= THRESHOLD
    assert second >= THRESHOLD


def test_clipped_ewma_learns_a_lasting_level_shift() -> None:
    detector = EwmaZScore(clip_sigma=8.0)
    ts = _warm(detector)
    for step in range(1, 400):
        detector.learn(ts + step, 130.0)
    assert math.isclose(detector.mean, 130.0, rel_tol=1e-3)
    assert detector.score(ts + 400, 130.0).score < 0.99


def test_clipping_leaves_warm_up_and_non_finite_values_alone() -> None:
    detector = EwmaZScore(warmup_points=5, clip_sigma=8.0)
    for ts, value in enumerate([1.0, 1000.0, 1.0]):
        detector.learn(float(ts), value)
    assert detector.mean > 100.0  # not warm yet: learnt raw
    warm = EwmaZScore(clip_sigma=8.0)
    _warm(warm)
    mean = warm.mean
    warm.learn(500.0, math.nan)
    warm.learn(501.0, math.inf)
    assert warm.mean == mean  # non-finite samples are not learnt (the event contract rejects them anyway)


def test_the_configured_ewma_clips_by_default_and_snapshots_round_trip() -> None:
    metric = AiopsConfig().detection.metric.model_copy(update={"detector": "ewma"})
    make, restore = series_detector_codec(metric)
    detector = make()
    assert isinstance(detector, EwmaZScore)
    assert detector.clip_sigma == 8.0
    _warm(detector)
    restored = restore(detector.snapshot())
    assert isinstance(restored, EwmaZScore)
    assert restored.clip_sigma == 8.0
    assert restored.score(999.0, 130.0) == detector.score(999.0, 130.0)
