"""`DetectorCheckpoints`: what is written per partition, and restoring snapshots this worker cannot read."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import TopicPartition
from prometheus_client import CollectorRegistry

from aiops.config import AiopsConfig
from aiops.detectors.stage import DetectionStage
from aiops.events import MetricEvent
from aiops.metrics import AiopsMetrics
from aiops.runtime import detector_checkpoints
from aiops.runtime.detector_checkpoints import DetectorCheckpoints
from aiops.runtime.detector_state import MARKER_KEY


def metric(i: int, value: float) -> MetricEvent:
    return MetricEvent(kind="metric", ts=datetime.fromtimestamp(1_760_000_000 + 60 * i, tz=UTC), source="t",
                       service="api", host="h1", name="latency_ms", value=value)


def checkpoints(detector: str) -> DetectorCheckpoints:
    config = AiopsConfig.model_validate({"detection": {"metric": {"detector": detector}}})
    stage = DetectionStage(config.detection)
    return DetectorCheckpoints(config, stage, AiopsMetrics(CollectorRegistry()), [], time.time)


def test_outputs_hold_changed_series_and_a_marker_per_partition_then_nothing() -> None:
    book = checkpoints("ewma")
    for i in range(5):
        event = metric(i, 100.0 + i)
        book.stage.process(event)
        book.track("events", 3, event)
    outputs = book.outputs()
    assert [(key, partition) for _topic, key, _value, partition in outputs] == [
        (b"api|h1|latency_ms", 3), (MARKER_KEY, 3)]
    assert book.outputs() == []


def test_a_snapshot_written_by_another_detector_kind_is_skipped_not_fatal() -> None:
    writer = checkpoints("ensemble")
    for i in range(50):
        writer.stage.process(metric(i, 100.0 + i % 3))
    state = writer.stage.metrics.export_series("api|h1|latency_ms")
    assert state is not None
    reader = checkpoints("ewma")  # the operator switched detection.metric.detector and restarted
    reader._restore_series(0, "api|h1|latency_ms", state)
    assert reader.series_unreadable == 1
    assert reader.series_restored == 0
    assert reader.stage.process(metric(51, 101.0)) == []  # the series starts fresh and keeps working
    same_kind = checkpoints("ensemble")
    same_kind._restore_series(0, "api|h1|latency_ms", state)
    assert same_kind.series_restored == 1


def test_with_snapshots_off_nothing_is_exported_but_ownership_is_kept() -> None:
    config = AiopsConfig.model_validate({"detection": {"snapshot_interval_seconds": 0}})
    stage = DetectionStage(config.detection)
    book = DetectorCheckpoints(config, stage, AiopsMetrics(CollectorRegistry()), [], time.time)
    for i in range(5):
        event = metric(i, 100.0 + i)
        stage.process(event)
        book.track("events", 1, event)
    assert book.outputs(force=True) == []
    assert stage.metrics.live_series == 1
    book.release([TopicPartition("events", 1)])
    assert stage.metrics.live_series == 0


def test_revoking_a_raw_log_partition_keeps_the_metric_series_of_the_events_partition_with_its_number() -> None:
    """A raw log topic's partition 1 and the events topic's partition 1 may go to different workers (the
    round-robin assignor): giving the first up must not drop the second's metric series."""
    config = AiopsConfig.model_validate({"detection": {"snapshot_interval_seconds": 0}})
    stage = DetectionStage(config.detection)
    book = DetectorCheckpoints(config, stage, AiopsMetrics(CollectorRegistry()), ["raw.nginx"], time.time)
    for i in range(5):
        event = metric(i, 100.0 + i)
        stage.process(event)
        book.track(config.topics.events, 1, event)
    book.release([TopicPartition("raw.nginx", 1)])
    assert stage.metrics.live_series == 1
    book.release([TopicPartition(config.topics.events, 1)])
    assert stage.metrics.live_series == 0


def test_restoring_a_partition_number_skips_the_series_of_an_events_partition_owned_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only raw log partition 1 is assigned here: the events topic's partition 1 snapshots (metric series,
    multivariate entities) belong to the worker that owns it."""
    writer = checkpoints("ensemble")
    for i in range(30):
        writer.stage.process(metric(i, 100.0 + i % 3))
    state = writer.stage.metrics.export_series("api|h1|latency_ms")

    async def read(bootstrap: str, topic: str, partitions: set[int], client_id: str) -> dict[int, dict[str, Any]]:
        return {1: {"api|h1|latency_ms": state}}

    monkeypatch.setattr(detector_checkpoints, "read_partitions", read)
    config = AiopsConfig.model_validate({"detection": {"metric": {"detector": "ensemble"}}})
    reader = DetectorCheckpoints(config, DetectionStage(config.detection), AiopsMetrics(CollectorRegistry()),
                                 ["raw.nginx"], time.time)
    asyncio.run(reader.restore("unused:9092", {1}, {TopicPartition("raw.nginx", 1)}))
    assert reader.stage.metrics.live_series == 0
    asyncio.run(reader.restore("unused:9092", {1}, {TopicPartition(config.topics.events, 1)}))
    assert reader.stage.metrics.live_series == 1
