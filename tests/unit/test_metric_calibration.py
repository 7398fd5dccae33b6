"""Calibration details of the metric ensemble: per-series tail scale, flat-line memory, refractory period.

Synthetic series only: heavy- versus light-tailed warm-up statistics for `PeaksOverThreshold`'s
`auto_log_cv`, an idle-between-bursts metric for `FlatLineDetector`, and nearby spikes for the
ensemble's refractory period.
"""

from __future__ import annotations

import json

import numpy as np

from aiops.detectors.base import SeriesDetector
from aiops.detectors.metric.ensemble import MetricEnsemble
from aiops.detectors.metric.flatline import FlatLineDetector
from aiops.detectors.metric.tail import PeaksOverThreshold

STEP = 300.0
START = 1_400_000_000.0
THRESHOLD = 0.9999


def _run(detector: SeriesDetector, values: list[float]) -> np.ndarray:
    scores = np.empty(len(values))
    for index, value in enumerate(values):
        ts = START + index * STEP
        scores[index] = detector.score(ts, value).score
        detector.learn(ts, value)
    return scores


def _fitted(statistics: np.ndarray, **params: float) -> PeaksOverThreshold:
    tail = PeaksOverThreshold(**params)
    for statistic in statistics:
        tail.learn(float(statistic))
    assert tail.fitted
    return tail


def test_tail_picks_log_scale_only_for_heavy_tailed_warmup() -> None:
    rng = np.random.default_rng(1)
    light = np.abs(rng.normal(0.0, 1.0, 200))
    bursty = np.where(rng.random(200) < 0.03, 200.0, np.abs(rng.normal(0.0, 1.0, 200)))
    assert not _fitted(light, auto_log_cv=1.2).log_scale
    heavy = _fitted(bursty, auto_log_cv=1.2)
    assert heavy.log_scale
    assert heavy.surprise(500.0) < _fitted(bursty).surprise(500.0)  # a bigger burst is less extreme
    assert not _fitted(bursty).log_scale  # off unless asked for


def test_tail_scale_survives_snapshot_and_old_snapshots_keep_the_built_scale() -> None:
    rng = np.random.default_rng(2)
    tail = _fitted(np.where(rng.random(200) < 0.03, 200.0, rng.random(200)), auto_log_cv=1.2)
    state = json.loads(json.dumps(tail.snapshot()))
    restored = PeaksOverThreshold(auto_log_cv=1.2)
    restored.load(state)
    assert restored.log_scale
    assert restored.surprise(50.0) == tail.surprise(50.0)
    del state["log_scale"]  # written before the key existed: the tail as constructed
    old = PeaksOverThreshold(auto_log_cv=1.2)
    old.load(state)
    assert not old.log_scale


def _idle_between_bursts(final_idle: int) -> tuple[list[float], int]:
    rng = np.random.default_rng(5)
    values: list[float] = []

    def burst(n: int) -> None:
        values.extend((1.0 + rng.random(n)).tolist())

    burst(150)
    values.extend([0.0] * 60)  # the usual longest idle stretch
    for _ in range(20):
        burst(3)
        values.extend([0.0] * 5)
    burst(3)
    start = len(values)
    values.extend([0.0] * final_idle)
    burst(5)
    return values, start


def test_flatline_keeps_an_idle_metrics_longest_stretch_as_normal() -> None:
    values, start = _idle_between_bursts(30)
    assert not (_run(FlatLineDetector(), values)[start:] >= THRESHOLD).any()
    assert (_run(FlatLineDetector(longest_decay=0.9), values)[start:] >= THRESHOLD).any()  # forgot it
    values, start = _idle_between_bursts(200)
    assert (_run(FlatLineDetector(), values)[start:] >= THRESHOLD).any()  # far beyond the usual: flagged


def _spikes() -> list[float]:
    values = 50.0 + np.random.default_rng(7).normal(0.0, 1.0, 2000)
    values[[1000, 1120, 1400]] += 12.0  # 1120: after the episode's cooldown, inside the refractory period
    return [float(value) for value in values]


def test_refractory_period_reports_a_nearby_repeat_once() -> None:
    flagged = np.flatnonzero(_run(MetricEnsemble(), _spikes()) >= THRESHOLD)
    assert flagged.tolist() == [1000, 1400]
    without = np.flatnonzero(_run(MetricEnsemble(refractory_points=0), _spikes()) >= THRESHOLD)
    assert without.tolist() == [1000, 1120, 1400]


def test_refractory_state_survives_snapshot_and_old_snapshots_restore() -> None:
    values = _spikes()
    detector = MetricEnsemble()
    _run(detector, values[:1050])
    state = json.loads(json.dumps(detector.snapshot()))
    assert state["since_report"] == 49
    restored = MetricEnsemble.restore(state)
    assert _run(restored, values[1050:]).tolist() == _run(detector, values[1050:]).tolist()
    del state["since_report"], state["report_surprise"]
    old = MetricEnsemble.restore(state)  # a snapshot from before the refractory period: none running
    assert old.since_report > old.refractory_points
