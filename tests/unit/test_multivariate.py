"""Multivariate per-entity detector: correlation breaks, explanations, batching, bounds, snapshots."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from sklearn.ensemble import IsolationForest

from aiops.detectors.multivariate.detector import EntityVectorizer, MultivariateDetector
from aiops.events import MetricEvent
from aiops.signals import Signal

T0 = 1_700_000_040.0  # a step boundary (multiple of 60)
STEP = 60.0


def metric(ts: float, name: str, value: float, host: str = "web-1", service: str = "checkout") -> MetricEvent:
    return MetricEvent(kind="metric", ts=datetime.fromtimestamp(ts, tz=UTC), service=service, host=host,
                       name=name, value=value)


def make(**params: Any) -> MultivariateDetector:
    defaults: dict[str, Any] = {"window": 300, "min_fit": 200, "refit_every": 10_000, "n_estimators": 50,
                                "score_interval_seconds": 3600.0}
    return MultivariateDetector(**{**defaults, **params})


def feed(detector: MultivariateDetector, step: int, values: dict[str, float], host: str = "web-1") -> None:
    for offset, (name, value) in enumerate(values.items()):
        detector.observe(metric(T0 + step * STEP + 1 + offset, name, value, host=host))


def train(detector: MultivariateDetector, steps: int = 250, hosts: tuple[str, ...] = ("web-1",)) -> np.ndarray:
    """Correlated cpu/latency per host (latency = 2 cpu + noise); fits every host's model."""
    rng = np.random.default_rng(7)
    cpu = 50.0 + 10.0 * rng.standard_normal(steps)
    latency = 2.0 * cpu + rng.normal(0.0, 2.0, steps)
    for i in range(steps):
        for host in hosts:
            feed(detector, i, {"cpu": float(cpu[i]), "latency": float(latency[i])}, host=host)
    assert detector.score_ready(T0 + steps * STEP) == []
    detector.score_ready(T0 + steps * STEP)  # the first fits ran at the end of the previous call
    return np.column_stack([cpu, latency])


def firing(signals: list[Signal]) -> list[Signal]:
    return [s for s in signals if s.status == "firing"]


def test_correlation_break_is_flagged_though_each_metric_alone_is_normal() -> None:
    detector = make()
    history = train(detector)
    cpu, latency = 65.0, 70.0  # cpu high-ish with latency low-ish: latency should be ~130
    z = np.abs((np.array([cpu, latency]) - history.mean(axis=0)) / history.std(axis=0))
    assert (z < 2.0).all()  # a univariate z-score test (even at 2 sigma) would not flag either metric
    feed(detector, 250, {"cpu": cpu, "latency": latency})
    signals = firing(detector.score_ready(T0 + 251 * STEP))
    assert len(signals) == 1
    signal = signals[0]
    assert (signal.name, signal.host, signal.service, signal.origin) == ("multivariate", "web-1", "checkout",
                                                                          "metric_anomaly")
    assert signal.fingerprint == f"web-1|multivariate#{T0 + 250 * STEP:.3f}"
    evidence = signal.evidence
    assert evidence is not None
    assert evidence.detector == "isolation_forest"
    assert evidence.score >= evidence.threshold
    top = str(evidence.details["top_metrics"])
    assert {part.split(":")[0] for part in top.split(",")} == {"cpu", "latency"}
    assert float(evidence.details["cpu"]) > 0.3
    assert float(evidence.details["latency"]) > 0.3


def test_normal_combination_is_not_flagged_and_episode_resolves() -> None:
    detector = make(end_after_normal=2)
    train(detector)
    feed(detector, 250, {"cpu": 60.0, "latency": 120.0})  # both +1 sigma, correlation kept
    assert detector.score_ready(T0 + 251 * STEP) == []
    feed(detector, 251, {"cpu": 50.0, "latency": 20.0})
    feed(detector, 252, {"cpu": 50.0, "latency": 100.0})
    feed(detector, 253, {"cpu": 55.0, "latency": 110.0})
    signals = detector.score_ready(T0 + 254 * STEP)
    assert [s.status for s in signals] == ["firing", "resolved"]
    assert signals[1].started_at == signals[0].started_at
    assert signals[1].fingerprint == signals[0].fingerprint
    assert signals[0].evidence is not None
    assert next(iter(str(signals[0].evidence.details["top_metrics"]).split(",")))


def test_one_score_samples_call_per_model_per_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    detector = make()
    hosts = ("web-1", "web-2", "db-1")
    train(detector, hosts=hosts)
    calls: list[int] = []
    original = IsolationForest.score_samples

    def spy(self: IsolationForest, x: np.ndarray) -> np.ndarray:
        calls.append(len(x))
        return original(self, x)  # type: ignore[no-any-return]

    monkeypatch.setattr(IsolationForest, "score_samples", spy)
    for step in range(250, 260):
        for host in hosts:
            feed(detector, step, {"cpu": 50.0, "latency": 100.0}, host=host)
    detector.score_ready(T0 + 260 * STEP)
    assert calls == [10, 10, 10]  # 30 vectors, one call per entity model
    calls.clear()
    feed(detector, 260, {"cpu": 50.0, "latency": 100.0})
    assert detector.advance(T0 + 260 * STEP + 30) == []  # step still open and interval not reached
    assert calls == []


def test_memory_is_bounded() -> None:
    detector = make(max_entities=20, window=100, min_fit=10_000, max_metrics=4)
    for step in range(150):
        for host in range(60) if step == 0 else range(40, 60):  # 40 one-off hosts, then 20 steady ones
            feed(detector, step, {f"m{j}": float(step + j) for j in range(6)}, host=f"h{host}")
        detector.score_ready(T0 + (step + 1) * STEP)
    assert detector.live_entities == 20
    assert detector.evicted == 40
    assert set(detector._entities) == {f"h{host}" for host in range(40, 60)}
    for entity in detector._entities.values():
        assert entity.window.data.shape == (100, 4)
        assert entity.window.size == 100
        assert len(entity.vectorizer.names) == 4
        assert entity.vectorizer.dropped_metrics > 0


def test_vectorizer_carries_forward_then_marks_missing() -> None:
    vectorizer = EntityVectorizer(step_seconds=STEP, max_carry_steps=1)
    assert vectorizer.add(metric(T0, "cpu", 1.0)) is None
    vectorizer.add(metric(T0 + 5, "cpu", 2.0))  # last value in the step wins
    vectorizer.add(metric(T0 + 6, "latency", 10.0))
    assert vectorizer.add(metric(T0 + STEP, "cpu", 3.0)) == (int(T0 // STEP), [2.0, 10.0])
    assert vectorizer.add(metric(T0 + 2 * STEP, "cpu", 4.0)) == (int(T0 // STEP) + 1, [3.0, 10.0])
    _bucket, values = vectorizer.close()  # type: ignore[misc]
    assert values[0] == 4.0
    assert math.isnan(values[1])
    assert vectorizer.add(metric(T0, "cpu", 9.0)) is None
    assert vectorizer.late == 1


def test_snapshot_restore_refits_from_window_and_still_flags() -> None:
    detector = make()
    train(detector)
    feed(detector, 250, {"cpu": 50.0, "latency": 100.0})  # an open step survives the snapshot
    state = json.loads(json.dumps(detector.snapshot(), allow_nan=False))
    restored = make()
    assert restored.restore(state)
    assert restored._entities["web-1"].window.rows().tolist() == detector._entities["web-1"].window.rows().tolist()
    assert restored.score_ready(T0 + 251 * STEP) == []  # closes step 250 (no model yet), then refits
    assert restored._entities["web-1"].model is not None
    feed(restored, 251, {"cpu": 65.0, "latency": 70.0})
    signals = firing(restored.score_ready(T0 + 252 * STEP))
    assert len(signals) == 1
    assert signals[0].fingerprint == f"web-1|multivariate#{T0 + 251 * STEP:.3f}"
    assert not MultivariateDetector().restore({"v": 999})


def test_one_entity_round_trips_alone_and_older_list_windows_still_load() -> None:
    detector = make()
    train(detector, hosts=("web-1", "web-2"))
    exported = json.loads(json.dumps(detector.export_entity("web-2"), allow_nan=False))
    assert detector.export_entity("nobody") is None
    restored = make()
    assert restored.import_entity("web-2", exported)
    assert restored.has_entity("web-2")
    assert not restored.has_entity("web-1")
    original = detector._entities["web-2"].window.rows()
    np.testing.assert_array_equal(restored._entities["web-2"].window.rows(), original)
    legacy = {**exported, "window": [[None if math.isnan(v) else v for v in row] for row in original.tolist()]}
    older = make()
    assert older.import_entity("web-2", legacy)
    np.testing.assert_array_equal(older._entities["web-2"].window.rows(), original)
    assert not make().import_entity("web-2", {**exported, "v": 999})
    # Restored entities refit from their window and score again.
    assert restored.score_ready(T0 + 251 * STEP) == []
    assert restored._entities["web-2"].model is not None
