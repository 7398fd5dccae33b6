"""Detection watermarks carry the input partitions they speak for (`Watermark.inputs`, `input_count`), so
correlation (`InputClocks`: the lowest over every input once each was reported) cannot run ahead of a
partition no worker has processed yet. The real `DetectionWorker.process_batch`, no broker."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord
from prometheus_client import CollectorRegistry
from support.simulated_service import FakeConsumer

from aiops.config import AiopsConfig
from aiops.metrics import AiopsMetrics
from aiops.runtime.correlation_store import InputClocks
from aiops.runtime.detect_inputs import InputWatermarks
from aiops.runtime.detect_worker import WATERMARK_KEY, DetectionWorker, _Rebalance
from aiops.runtime.detector_checkpoints import Output
from aiops.signals import Watermark

RAW = "raw.app"
T0 = 1_763_000_000.0
LATENESS = 30.0


class MetadataConsumer(FakeConsumer):
    """A fake consumer whose broker metadata (`partitions`) may list more partitions than it owns."""

    def __init__(self, owned: set[TopicPartition], metadata: dict[str, set[int]]) -> None:
        super().__init__(owned)
        self.metadata = metadata

    def partitions_for_topic(self, topic: str) -> set[int] | None:
        return self.metadata.get(topic)


class Worker:
    """A detection worker on a fake consumer; wall time moved by the test, outputs captured."""

    def __init__(self, owned: set[TopicPartition], metadata: dict[str, set[int]], raw: bool = False) -> None:
        ingest: dict[str, Any] = {"raw_logs": [{"topic": RAW, "service": "app"}]} if raw else {}
        self.config = AiopsConfig.model_validate({"ingest": ingest, "detection": {"snapshot_interval_seconds": 0},
                                                  "correlation": {"allowed_lateness_seconds": LATENESS}})
        self.wall = T0
        self.worker = DetectionWorker(self.config, "unused:9092", AiopsMetrics(CollectorRegistry()), "w",
                                      wall=lambda: self.wall)
        self.worker.checkpoints._restored |= set(range(8))
        self.consumer = MetadataConsumer(owned, metadata)
        self.worker._consumer = self.consumer  # type: ignore[assignment]
        self.worker._signal_partitions = [0]
        self.worker.alignment.assigned(owned, self.wall)
        self.outputs: list[Output] = []
        self.next_offset: dict[TopicPartition, int] = {}

        async def publish(outputs: list[Output]) -> None:
            self.outputs.extend(outputs)

        self.worker._publish = publish  # type: ignore[method-assign]

    def events(self, tp: TopicPartition, times: list[float]) -> list[ConsumerRecord[Any, Any]]:
        records = []
        for ts in times:
            offset = self.next_offset.get(tp, 0)
            self.next_offset[tp] = offset + 1
            value = json.dumps({"kind": "metric", "ts": ts, "service": "api", "name": f"m{tp.partition}",
                                "value": 1.0}).encode()
            records.append(ConsumerRecord(tp.topic, tp.partition, offset, int(ts * 1000), 0, None, value, None, 0,
                                          len(value), []))
        return records

    def feed(self, batch: dict[TopicPartition, list[float]], wait: float = 0.5) -> list[Watermark]:
        """Process one batch after `wait` seconds of wall time; the watermarks it sent."""
        self.wall += wait
        before = len(self.outputs)
        asyncio.run(self.worker.process_batch({tp: self.events(tp, times) for tp, times in batch.items()}))
        return [Watermark.model_validate_json(value) for _, key, value, _ in self.outputs[before:]
                if key == WATERMARK_KEY]


def test_every_watermark_reports_each_owned_input_at_its_time_and_counts_every_input() -> None:
    events = "aiops.events"
    e0, e1, raw0 = TopicPartition(events, 0), TopicPartition(events, 1), TopicPartition(RAW, 0)
    worker = Worker({e0, e1, raw0}, {events: {0, 1, 2}, RAW: {0, 1}}, raw=True)
    assert worker.feed({e0: [T0, T0 + 60], e1: [T0 + 30, T0 + 90]}) == []  # raw.app/0 holds them back (no ticks)
    marks = worker.feed({}, wait=worker.config.ingest.idle_partition_seconds)  # raw.app/0 idle: released
    assert marks
    for mark in marks:
        assert mark.input_count == 5  # 3 events partitions + 2 raw-log partitions, owned here or not
        assert mark.inputs == dict.fromkeys(["aiops.events/0", "aiops.events/1", "raw.app/0"], mark.ts.timestamp())
    assert marks[-1].ts.timestamp() == T0 + 90 - LATENESS

    asyncio.run(_Rebalance(worker.worker).on_partitions_revoked({e1}))
    worker.consumer.partitions = {e0, raw0}
    later = worker.feed({e0: [T0 + 120, T0 + 180]})  # the input resumes after being idle: raw.app/0 holds
    later += worker.feed({}, wait=worker.config.ingest.idle_partition_seconds)  # them back again for a while
    assert later
    assert all(set(mark.inputs) == {"aiops.events/0", "raw.app/0"} for mark in later)  # e1 is not ours any more


def test_a_worker_restarted_with_part_of_its_partitions_cannot_move_correlation_past_the_others() -> None:
    """Before the crash every input reached T0 (checkpointed by correlation). The restarted worker gets
    partition 0 first and drains an hour of it; partition 1's hour waits for its owner. Correlation stays at
    T0 until partition 1 is assigned and processed, then follows."""
    events = "aiops.events"
    e0, e1 = TopicPartition(events, 0), TopicPartition(events, 1)
    clocks = InputClocks()
    assert clocks.report({"aiops.events/0": T0, "aiops.events/1": T0}, 2) == T0  # the previous incarnation
    worker = Worker({e0}, {events: {0, 1}})
    hour = [T0 + 60 * step for step in range(61)]
    ahead = worker.feed({e0: hour})
    assert ahead[-1].ts.timestamp() == T0 + 3600 - LATENESS  # detection's own clock is an hour ahead
    assert all(mark.inputs.keys() == {"aiops.events/0"} and mark.input_count == 2 for mark in ahead)
    assert [clocks.report(mark.inputs, mark.input_count) for mark in ahead] == [None] * len(ahead)

    worker.consumer.partitions = {e0, e1}
    asyncio.run(_Rebalance(worker.worker).on_partitions_assigned({e1}))
    caught_up = worker.feed({e1: [*hour, T0 + 3660], e0: [T0 + 3660, T0 + 3720]})
    advances = [clocks.report(mark.inputs, mark.input_count) for mark in caught_up]
    assert [mark.inputs for mark in caught_up] == [dict.fromkeys(["aiops.events/0", "aiops.events/1"],
                                                                 T0 + 3660 - LATENESS)]
    assert advances == [T0 + 3660 - LATENESS]  # partition 1 was processed up to T0 + 3660 by then


def test_without_a_consumer_or_its_metadata() -> None:
    marks = InputWatermarks(["aiops.events", RAW], configured_partitions=4)
    assert marks.count(None) == 0  # no group (tests, tools): correlation advances to the watermark's ts
    assert marks.count(MetadataConsumer(set(), {"aiops.events": {0, 1}})) == 2 + 4  # RAW: the configured count
    tp = TopicPartition(RAW, 3)
    assert marks.inputs([tp], 5.0, idle=lambda _: False) == {}
    marks.delivered(tp)
    assert marks.inputs([tp, TopicPartition("other", 0)], 5.0, idle=lambda _: True) == {"raw.app/3": 5.0}
    marks.revoked([tp])
    assert marks.inputs([tp], 5.0, idle=lambda _: False) == {}
