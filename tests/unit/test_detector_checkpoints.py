"""`DetectorCheckpoints`: what is written per partition (a marker naming the offsets it covers), restoring
snapshots this worker cannot read, and where restored partitions resume."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime

import pytest
from aiokafka import TopicPartition
from prometheus_client import CollectorRegistry

from aiops.config import AiopsConfig
from aiops.detectors.stage import DetectionStage
from aiops.events import MetricEvent
from aiops.metrics import AiopsMetrics
from aiops.runtime import detector_checkpoints, detector_state
from aiops.runtime.detector_checkpoints import DetectorCheckpoints
from aiops.runtime.detector_state import MARKER_KEY, PartitionState, encode_marker, encode_state


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
    outputs = book.outputs({TopicPartition("events", 3): 5, TopicPartition("events", 1): 9})
    assert [(key, partition) for _topic, key, _value, partition in outputs] == [
        (b"api|h1|latency_ms", 3), (MARKER_KEY, 3)]
    assert json.loads(outputs[-1][2]) == {"offsets": {"events": 5}}  # what the snapshot covers, its partition's
    assert book.outputs({}) == []


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
    assert book.outputs({TopicPartition("events", 1): 5}, force=True) == []
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

    async def read(bootstrap: str, topic: str, partitions: set[int], client_id: str) -> dict[int, PartitionState]:
        return {1: PartitionState({"api|h1|latency_ms": state}, {})}

    monkeypatch.setattr(detector_checkpoints, "read_partitions", read)
    config = AiopsConfig.model_validate({"detection": {"metric": {"detector": "ensemble"}}})
    reader = DetectorCheckpoints(config, DetectionStage(config.detection), AiopsMetrics(CollectorRegistry()),
                                 ["raw.nginx"], time.time)
    asyncio.run(reader.restore("unused:9092", {1}, {TopicPartition("raw.nginx", 1)}))
    assert reader.stage.metrics.live_series == 0
    asyncio.run(reader.restore("unused:9092", {1}, {TopicPartition(config.topics.events, 1)}))
    assert reader.stage.metrics.live_series == 1


def test_restore_resumes_each_assigned_input_partition_where_the_snapshots_marker_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def read(bootstrap: str, topic: str, partitions: set[int], client_id: str) -> dict[int, PartitionState]:
        return {1: PartitionState({}, {"aiops.events": 40, "raw.nginx": 7, "gone": 3})}

    monkeypatch.setattr(detector_checkpoints, "read_partitions", read)
    config = AiopsConfig.model_validate({})
    book = DetectorCheckpoints(config, DetectionStage(config.detection), AiopsMetrics(CollectorRegistry()),
                               ["raw.nginx"], time.time)
    asyncio.run(book.restore("unused:9092", {1}, {TopicPartition(config.topics.events, 1)}))
    assert book.resume_from == {TopicPartition(config.topics.events, 1): 40}  # raw.nginx/1 is not ours
    book.release([TopicPartition(config.topics.events, 1)])
    assert book.resume_from == {}


def test_a_state_partition_counts_only_complete_snapshots_and_merges_their_markers() -> None:
    read = [
        (b"a", encode_state({"v": 1}), 0), (b"b", encode_state({"v": 1}), 1),
        (MARKER_KEY, encode_marker({"events": 10, "raw": 4}), 2),
        (None, b"fence", 3),
        (b"a", encode_state({"v": 2}), 4), (b"b", None, 5), (MARKER_KEY, encode_marker({"events": 20}), 6),
        (b"a", encode_state({"v": 3}), 7), (b"c", encode_state({"v": 3}), 8),  # killed before its marker
    ]
    restored = detector_state._replay(0, read)
    assert restored.states == {"a": {"v": 2}}
    assert restored.resume == {"events": 20, "raw": 4}
    assert detector_state._replay(0, [(MARKER_KEY, b"{}", 0)]).resume == {}  # a marker of an older version
