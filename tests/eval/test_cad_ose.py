"""CAD OSE port: novelty is flagged, scoring is pure, snapshots round-trip, memory is bounded."""

from __future__ import annotations

import json
import math
import random

from aiops_eval.baselines.cad_ose import CadOseDetector, py2_tuple_hash


def _pattern(n: int, period: int = 12) -> list[float]:
    return [float(i % period) for i in range(n)]


def _run(detector: CadOseDetector, values: list[float], start: int = 0) -> list[float]:
    scores = []
    for offset, value in enumerate(values):
        ts = 60.0 * (start + offset)
        scores.append(detector.score(ts, value).score)
        detector.learn(ts, value)
    return scores


def test_python2_tuple_hash_matches_known_values() -> None:
    assert py2_tuple_hash(()) == 3527539
    assert py2_tuple_hash((1, 2)) == 3713081631934410656


def test_repeated_pattern_is_learnt_and_a_novel_pattern_is_flagged() -> None:
    detector = CadOseDetector(probation_points=120, rest_period=30)
    learnt = _run(detector, _pattern(1500))
    novel = [11.0 - (i * 5) % 12 for i in range(60)]
    flagged = _run(detector, novel, start=1500)
    assert max(learnt[-300:]) < 0.9999
    assert max(flagged) >= 0.9999


def test_probation_scores_zero_and_is_not_warm() -> None:
    detector = CadOseDetector(probation_points=50)
    scores = _run(detector, _pattern(49))
    assert not detector.warm
    assert scores == [0.0] * 49
    _run(detector, [3.0], start=49)
    assert detector.warm
    assert detector.count == 50


def test_score_is_pure_and_learn_reuses_it() -> None:
    values = [math.sin(i / 7.0) * 10 + random.Random(i).random() for i in range(900)]
    scored = CadOseDetector(probation_points=100)
    plain = CadOseDetector(probation_points=100)
    for i, value in enumerate(values):
        first = scored.score(float(i), value).score
        scored.score(float(i), value + 100.0)  # a different candidate must not leave a trace
        assert scored.score(float(i), value).score == first
        scored.learn(float(i), value)
        plain.learn(float(i), value)
    assert json.dumps(scored.snapshot()) == json.dumps(plain.snapshot())


def test_snapshot_restore_gives_identical_scores() -> None:
    rng = random.Random(3)
    values = [float(i % 24) + rng.gauss(0, 0.5) for i in range(1600)]
    original = CadOseDetector(probation_points=200, rest_period=40)
    _run(original, values[:1000])
    state = json.loads(json.dumps(original.snapshot()))
    restored = CadOseDetector.restore(state, probation_points=200, rest_period=40)
    assert _run(restored, values[1000:], 1000) == _run(original, values[1000:], 1000)
    assert json.dumps(restored.snapshot()) == json.dumps(original.snapshot())


def test_snapshot_during_probation_round_trips() -> None:
    original = CadOseDetector(probation_points=100)
    _run(original, _pattern(60))
    restored = CadOseDetector.restore(json.loads(json.dumps(original.snapshot())), probation_points=100)
    assert _run(restored, _pattern(200)[60:], 60) == _run(original, _pattern(200)[60:], 60)


def test_memory_is_bounded() -> None:
    rng = random.Random(7)
    detector = CadOseDetector(probation_points=50, rest_period=20, max_contexts=400)
    _run(detector, [rng.random() * 100 for _ in range(3000)])
    memory = detector.memory
    assert len(memory.contexts) == 400
    assert len(memory.sides[0]) <= 400
    assert len(memory.sides[1]) <= 400
    assert len(detector.history) <= 20
    assert detector.buffer == []


def test_fixed_range_is_warm_at_once_and_non_finite_values_are_ignored() -> None:
    detector = CadOseDetector(value_range=(0.0, 11.0), rest_period=10)
    assert detector.warm
    _run(detector, _pattern(100))
    before = json.dumps(detector.snapshot())
    assert detector.score(1e6, math.nan).score == 0.0
    detector.learn(1e6, math.nan)
    assert json.dumps(detector.snapshot()) == before


def test_online_range_grows_with_new_extremes() -> None:
    detector = CadOseDetector(probation_points=20)
    _run(detector, _pattern(40))
    assert detector.range == (0.0, 11.0)
    _run(detector, [50.0, -5.0], start=40)
    assert detector.range == (-5.0, 50.0)
