"""Contract every per-series metric detector (`SeriesDetector`) must keep, run against each implementation.

- scoring does not change state (the snapshot before and after `score` is the same);
- deterministic: two fresh detectors fed the same seeded stream give the same scores;
- any float input (NaN, +-inf, huge and tiny magnitudes, zero, negatives), missing points (time gaps) and
  repeated timestamps never raise, and every score stays in [0, 1];
- the state round-trips through its JSON snapshot: the restored detector scores the rest of the stream
  exactly like the original and ends with the same snapshot.
The micro-batched `EnsembleBank` is held to `MetricEnsemble` point for point in test_ensemble_bank.py; the
log and multivariate detectors have their own interfaces and tests.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from aiops.detectors.base import NON_FINITE_DETAIL, SeriesDetector
from aiops.detectors.metric.drift import DriftDetector
from aiops.detectors.metric.ensemble import MetricEnsemble
from aiops.detectors.metric.ewma import EwmaZScore
from aiops.detectors.metric.flatline import FlatLineDetector
from aiops.detectors.metric.level import LevelDetector
from aiops.detectors.metric.seasonal import SeasonalDetector
from aiops.detectors.metric.variance import VarianceDetector
from aiops_eval.baselines.cad_ose import CadOseDetector
from aiops_eval.baselines.likelihood import LikelihoodDetector

Make = Callable[[], SeriesDetector]
Restore = Callable[[dict[str, Any]], SeriesDetector] | None

DETECTORS: dict[str, tuple[Make, Restore]] = {
    "ewma": (EwmaZScore, EwmaZScore.restore),
    "ewma_clipped": (lambda: EwmaZScore(clip_sigma=8.0), lambda s: EwmaZScore.restore(s, clip_sigma=8.0)),
    "ensemble": (MetricEnsemble, MetricEnsemble.restore),
    "spike": (lambda: LevelDetector(alpha=0.5), lambda s: LevelDetector.restore(s, alpha=0.5)),
    "shift": (lambda: LevelDetector(alpha=0.02, confirm_points=15),
              lambda s: LevelDetector.restore(s, alpha=0.02, confirm_points=15)),
    "variance": (VarianceDetector, VarianceDetector.restore),
    "drift": (lambda: DriftDetector(confirm_points=15), lambda s: DriftDetector.restore(s, confirm_points=15)),
    "seasonal": (SeasonalDetector, SeasonalDetector.restore),
    "flatline": (FlatLineDetector, FlatLineDetector.restore),
    "cad_ose": (lambda: CadOseDetector(probation_points=50), lambda s: CadOseDetector.restore(s, probation_points=50)),
    "ensemble_likelihood": (lambda: LikelihoodDetector(MetricEnsemble()), None),
}
NAMES = sorted(DETECTORS)
ODD_VALUES = (math.nan, math.inf, -math.inf, 1e308, -1e308, 5e-324, -5e-324, 0.0, -0.0, 1e-300, -42.0)
START = 1_400_000_000.0


def adversarial_stream(seed: int, points: int = 1200) -> list[tuple[float, float]]:
    """(ts, value): a daily-seasonal gauge with noise, odd values sprinkled in, a flat stretch, a level
    shift, gaps of hours and repeated timestamps; the first value is NaN."""
    rng = np.random.default_rng(seed)
    steps = rng.choice([300.0, 0.0, 3600.0 * 6], points, p=[0.94, 0.03, 0.03])
    ts = START + np.cumsum(steps)
    values = 50.0 + 10.0 * np.sin(2 * np.pi * ts / 86400.0) + rng.normal(0.0, 1.0, points)
    values[points // 3 : points // 3 + 150] = 42.0
    values[2 * points // 3 :] += 30.0
    odd = rng.integers(1, points, points // 20)
    values[odd] = rng.choice(ODD_VALUES, odd.size)
    values[0] = math.nan
    return list(zip(ts.tolist(), values.tolist(), strict=True))


def run(detector: SeriesDetector, stream: list[tuple[float, float]]) -> list[float]:
    scores = []
    for ts, value in stream:
        scores.append(detector.score(ts, value).score)
        detector.learn(ts, value)
    return scores


def state(detector: SeriesDetector) -> str:
    """The snapshot as canonical JSON (NaN-safe equality)."""
    return json.dumps(detector.snapshot(), sort_keys=True)


@pytest.mark.parametrize("name", NAMES)
def test_scoring_does_not_change_state(name: str) -> None:
    detector = DETECTORS[name][0]()
    rng = np.random.default_rng(7)
    for index, (ts, value) in enumerate(adversarial_stream(1)):
        if index % 25 == 0:
            before = state(detector)
            for probe in (value, value + 1000.0, float(rng.choice(ODD_VALUES))):
                detector.score(ts + 1.0, probe)
            assert state(detector) == before, (name, index)
        detector.score(ts, value)
        detector.learn(ts, value)


@pytest.mark.parametrize("name", NAMES)
def test_same_seeded_stream_gives_the_same_scores(name: str) -> None:
    make = DETECTORS[name][0]
    stream = adversarial_stream(2)
    first, second = run(make(), stream), run(make(), stream)
    assert np.array_equal(np.array(first), np.array(second), equal_nan=True)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("seed", [3, 4, 5])
def test_any_float_input_never_raises_and_scores_stay_in_range(name: str, seed: int) -> None:
    detector = DETECTORS[name][0]()
    scores = run(detector, adversarial_stream(seed))
    scores += run(detector, [(START * 2 + i, value) for i, value in enumerate(ODD_VALUES * 20)])
    assert all(0.0 <= score <= 1.0 for score in scores), name


@pytest.mark.parametrize("name", [name for name in NAMES if DETECTORS[name][1] is not None])
def test_state_round_trips_through_its_json_snapshot(name: str) -> None:
    make, restore = DETECTORS[name]
    assert restore is not None
    stream = adversarial_stream(6)
    original = make()
    run(original, stream[:800])
    copy = restore(json.loads(json.dumps(original.snapshot())))
    assert state(copy) == state(original)
    rest = stream[800:]
    assert np.array_equal(np.array(run(original, rest)), np.array(run(copy, rest)), equal_nan=True)
    assert state(copy) == state(original)


@pytest.mark.parametrize("name", NAMES)
def test_a_non_finite_sample_is_a_data_quality_verdict_and_changes_nothing(name: str) -> None:
    clean = [(ts, value) for ts, value in adversarial_stream(8) if math.isfinite(value)]
    with_bad: list[tuple[float, float]] = []
    for index, (ts, value) in enumerate(clean):
        if index % 97 == 5:
            with_bad.append((ts, (math.nan, math.inf, -math.inf)[index % 3]))
        with_bad.append((ts, value))
    reference, detector = DETECTORS[name][0](), DETECTORS[name][0]()
    expected = iter(run(reference, clean))
    for ts, value in with_bad:
        verdict = detector.score(ts, value)
        detector.learn(ts, value)
        if math.isfinite(value):
            assert verdict.score == next(expected), (name, ts)
        else:
            assert verdict.score == 0.0
            assert verdict.detail == NON_FINITE_DETAIL, name
    assert state(detector) == state(reference)
