"""RelationModel: learned co-occurrence edges, precedence, significance, decay, bounds and snapshots."""

from __future__ import annotations

import json
import random

import pytest

from aiops.correlation.cooccurrence import RelationModel, binomial_upper_tail, member_type
from aiops.signals import Signal, dt_from_epoch


def _a_then_b(model: RelationModel, rng: random.Random, cycles: int = 200) -> float:
    """A fires, B follows within 60 s; cycles are 1000 s apart; noise types C..G fire at random."""
    t = 0.0
    for _ in range(cycles):
        t += 1000.0
        model.observe("A", t)
        model.observe("B", t + rng.uniform(1, 60))
        model.observe(rng.choice("CDEFG"), t + rng.uniform(100, 900))
    return t


def test_a_always_followed_by_b_gives_significant_edge_with_precedence() -> None:
    model = RelationModel()
    _a_then_b(model, random.Random(3))
    edge = model.related("A", "B")
    assert edge is not None
    assert edge.source == "A"
    assert edge.target == "B"
    assert edge.precedence > 0.9
    assert edge.p_value <= 0.01
    assert edge.lift > 1.0
    assert edge.confidence > 0.5
    reverse = model.related("B", "A")
    assert reverse is not None
    assert reverse.precedence < 0.1
    top = model.edges()[0]
    assert (top.source, top.target) == ("A", "B")


def test_independent_types_give_no_significant_edges() -> None:
    rng = random.Random(11)
    false_edges = 0
    pairs = 0
    for _ in range(5):
        model = RelationModel()
        events = sorted((rng.uniform(0, 2e6), f"T{rng.randrange(20)}") for _ in range(8000))
        for ts, name in events:
            model.observe(name, ts)
        false_edges += len(model.edges())
        pairs += model.pair_count
    assert pairs > 500
    assert false_edges / pairs <= 0.01
    assert false_edges <= 1


def test_decay_forgets_an_old_relation() -> None:
    model = RelationModel(half_life_seconds=20000.0)
    rng = random.Random(5)
    t = _a_then_b(model, rng, cycles=100)
    assert model.related("A", "B") is not None
    for step in range(2000):  # 90 half-lives of unrelated traffic
        model.observe(rng.choice("CDEFG"), t + 1000.0 + step * 900.0)
    assert model.related("A", "B") is None
    assert model.count("A") < 1e-6


def test_memory_stays_bounded_under_many_types() -> None:
    model = RelationModel(max_types=50, max_pairs=200)
    rng = random.Random(9)
    for i in range(20000):
        model.observe(f"type{rng.randrange(5000)}", i * 2.0)
        assert model.type_count <= 50
        assert model.pair_count <= 200
    _a_then_b(model, rng)
    assert model.type_count <= 50


def test_snapshot_restore_is_identity_and_json() -> None:
    model = RelationModel(window_seconds=120.0)
    rng = random.Random(2)
    _a_then_b(model, rng, cycles=50)
    state = json.loads(json.dumps(model.snapshot()))
    copy = RelationModel.restore(state)
    assert copy.snapshot() == model.snapshot()
    assert copy.edges() == model.edges()
    model.observe("A", 1e6)
    copy.observe("A", 1e6)
    assert copy.snapshot() == model.snapshot()
    assert RelationModel.restore(state, significance=1e-300).edges() == []


@pytest.mark.parametrize("linked", [False, True])
def test_contexts_keep_devices_apart_unless_neighbours(linked: bool) -> None:
    model = RelationModel()
    rng = random.Random(4)
    for i in range(100):
        model.observe("A", i * 1000.0, context="d1")
        model.observe(rng.choice("CDEFG"), i * 1000.0 + rng.uniform(0, 900), context=rng.choice(["d1", "d2"]))
        model.observe("B", i * 1000.0 + 5, context="d2", neighbours=["d1"] if linked else [])
    assert (model.related("A", "B") is not None) is linked


def test_binomial_tail_matches_exact_values() -> None:
    assert binomial_upper_tail(3, 10, 0.1) == pytest.approx(0.0701908264)
    assert binomial_upper_tail(10, 10, 0.9) == pytest.approx(0.9**10)
    assert binomial_upper_tail(0, 10, 0.5) == 1.0


def test_member_type_of_alerts_and_anomalies() -> None:
    when = dt_from_epoch(0.0)
    alert = Signal(origin="alert", fingerprint="f", name="HighErrorRate", service="api", status="firing",
                   ts=when, started_at=when)
    anomaly = alert.model_copy(update={"origin": "metric_anomaly", "name": "latency_p99"})
    assert member_type(alert) == "HighErrorRate"
    assert member_type(anomaly) == "metric_anomaly:latency_p99"
