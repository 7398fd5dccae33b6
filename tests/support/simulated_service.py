"""Test support: the streaming service without a broker, to compare live runs with replay quickly.

`SimulatedService` runs the real `DetectionWorker.process_batch` (never started: a fake consumer, a fake
wall clock, publishing captured) and hands its outputs, in order, to one `CorrelationStage` per signals
partition the way the `correlate` agent does (a signal to the partition of its scope key, a watermark to
the partition it was sent to), all sharing one engine. Tests choose how the input partitions' records
arrive (`deliver`) and how wall time passes (`wait`). Use it as a context manager (it owns an event loop).
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord
from prometheus_client import CollectorRegistry

from aiops.config import AiopsConfig
from aiops.correlation.stage import CorrelationStage
from aiops.correlation.state import InMemoryStore
from aiops.incidents import Incident
from aiops.metrics import AiopsMetrics
from aiops.pipeline import build_correlator
from aiops.runtime.detect_worker import DetectionWorker
from aiops.runtime.detector_checkpoints import Output
from aiops.runtime.kafka_io import event_key
from aiops.signals import SIGNAL_MESSAGE_ADAPTER, Signal


class FakeConsumer:
    """What the worker asks its consumer while processing: assignment, pausing, highwater (the backlog the
    test says the broker holds), commit, topic metadata."""

    def __init__(self, partitions: Iterable[TopicPartition]) -> None:
        self.partitions = set(partitions)
        self.paused_partitions: set[TopicPartition] = set()
        self.highwaters: dict[TopicPartition, int] = {}

    def assignment(self) -> set[TopicPartition]:
        return set(self.partitions)

    def paused(self) -> set[TopicPartition]:
        return set(self.paused_partitions)

    def pause(self, *partitions: TopicPartition) -> None:
        self.paused_partitions.update(partitions)

    def resume(self, *partitions: TopicPartition) -> None:
        self.paused_partitions.difference_update(partitions)

    def highwater(self, partition: TopicPartition) -> int | None:
        return self.highwaters.get(partition)

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        return None

    def partitions_for_topic(self, topic: str) -> set[int] | None:
        """The broker's metadata: the partitions of `topic` this consumer owns (a one-member group)."""
        return {tp.partition for tp in self.partitions if tp.topic == topic} or None


def partition_of(key: bytes | None, partitions: int) -> int:
    """A stable key -> partition map (which one does not matter, only that a key always gets the same)."""
    return zlib.crc32(key or b"") % partitions


class SimulatedService:
    """Detection worker + correlation stages, fed partition by partition (see the module docstring)."""

    def __init__(self, config: AiopsConfig, lines: list[bytes], wall: float = 1e9) -> None:
        self.config = config
        self.wall = wall
        topic = config.topics.events
        self.inputs = [TopicPartition(topic, p) for p in range(config.topics.events_partitions)]
        self.records: dict[TopicPartition, list[ConsumerRecord[Any, Any]]] = {tp: [] for tp in self.inputs}
        for line in lines:
            tp = self.inputs[partition_of(event_key(line), len(self.inputs))]
            queue = self.records[tp]
            queue.append(ConsumerRecord(topic, tp.partition, len(queue), 0, 0, None, line, None, 0, len(line), []))
        self.sent = dict.fromkeys(self.inputs, 0)
        self.consumer = FakeConsumer(self.inputs)
        self.worker = DetectionWorker(config, "unused:9092", AiopsMetrics(CollectorRegistry()), "sim",
                                      wall=lambda: self.wall)
        self.worker.checkpoints._restored |= set(range(len(self.inputs)))
        self.worker._consumer = self.consumer  # type: ignore[assignment]
        self.worker._signal_partitions = list(range(config.topics.signals_partitions))
        self.worker._publish = self._correlate  # type: ignore[method-assign]
        self.worker.alignment.assigned(self.inputs, self.wall)
        engine = build_correlator(config)
        self.stages = [CorrelationStage(engine, InMemoryStore()) for _ in self.worker._signal_partitions]
        self.incidents: list[Incident] = []
        self.deadlettered = 0
        self._runner = asyncio.Runner()

    def __enter__(self) -> SimulatedService:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._runner.close()

    def backlog_is_known(self) -> None:
        """The broker reports every record of the file as there from the start (a backlog to drain)."""
        self.consumer.highwaters = {tp: len(records) for tp, records in self.records.items()}

    def remaining(self, tp: TopicPartition) -> int:
        return len(self.records[tp]) - self.sent[tp]

    def deliver(self, counts: dict[TopicPartition, int], wall_seconds: float = 0.0) -> None:
        """One fetched batch: the next `counts[tp]` records of each (unpaused) partition, `wall_seconds` later."""
        batch = {}
        for tp, count in counts.items():
            if count > 0 and tp not in self.consumer.paused_partitions and self.remaining(tp) > 0:
                batch[tp] = self.records[tp][self.sent[tp]:self.sent[tp] + count]
                self.sent[tp] += len(batch[tp])
        self.wait(wall_seconds, batch)

    def wait(self, wall_seconds: float,
             batch: dict[TopicPartition, list[ConsumerRecord[Any, Any]]] | None = None) -> None:
        """Let wall time pass, then process one fetch result (empty: a poll that returned nothing)."""
        self.wall += wall_seconds
        self._runner.run(self.worker.process_batch(batch or {}))

    def idle_until_quiet(self, wall_seconds: float = 1500.0, step: float = 50.0) -> None:
        """No more input: poll while wall time passes, so the processing-time fallback fires every timer."""
        for _ in range(int(wall_seconds / step)):
            self.wait(step)

    async def _correlate(self, outputs: list[Output]) -> None:
        for topic, key, value, partition in outputs:
            self.deadlettered += topic == self.config.topics.deadletter
            if topic != self.config.topics.signals:
                continue
            message = SIGNAL_MESSAGE_ADAPTER.validate_json(value)
            if isinstance(message, Signal):
                self.incidents += self.stages[partition_of(key, len(self.stages))].receive(message, value)
            else:
                assert partition is not None
                self.incidents += self.stages[partition].advance(message.ts.timestamp())
