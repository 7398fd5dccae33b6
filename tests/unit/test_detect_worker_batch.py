"""`DetectionWorker.process_batch` without a broker: bad records in the middle of a batch become dead letters.

The worker is built but never started; publishing is replaced by a list, snapshots are off and every
partition counts as restored, so no I/O happens.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import astuple
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError
from aiokafka.structs import ConsumerRecord
from prometheus_client import CollectorRegistry
from support.builders import metric_event

from aiops.config import AiopsConfig
from aiops.metrics import AiopsMetrics
from aiops.runtime.detect_worker import DetectionWorker, _Rebalance
from aiops.runtime.detector_checkpoints import Output

RAW = "raw.nginx"


def _worker(micro_batched: bool = True, wall: list[float] | None = None) -> tuple[DetectionWorker, list[Output]]:
    """A worker whose wall clock reads `wall[0]` (2e9 when not given)."""
    config = AiopsConfig.model_validate({
        "detection": {"metric": {"detector": "ensemble"}, "snapshot_interval_seconds": 0},
        "ingest": {"raw_logs": [{"topic": RAW, "service": "nginx"}]},
    })
    clock = wall if wall is not None else [2e9]
    worker = DetectionWorker(config, "unused:9092", AiopsMetrics(CollectorRegistry()), "p0", wall=lambda: clock[0],
                             micro_batched=micro_batched)
    worker.checkpoints._restored |= set(range(8))
    published: list[Output] = []

    async def publish(outputs: list[Output]) -> None:
        published.extend(outputs)

    worker._publish = publish  # type: ignore[method-assign]
    return worker, published


def _record(topic: str, offset: int, value: bytes, timestamp_ms: int = 1_700_000_000_000) -> ConsumerRecord[Any, Any]:
    return ConsumerRecord(topic, 0, offset, timestamp_ms, 0, None, value, None, 0, len(value), [])


def test_a_raw_log_line_with_an_impossible_timestamp_is_dead_lettered_and_the_batch_goes_on() -> None:
    wall = [2e9]
    worker, published = _worker(wall=wall)
    events = [metric_event(60.0 * step, 100.0 + step % 3, name="rps") for step in range(3)]
    metrics = [_record(worker.config.topics.events, at, e.model_dump_json().encode()) for at, e in enumerate(events)]
    lines = [
        _record(RAW, 0, b"GET / 200"),
        _record(RAW, 1, b"GET /x 500", timestamp_ms=1_700_000_000_000_000),  # producer wrote microseconds
        _record(RAW, 2, b"GET /y 200"),
    ]
    batch = {TopicPartition(worker.config.topics.events, 0): metrics, TopicPartition(RAW, 0): lines}
    asyncio.run(worker.process_batch(batch))
    wall[0] += worker.config.ingest.idle_partition_seconds  # the partition drained first waited for the other
    asyncio.run(worker.process_batch({}))
    letters = [json.loads(value) for topic, _, value, _ in published if topic == worker.config.topics.deadletter]
    assert [(letter["reason"], letter["source_topic"], letter["source_offset"]) for letter in letters] == [
        ("internal_error", RAW, 1)]
    assert worker.stage.metrics.live_series == 1
    assert worker._uncommitted == {TopicPartition(worker.config.topics.events, 0): 3, TopicPartition(RAW, 0): 3}


class _Consumer:
    """The consumer calls the worker makes while processing: assignment, commit (refusing partitions not
    assigned, as aiokafka does), highwater and pausing."""

    def __init__(self, assigned: set[TopicPartition]) -> None:
        self.assigned = assigned
        self.committed: dict[TopicPartition, int] = {}
        self.paused_partitions: set[TopicPartition] = set()

    def paused(self) -> set[TopicPartition]:
        return set(self.paused_partitions)

    def pause(self, *partitions: TopicPartition) -> None:
        self.paused_partitions.update(partitions)

    def resume(self, *partitions: TopicPartition) -> None:
        self.paused_partitions.difference_update(partitions)

    def assignment(self) -> set[TopicPartition]:
        return set(self.assigned)

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        for tp in offsets:
            if tp not in self.assigned:
                raise IllegalStateError(f"Partition {tp} is not assigned")
        self.committed.update(offsets)

    def highwater(self, tp: TopicPartition) -> int | None:
        return None


def _worker_on_two_partitions() -> tuple[DetectionWorker, list[Output], _Consumer, tuple[TopicPartition, ...]]:
    """A worker whose (fake) consumer holds events partitions 0 and 1."""
    worker, published = _worker()
    topic = worker.config.topics.events
    partitions = TopicPartition(topic, 0), TopicPartition(topic, 1)
    consumer = _Consumer(set(partitions))
    worker._consumer = consumer
    return worker, published, consumer, partitions


def test_a_partition_revoked_while_the_batch_is_published_is_not_committed_afterwards() -> None:
    worker, published, consumer, (kept, moved) = _worker_on_two_partitions()
    outputs = worker._publish

    async def publish_while_rebalancing(batch_outputs: list[Output]) -> None:
        await outputs(batch_outputs)
        if moved in consumer.assigned:  # the group rebalances while this batch's outputs are acknowledged
            await _Rebalance(worker).on_partitions_revoked({kept, moved})
            consumer.assigned = {kept}

    worker._publish = publish_while_rebalancing  # type: ignore[method-assign]
    events = [metric_event(60.0 * step, 100.0 + step % 3, name=f"m{step % 2}") for step in range(4)]
    values = [event.model_dump_json().encode() for event in events] + [b"not json"]  # one dead letter: outputs
    batch = {
        tp: [ConsumerRecord(tp.topic, tp.partition, *astuple(_record(tp.topic, at, value))[2:])
             for at, value in enumerate(values)]
        for tp in (kept, moved)
    }
    asyncio.run(worker.process_batch(batch))
    assert published
    assert consumer.committed == {kept: 5}


def test_revoked_partitions_are_released_even_when_the_last_commit_fails() -> None:
    worker, _ = _worker()
    topic = worker.config.topics.events
    tp = TopicPartition(topic, 0)
    consumer = _Consumer({tp})
    worker._consumer = consumer  # type: ignore[assignment]
    events = [metric_event(60.0 * step, 100.0 + step % 3, name="rps") for step in range(3)]
    asyncio.run(worker.process_batch({tp: [_record(topic, at, e.model_dump_json().encode())
                                           for at, e in enumerate(events)]}))
    assert worker.stage.metrics.live_series == 1
    worker._uncommitted[tp] = 3

    async def refused(offsets: dict[TopicPartition, int]) -> None:
        raise CommitFailedError("the group has already rebalanced")

    consumer.commit = refused  # type: ignore[method-assign]
    with pytest.raises(CommitFailedError):  # aiokafka logs what the listener raises and goes on
        asyncio.run(_Rebalance(worker).on_partitions_revoked({tp}))
    assert worker.stage.metrics.live_series == 0
    assert worker.checkpoints.unrestored([0]) == {0}
    consumer.assigned = set()
    asyncio.run(worker.checkpoint())  # nothing of the revoked partition is left to commit


def test_records_of_a_partition_revoked_while_restoring_are_left_to_its_new_owner() -> None:
    worker, published, consumer, (kept, moved) = _worker_on_two_partitions()
    worker.checkpoints._restored.clear()

    async def restore_while_rebalancing(bootstrap: str, partitions: set[int], assignment: Any) -> None:
        worker.checkpoints._restored |= partitions  # reading the snapshots takes a while: the group rebalances
        await _Rebalance(worker).on_partitions_revoked({kept, moved})
        consumer.assigned = {kept}
        worker.checkpoints._restored |= {kept.partition}

    worker.checkpoints.restore = restore_while_rebalancing  # type: ignore[method-assign]
    values = [metric_event(60.0 * step, 1.0, name=f"m{tp.partition}").model_dump_json().encode()
              for step, tp in enumerate((kept, moved))]
    batch = {tp: [ConsumerRecord(tp.topic, tp.partition, *astuple(_record(tp.topic, 0, value))[2:]),
                  ConsumerRecord(tp.topic, tp.partition, *astuple(_record(tp.topic, 1, b"not json"))[2:])]
             for tp, value in zip((kept, moved), values, strict=True)}
    asyncio.run(worker.process_batch(batch))
    assert worker.stage.metrics.live_series == 1  # only the kept partition's series
    letters = [json.loads(value) for topic_, _, value, _ in published if topic_ == worker.config.topics.deadletter]
    assert [letter["source_partition"] for letter in letters] == [kept.partition]
    assert set(worker.checkpoints._series_owned) == {kept.partition}
    assert consumer.committed == {kept: 2}
