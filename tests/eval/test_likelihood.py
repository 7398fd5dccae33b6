"""HTM-style anomaly likelihood wrapper: probation, sustained shifts, purity, snapshot round-trip."""

from __future__ import annotations

import json
import random
from typing import Any

from aiops.detectors.base import PointScore
from aiops_eval.baselines.likelihood import AnomalyLikelihood, LikelihoodDetector, tail_probability


class _Echo:
    """A fake detector whose score is the value itself."""

    name = "echo"
    warm = True

    def score(self, ts: float, value: float) -> PointScore:
        return PointScore(score=value)

    def learn(self, ts: float, value: float) -> None:
        return None

    def snapshot(self) -> dict[str, Any]:
        return {}


def _small() -> AnomalyLikelihood:
    return AnomalyLikelihood(learning_period=50, estimation_samples=50, reestimation_period=20, historic_window=500)


def _run(detector: LikelihoodDetector, raws: list[float], start: int = 0) -> list[float]:
    out = []
    for offset, raw in enumerate(raws):
        out.append(detector.score(float(start + offset), raw).score)
        detector.learn(float(start + offset), raw)
    return out


def test_tail_probability_is_symmetric_and_half_at_the_mean() -> None:
    assert abs(tail_probability(0.5, 0.5, 0.1) - 0.5) < 1e-4
    assert tail_probability(0.3, 0.5, 0.1) == tail_probability(0.7, 0.5, 0.1)
    assert tail_probability(1.0, 0.1, 0.05) < 1e-9


def test_probation_then_sustained_jump_is_flagged() -> None:
    rng = random.Random(1)
    detector = LikelihoodDetector(_Echo(), likelihood=_small())
    baseline = _run(detector, [0.1 + rng.random() * 0.1 for _ in range(400)])
    assert baseline[:100] == [0.5] * 100
    assert max(baseline[150:]) < 0.9999
    jumped = _run(detector, [0.9] * 10, start=400)
    assert max(jumped) >= 0.9999


def test_flat_metric_gets_the_null_distribution() -> None:
    detector = LikelihoodDetector(_Echo(), raw=lambda ts, value: 0.9 if ts > 300 else 0.1, likelihood=_small())
    scores = _run(detector, [5.0] * 320)
    assert max(scores) < 0.6


def test_score_is_pure_and_snapshot_round_trips() -> None:
    rng = random.Random(2)
    raws = [rng.random() ** 3 for _ in range(700)]
    original = LikelihoodDetector(_Echo(), likelihood=_small())
    for i, raw in enumerate(raws[:400]):
        first = original.score(float(i), raw).score
        assert original.score(float(i), raw + 0.5).score >= 0.0
        assert original.score(float(i), raw).score == first
        original.learn(float(i), raw)
    restored = LikelihoodDetector(_Echo(), likelihood=_small())
    restored.load_likelihood(json.loads(json.dumps(original.snapshot())))
    assert _run(restored, raws[400:], 400) == _run(original, raws[400:], 400)
    assert len(original.likelihood.scores) == 500
