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
from aiops.runtime.detect_publish import PublishFailedError
from aiops.runtime.detect_worker import DetectionWorker, _Rebalance
from aiops.runtime.detector_checkpoints import Output

RAW = "raw.nginx"


def _worker(micro_batched: bool = True, wall: list[float] | None = None, stall_seconds: float = 60.0,
            idle_seconds: float = 10.0) -> tuple[DetectionWorker, list[Output]]:
    """A worker whose wall clock reads `wall[0]` (2e9 when not given)."""
    config = AiopsConfig.model_validate({
        "detection": {"metric": {"detector": "ensemble"}, "snapshot_interval_seconds": 0},
        "ingest": {"raw_logs": [{"topic": RAW, "service": "nginx"}], "idle_partition_seconds": idle_seconds},
        "workers": {"stall_seconds": stall_seconds},
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
        ("implausible_time", RAW, 1)]  # it used to be an internal_error (a datetime overflow)
    assert worker.stage.metrics.live_series == 1
    assert worker._uncommitted == {TopicPartition(worker.config.topics.events, 0): 3, TopicPartition(RAW, 0): 3}


class _Consumer:
    """The consumer calls the worker makes while processing: assignment, commit (refusing partitions not
    assigned, as aiokafka does), highwater, pausing and topic metadata."""

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

    def partitions_for_topic(self, topic: str) -> set[int] | None:
        return {tp.partition for tp in self.assigned if tp.topic == topic} or None


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


def test_partitions_revoked_mid_batch_get_no_snapshot_and_are_released() -> None:
    """A snapshot written while a batch is in flight would hold records whose offsets are not committed: the
    next owner would count them twice. Revoked mid-batch, the worker writes nothing and lets the state go."""
    worker, published = _worker()
    topic = worker.config.topics.events
    tp = TopicPartition(topic, 0)
    worker._consumer = _Consumer({tp})  # type: ignore[assignment]
    events = [metric_event(60.0 * step, 100.0 + step % 3, name="rps") for step in range(3)]
    asyncio.run(worker.process_batch({tp: [_record(topic, at, e.model_dump_json().encode())
                                           for at, e in enumerate(events)]}))
    published.clear()

    async def revoke_while_a_batch_runs() -> None:
        async with worker._batch_lock:
            await _Rebalance(worker).on_partitions_revoked({tp})

    asyncio.run(revoke_while_a_batch_runs())
    assert published == []
    assert worker.stage.metrics.live_series == 0
    assert tp not in worker._uncommitted


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


class _PolledConsumer(_Consumer):
    """A `_Consumer` that also answers the liveness poll's end offsets."""

    def __init__(self, assigned: set[TopicPartition]) -> None:
        super().__init__(assigned)
        self.ends: dict[TopicPartition, int] = {}

    async def end_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: self.ends.get(tp, 0) for tp in partitions}


def test_progress_covers_the_owned_events_partitions_and_stalls_when_records_wait_unprocessed() -> None:
    wall = [2e9]
    worker, _ = _worker(wall=wall)
    events, stall = worker.config.topics.events, worker.config.workers.stall_seconds
    tp0, tp1, raw = TopicPartition(events, 0), TopicPartition(events, 1), TopicPartition(RAW, 0)
    consumer = _PolledConsumer({tp0, tp1, raw})
    worker._consumer = consumer  # type: ignore[assignment]
    asyncio.run(_Rebalance(worker).on_partitions_assigned({tp0, tp1, raw}))
    assert set(worker.progress.lag()) == {0, 1}  # raw-log topics are not tracked
    values = [metric_event(60.0 * step, 1.0, name="rps").model_dump_json().encode() for step in range(3)]
    asyncio.run(worker.liveness.poll(consumer, wall[0]))  # positioned at the end: nothing waits
    consumer.ends = {tp0: 3, tp1: 0}  # three records arrive
    asyncio.run(worker.liveness.poll(consumer, wall[0]))
    assert worker.progress.lag() == {0: 3, 1: 0}
    asyncio.run(worker.process_batch({tp0: [_record(events, at, value) for at, value in enumerate(values)]}))
    wall[0] += stall + 1
    asyncio.run(worker.process_batch({}))  # partition 1 is idle by now: partition 0's records are released
    asyncio.run(worker.liveness.poll(consumer, wall[0]))
    assert worker.progress.status(wall[0])["ok"]  # everything waiting was processed
    assert worker.progress.lag() == {0: 0, 1: 0}

    consumer.ends = {tp0: 5, tp1: 0}  # two more records the worker never processes
    asyncio.run(worker.liveness.poll(consumer, wall[0]))
    assert worker.progress.stalled(wall[0] + stall - 1) == []
    wall[0] += stall
    asyncio.run(worker.liveness.poll(consumer, wall[0]))
    assert worker.progress.status(wall[0]) == {"ok": False, "stalled_partitions": [0], "lag_records": {0: 2, 1: 0}}

    asyncio.run(_Rebalance(worker).on_partitions_revoked({tp0}))
    consumer.assigned = {tp1, raw}
    assert worker.progress.status(wall[0])["ok"]  # a partition given up is no longer this worker's work


def test_records_waiting_out_another_partitions_idle_grace_are_no_stall() -> None:
    wall = [2e9]
    worker, _ = _worker(wall=wall, stall_seconds=2.0, idle_seconds=5.0)
    events = worker.config.topics.events
    tp0, tp1 = TopicPartition(events, 0), TopicPartition(events, 1)
    consumer = _PolledConsumer({tp0, tp1})
    worker._consumer = consumer  # type: ignore[assignment]
    asyncio.run(_Rebalance(worker).on_partitions_assigned({tp0, tp1}))
    asyncio.run(worker.liveness.poll(consumer, wall[0]))
    consumer.ends = {tp0: 1, tp1: 0}
    value = metric_event(0.0, 1.0, name="rps").model_dump_json().encode()
    asyncio.run(worker.process_batch({tp0: [_record(events, 0, value)]}))  # held: partition 1 may be just behind
    asyncio.run(worker.liveness.poll(consumer, wall[0]))
    assert worker.progress.lag() == {0: 1, 1: 0}
    wall[0] += 4.0  # longer than the stall time, inside partition 1's grace: a chosen wait
    asyncio.run(worker.process_batch({}))
    asyncio.run(worker.liveness.poll(consumer, wall[0]))
    assert worker.progress.status(wall[0])["ok"]
    wall[0] += 1.0  # the grace is over: the record leaves
    asyncio.run(worker.process_batch({}))
    asyncio.run(worker.liveness.poll(consumer, wall[0]))
    assert worker.progress.status(wall[0]) == {"ok": True, "stalled_partitions": [], "lag_records": {0: 0, 1: 0}}


def test_records_a_restored_snapshot_already_covers_are_skipped_and_committed() -> None:
    """The previous owner was killed after its snapshot and before its commit: the snapshot's marker says
    offset 3, the committed offset is 0. Records 0-2 are in the restored state: processing them again would
    learn them twice (here: dead-letter them twice)."""
    worker, published = _worker()
    events = worker.config.topics.events
    tp = TopicPartition(events, 0)
    consumer = _Consumer({tp})
    worker._consumer = consumer  # type: ignore[assignment]
    worker.checkpoints._restored.discard(0)

    async def restore(bootstrap: str, partitions: set[int], assignment: Any) -> None:
        worker.checkpoints._restored |= partitions
        worker.checkpoints.resume_from[tp] = 3

    worker.checkpoints.restore = restore  # type: ignore[method-assign]
    records = [ConsumerRecord(events, 0, *astuple(_record(events, offset, b"not json"))[2:]) for offset in range(5)]
    asyncio.run(worker.process_batch({tp: records[:2]}))  # all covered: nothing processed, the position moves
    assert published == []
    assert consumer.committed == {tp: 2}
    asyncio.run(worker.process_batch({tp: records[2:]}))
    letters = [json.loads(value) for topic, _, value, _ in published if topic == worker.config.topics.deadletter]
    assert [letter["source_offset"] for letter in letters] == [3, 4]
    assert consumer.committed == {tp: 5}
    assert worker.checkpoints.resume_from == {}


def test_a_detection_timer_that_raises_is_counted_and_event_time_goes_on() -> None:
    worker, _ = _worker()

    def broken(watermark: float, input_ended: bool = False) -> list[Any]:
        raise RuntimeError("a timer bug")

    worker._signal_partitions = [0]
    worker.stage.advance = broken  # type: ignore[method-assign]
    outputs: list[Output] = []
    worker._tick(1_700_000_060.0, outputs)
    assert [(topic, key) for topic, key, _, _ in outputs] == [(worker.config.topics.signals, b"__watermark__")]
    assert json.loads(outputs[0][2])["ts"].startswith("2023-11-14T22:14:20")
    registry = worker.metrics.registry
    assert registry.get_sample_value("aiops_detection_step_errors_total", {"step": "advance"}) == 1.0


async def test_a_worker_whose_outputs_are_never_acknowledged_stops_loudly_and_commits_nothing() -> None:
    worker, _ = _worker()
    tp = TopicPartition(worker.config.topics.events, 0)
    consumer = _PolledConsumer({tp})
    record = _record(tp.topic, 0, b"not json")  # a dead letter: there is an output to publish

    async def getmany(**_: Any) -> dict[TopicPartition, list[ConsumerRecord[Any, Any]]]:
        return {tp: [record]}

    async def stop() -> None:
        return None

    async def never_acknowledged(outputs: list[Output]) -> None:
        raise PublishFailedError("not acknowledged for 120 s")

    consumer.getmany = getmany  # type: ignore[attr-defined]
    consumer.stop = stop  # type: ignore[attr-defined]
    worker._consumer = consumer  # type: ignore[assignment]
    worker._publish = never_acknowledged  # type: ignore[method-assign]
    with pytest.raises(PublishFailedError):
        await worker.run()
    await worker.stop()
    assert consumer.committed == {}
