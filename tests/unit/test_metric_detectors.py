"""Each metric detector on synthetic series: flags what it should, not noise; snapshots round-trip."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from support.builders import at, metric_event

from aiops.detectors.base import SeriesDetector
from aiops.detectors.episodes.tracker import MetricEpisodeTracker
from aiops.detectors.metric.calibrated import Baseline, CalibratedDetector
from aiops.detectors.metric.drift import DriftDetector
from aiops.detectors.metric.ensemble import COUNTER, MetricEnsemble, default_metric_detector
from aiops.detectors.metric.flatline import FlatLineDetector
from aiops.detectors.metric.level import LevelDetector
from aiops.detectors.metric.seasonal import SeasonalDetector
from aiops.detectors.metric.variance import VarianceDetector

STEP = 300.0
THRESHOLD = 0.9999
START = 1_400_000_000.0


def _noise(n: int, seed: int = 7) -> np.ndarray:
    return 50.0 + np.random.default_rng(seed).normal(0.0, 1.0, n)


def _run(detector: SeriesDetector, values: np.ndarray) -> np.ndarray:
    scores = np.empty(len(values))
    for index, value in enumerate(values):
        ts = START + index * STEP
        scores[index] = detector.score(ts, float(value)).score
        detector.learn(ts, float(value))
    return scores


def _flags(scores: np.ndarray, start: int, stop: int) -> int:
    return int((scores[start:stop] >= THRESHOLD).sum())


def _seasonal(n: int) -> np.ndarray:
    phase = 2 * math.pi * np.arange(n) * STEP / 86400.0
    seasonal: np.ndarray = _noise(n) + 10.0 * np.sin(phase)
    return seasonal


def test_spike_and_dip_flagged_noise_not() -> None:
    values = _noise(2000)
    values[1500] += 12.0
    values[1700] -= 12.0
    scores = _run(LevelDetector(alpha=0.5), values)
    assert scores[1500] >= THRESHOLD
    assert scores[1700] >= THRESHOLD
    assert _flags(scores, 300, 1500) == 0


def test_level_shift_flagged() -> None:
    values = _noise(2000)
    values[1500:] += 6.0
    scores = _run(LevelDetector(alpha=0.02), values)
    assert _flags(scores, 1500, 1510) >= 1
    assert _flags(scores, 300, 1500) == 0


def test_variance_shift_flagged() -> None:
    values = _noise(2000)
    values[1500:] = 50.0 + (values[1500:] - 50.0) * 6.0
    scores = _run(VarianceDetector(), values)
    assert _flags(scores, 1500, 1530) >= 1
    assert _flags(scores, 300, 1500) == 0


def test_drift_flagged() -> None:
    values = _noise(2500)
    values[1500:] += 0.03 * np.arange(1000)
    scores = _run(DriftDetector(), values)
    assert _flags(scores, 1500, 1800) >= 1
    assert _flags(scores, 400, 1500) == 0


def test_drift_confirmation_holds_the_smallest_recent_gap() -> None:
    values = _noise(2500)
    values[1500:] += 0.03 * np.arange(1000)
    plain, held = DriftDetector(), DriftDetector(confirm_points=15)
    statistics = []
    for index, value in enumerate(values.tolist()):
        ts = START + index * STEP
        if index:
            raw, confirmed = plain.judge(ts, value)[0], held.judge(ts, value)[0]
            statistics.append(raw)
            assert confirmed == min(statistics[-15:])
        plain.learn(ts, value)
        held.learn(ts, value)
    assert _flags(_run(DriftDetector(confirm_points=15), values), 1500, 1800) >= 1


def test_level_confirmation_ignores_a_burst_but_flags_a_shift() -> None:
    values = _noise(2500)
    values[1200] += 30.0
    values[1800:] += 8.0
    scores = _run(LevelDetector(alpha=0.02, confirm_points=15), values)
    assert _flags(scores, 1150, 1250) == 0
    assert _flags(scores, 1800, 1830) >= 1
    assert _flags(_run(LevelDetector(alpha=0.02), values), 1150, 1250) >= 1


def test_seasonal_anomaly_flagged_where_level_sees_nothing_unusual() -> None:
    values = _seasonal(2016 * 2)  # two weeks of 5-minute points
    anomaly = 3000 + int(np.argmax(values[3000:3288]))
    values[anomaly - 3 : anomaly + 3] -= 20.0  # a daily peak turned into a trough: in range overall
    scores = _run(SeasonalDetector(), values)
    assert _flags(scores, anomaly - 3, anomaly + 3) >= 1
    assert _flags(scores, 600, anomaly - 3) <= 1


def test_flatline_flagged() -> None:
    values = _noise(2000)
    values[1500:] = values[1499]
    scores = _run(FlatLineDetector(), values)
    assert _flags(scores, 1500, 1520) >= 1
    assert _flags(scores, 100, 1500) == 0


def test_ensemble_counter_rate_jump_flagged_and_reset_ignored() -> None:
    rate = 10.0 + np.random.default_rng(3).normal(0.0, 0.5, 2000)
    rate[1500:1510] *= 5.0
    counter = np.cumsum(rate * STEP)
    counter[1200:] -= counter[1199]  # counter reset (process restart)
    detector = MetricEnsemble()
    scores = _run(detector, counter)
    assert detector.mode == COUNTER
    assert _flags(scores, 1500, 1510) >= 1
    assert _flags(scores, 400, 1500) == 0


def test_ensemble_quiet_on_seasonality() -> None:
    assert _flags(_run(default_metric_detector(), _seasonal(4000)), 600, 4000) <= 1


def test_ensemble_rarely_fires_on_noise() -> None:
    """White noise, 10 seeds x 3400 judged points; a calibrated detector would report ~0.34 per seed.

    The ensemble still over-fires on noise (docs/benchmarks.md); the count of one seed is too noisy to pin
    (0 to 7 reports per seed), so the total is: 14 with the drift and shift members' confirmation, 39 before.
    """
    flags = [_flags(_run(default_metric_detector(), _noise(4000, seed=seed)), 600, 4000) for seed in range(10)]
    assert sum(flags) <= 20, flags


def test_ensemble_reports_one_alert_per_episode() -> None:
    values = _noise(2000)
    values[1500:1520] += 15.0
    scores = _run(default_metric_detector(), values)
    assert 1 <= _flags(scores, 1500, 1530) <= 2


def test_ensemble_level_shift_confirms_an_episode_with_min_anomalous_points_two() -> None:
    """Damping scores the shift's later points low; their undamped score still confirms the episode."""
    values = _noise(2000)
    values[1500:1530] *= 8.0
    tracker = MetricEpisodeTracker(default_metric_detector, threshold=THRESHOLD, min_anomalous_points=2)
    signals = [
        tracker.observe(metric_event(i * STEP, float(v))) for i, v in enumerate(values)
    ]
    fired = [(i, s) for i, s in enumerate(signals) if s is not None and s.status == "firing"]
    assert [i for i, _ in fired] == [1501]  # confirmed by the second shifted point, dated at the first
    assert fired[0][1].started_at == at(1500 * STEP)


FACTORIES: list[tuple[Callable[[], Any], Callable[[dict[str, Any]], Any]]] = [
    (MetricEnsemble, MetricEnsemble.restore),
    *[(cls, cls.restore) for cls in (LevelDetector, VarianceDetector, DriftDetector, FlatLineDetector)],
    (SeasonalDetector, SeasonalDetector.restore),
    (lambda: DriftDetector(confirm_points=15), lambda state: DriftDetector.restore(state, confirm_points=15)),
    (
        lambda: LevelDetector(alpha=0.02, confirm_points=15),
        lambda state: LevelDetector.restore(state, alpha=0.02, confirm_points=15),
    ),
]


@pytest.mark.parametrize(("make", "restore"), FACTORIES)
def test_snapshot_restore_round_trip_gives_identical_scores(
    make: Callable[[], Any], restore: Callable[[dict[str, Any]], Any]
) -> None:
    values = _seasonal(1500)
    values[1200] += 15.0
    original = make()
    _run(original, values[:1000])
    copy = restore(json.loads(json.dumps(original.snapshot())))
    tail = values[1000:]
    assert np.array_equal(_run(original, tail), _run(copy, tail))
    if isinstance(original, CalibratedDetector):
        assert original.snapshot() == copy.snapshot()


def test_learning_without_scoring_gives_the_same_state_as_score_then_learn() -> None:
    values = _seasonal(1500)
    values[1200] += 15.0
    scored, unscored = MetricEnsemble(), MetricEnsemble()
    _run(scored, values)
    for index, value in enumerate(values):
        ts = START + index * STEP
        if index % 3 == 0:
            unscored.score(ts, float(value) + 1.0)  # a different point scored: must not leak into learn
        unscored.learn(ts, float(value))
    assert scored.snapshot() == unscored.snapshot()


class _OldStyleLevel(CalibratedDetector):
    """A subclass written against the original hooks: `_statistic` with a Baseline, `_update` reading it."""

    state_fields = ("level", "seen")

    def __init__(self) -> None:
        super().__init__(warmup_points=30)
        self.level = 0.0
        self.seen: list[float] = []

    def _statistic(self, ts: float, value: float) -> tuple[float, Baseline]:
        return abs(value - self.level), Baseline(self.level, 1.0)

    def _update(self, ts: float, value: float, statistic: float) -> None:
        self.seen.append(statistic)
        self.level += 0.5 * (value - self.level)


def test_old_style_subclass_hooks_still_work() -> None:
    values = _noise(400)
    values[350] += 12.0
    detector = _OldStyleLevel()
    scores = _run(detector, values)
    assert len(detector.seen) == 400
    assert detector.seen[0] == 0.0
    assert detector.seen[1] == abs(values[1] - values[0] * 0.5)
    assert detector.warm
    assert scores[350] >= THRESHOLD
