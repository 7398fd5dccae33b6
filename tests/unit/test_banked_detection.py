"""The streaming stage's micro-batched ensemble gives the same signals and snapshots as the scalar one.

A `DetectionStage(micro_batched=True)` with the ensemble configured keeps its series in one
`EnsembleBank` and scores each batch's samples together (`prepare`) before the events are processed one
by one. Compared with the plain stage on the same events, under the scalar/micro-batched contract of
`support.floats` (same signals, episodes, strings and snapshot layout; floats within a relative 1e-9),
also with numpy's transcendental functions forced one ulp off (`rounding`), as on AVX-512 CPUs: the same
signals (including episodes, under eviction when the live-series cap is hit mid-batch, and for samples
never prepared) and the same series snapshots, which restore into either kind of stage.
"""

from __future__ import annotations

import gc
from typing import Any

import numpy as np
import orjson
import pytest
from support.builders import alert_event, log_event, metric_event
from support.floats import assert_equivalent

from aiops.config import DetectionConfig
from aiops.detectors.metric import ensemble
from aiops.detectors.metric.bank.ensemble_bank import EnsembleBank
from aiops.detectors.metric.calibrated import CalibratedDetector
from aiops.detectors.metric.ensemble import build_components
from aiops.detectors.metric.level import LevelDetector
from aiops.detectors.stage import DetectionStage
from aiops.events import AlertEvent, LogEvent, MetricEvent, series_key

pytestmark = pytest.mark.equivalence

Event = MetricEvent | LogEvent | AlertEvent


def _config(**metric: Any) -> DetectionConfig:
    return DetectionConfig.model_validate({"metric": {"detector": "ensemble", **metric}})


def _events(series: int, points: int, seed: int = 0) -> list[Event]:
    """Interleaved samples of `series` gauges and counters with spikes, shifts and flat stretches, some logs."""
    rng = np.random.default_rng(seed)
    events: list[Event] = []
    for step in range(points):
        for index in range(series):
            value = 100.0 + 10.0 * np.sin(step / 40.0 + index) + rng.normal(0.0, 1.0)
            if index % 3 == 1:
                value = float(step * 7 + index)  # counter
            if step in (450, 451, 452, 620) and index % 2 == 0:
                value += 60.0
            if index % 5 == 4 and 500 <= step < 560:
                value = 100.0
            if step >= 700 and index % 4 == 0:
                value += 25.0
            events.append(metric_event(step * 300.0 + index, float(value), name=f"m{index}", host=f"h{index % 3}"))
        if step % 50 == 0:
            events.append(log_event(step * 300.0, level="info", message="ok"))
        if step == 300:
            events.append(alert_event(step * 300.0))
    return events


def _run(stage: DetectionStage, events: list[Event], batch: int, prepare: bool = True) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for start in range(0, len(events), batch):
        part = events[start : start + batch]
        if prepare:
            stage.prepare(part)
        for event in part:
            out += [signal.model_dump(mode="json") for signal in stage.process(event)]
    return out


def test_micro_batched_stage_gives_the_scalar_signals_and_snapshots(rounding: str) -> None:
    events = _events(12, 800)
    scalar, banked = DetectionStage(_config()), DetectionStage(_config(), micro_batched=True)
    expected = _run(scalar, events, 10**9, prepare=False)
    assert any(signal["origin"] == "metric_anomaly" for signal in expected)
    assert_equivalent(_run(banked, events, 700), expected)
    for event in events[:12]:
        assert isinstance(event, MetricEvent)
        key = series_key(event)
        assert_equivalent(banked.metrics.export_series(key), scalar.metrics.export_series(key))


def test_eviction_mid_batch_and_unprepared_samples_match_the_scalar_stage(rounding: str) -> None:
    events = _events(9, 300, seed=1)
    expected = _run(DetectionStage(_config(max_series=6)), events, 10**9, prepare=False)
    banked = DetectionStage(_config(max_series=6), micro_batched=True)
    assert_equivalent(_run(banked, events, 400), expected)
    assert banked.metrics.evicted > 0
    unprepared = DetectionStage(_config(max_series=6), micro_batched=True)
    assert_equivalent(_run(unprepared, events[:600], 600, prepare=False),
                      _run(DetectionStage(_config(max_series=6)), events[:600], 600, prepare=False))


def test_series_state_moves_between_micro_batched_and_scalar_stages(rounding: str) -> None:
    events = _events(6, 600, seed=2)
    half = len(events) // 2
    reference = DetectionStage(_config())
    expected = _run(reference, events, 10**9, prepare=False)
    banked = DetectionStage(_config(), micro_batched=True)
    first = _run(banked, events[:half], 500)
    assert_equivalent(first, expected[: len(first)])
    keys = [series_key(event) for event in events[:6] if isinstance(event, MetricEvent)]
    scalar = DetectionStage(_config())
    for key in keys:
        state = banked.metrics.export_series(key)
        assert state is not None
        assert scalar.metrics.import_series(key, orjson.loads(orjson.dumps(state)))
    metrics_only = [event for event in events[half:] if isinstance(event, MetricEvent)]
    metric_signals = [signal for signal in expected[len(first) :] if signal["origin"] == "metric_anomaly"]
    assert_equivalent(_run(scalar, metrics_only, 10**9, prepare=False), metric_signals)
    back = DetectionStage(_config(), micro_batched=True)
    for key in keys:
        state = scalar.metrics.export_series(key)
        assert state is not None
        assert back.metrics.import_series(key, orjson.loads(orjson.dumps(state)))
        assert_equivalent(back.metrics.export_series(key), state)


def test_dropped_series_give_their_bank_index_back() -> None:
    stage = DetectionStage(_config(), micro_batched=True)
    events = _events(4, 30)
    _run(stage, events, 50)
    banked = stage._banked
    assert banked is not None
    used = banked.bank.size
    stage.metrics.forget([series_key(event) for event in events if isinstance(event, MetricEvent)])
    gc.collect()
    _run(stage, _events(4, 30, seed=3), 50)
    assert banked.bank.size == used


def test_an_ensemble_the_bank_cannot_vectorise_runs_on_the_scalar_path(monkeypatch: pytest.MonkeyPatch) -> None:
    def with_unknown_member() -> dict[str, CalibratedDetector]:
        return {**build_components(), "other": EwmaLike()}

    monkeypatch.setattr(ensemble, "build_components", with_unknown_member)
    stage = DetectionStage(_config(), micro_batched=True)
    assert stage._banked is None
    events = _events(3, 50)
    assert_equivalent(_run(stage, events, 40), _run(DetectionStage(_config()), events, 10**9, prepare=False))


class EwmaLike(LevelDetector):
    """A member class the bank has no vectorised counterpart for."""


def test_a_batch_with_few_series_and_many_points_each_is_not_scored_one_round_per_point(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A catch-up batch (a few series, hundreds of points each) costs a fixed numpy overhead per bank
    round; points past the wide rounds are scored by the scalar ensemble, with the same signals."""
    rounds = 0
    original = EnsembleBank._round

    def counting(self: EnsembleBank, *args: Any) -> None:
        nonlocal rounds
        rounds += 1
        original(self, *args)

    monkeypatch.setattr(EnsembleBank, "_round", counting)
    events = _events(3, 800, seed=5)
    scalar = DetectionStage(_config())
    expected = _run(scalar, events, 10**9, prepare=False)
    assert any(signal["origin"] == "metric_anomaly" for signal in expected)
    banked = DetectionStage(_config(), micro_batched=True)
    assert_equivalent(_run(banked, events, 1000), expected)
    assert rounds <= 2 * (len(events) // 1000 + 1)  # was one round per point of a series in a batch
    for event in events[:3]:
        assert isinstance(event, MetricEvent)
        key = series_key(event)
        assert_equivalent(banked.metrics.export_series(key), scalar.metrics.export_series(key))


def test_batches_mixing_bank_rounds_and_scalar_tails_match_the_scalar_stage(rounding: str) -> None:
    """Many series once per step and a few hot ones several times: the bank scores the wide rounds, the
    hot series' later points go through filled scalar ensembles; with evictions, same signals and state."""
    rng = np.random.default_rng(7)
    events: list[Event] = []
    for step in range(260):
        for index in range(80):
            repeats = 1 + (int(rng.integers(0, 6)) if index < 3 else 0)
            for repeat in range(repeats):
                value = 50.0 + 5.0 * np.sin(step / 20.0 + index) + rng.normal(0.0, 1.0)
                if step == 230 and index % 7 == 0:
                    value += 40.0
                events.append(metric_event(step * 300.0 + index + repeat / 10.0, float(value), name=f"m{index}"))
    for max_series in (200_000, 70):
        scalar = DetectionStage(_config(max_series=max_series))
        expected = _run(scalar, events, 10**9, prepare=False)
        assert max_series < 80 or any(signal["origin"] == "metric_anomaly" for signal in expected)
        banked = DetectionStage(_config(max_series=max_series), micro_batched=True)
        assert_equivalent(_run(banked, events, 900), expected)
        for index in range(80):
            key = series_key(metric_event(0.0, 0.0, name=f"m{index}"))
            assert_equivalent(banked.metrics.export_series(key), scalar.metrics.export_series(key))
