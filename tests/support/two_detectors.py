"""Test support: two live detection workers feeding the real correlation worker, without a broker.

Each `Member` is a `SimulatedService` whose detection worker owns only some input partitions (a group of
two: `input_count` counts every partition). Their published batches are appended to the signals partitions
in an order the test's random source picks (as two producers race on a broker), and the real
`CorrelationWorker._correlate` reads each signals partition in batches of random sizes, checkpointing after
each batch; `crash()` drops the in-memory scopes and restores them from the checkpoint records (as a new
owner would), resuming at the offset the state reflects.
"""

from __future__ import annotations

import random
from typing import Any

import orjson
from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord
from prometheus_client import CollectorRegistry

from aiops.config import AiopsConfig
from aiops.metrics import AiopsMetrics
from aiops.runtime.correlate_worker import CorrelationWorker
from aiops.runtime.correlation_store import PartitionScopes, restore
from aiops.runtime.detector_checkpoints import Output
from support.simulated_service import SimulatedService, partition_of


class Member:
    """A detection worker owning `owned` input partitions; its published outputs wait in `pending`."""

    def __init__(self, config: AiopsConfig, lines: list[bytes], owned: list[int]) -> None:
        self.service = service = SimulatedService(config, lines)
        every = set(range(config.topics.events_partitions))
        service.inputs = [tp for tp in service.inputs if tp.partition in owned]
        service.consumer.partitions = set(service.inputs)
        service.consumer.partitions_for_topic = lambda topic: every  # type: ignore[method-assign]
        service.worker.alignment.forget([TopicPartition(config.topics.events, p) for p in every - set(owned)])
        self.pending: list[list[Output]] = []
        service.worker._publish = self._collect  # type: ignore[method-assign]

    async def _collect(self, outputs: list[Output]) -> None:
        self.pending.append(list(outputs))


class TwoDetectors:
    """Two members, the signals partitions they write to and the correlation worker reading them."""

    def __init__(self, config: AiopsConfig, lines: list[bytes], rng: random.Random) -> None:
        self.config, self.rng = config, rng
        halves = list(range(config.topics.events_partitions))
        rng.shuffle(halves)
        cut = len(halves) // 2
        self.members = [Member(config, lines, halves[:cut]), Member(config, lines, halves[cut:])]
        partitions = range(config.topics.signals_partitions)
        self.signals: dict[int, list[ConsumerRecord[Any, Any]]] = {p: [] for p in partitions}
        self.state: dict[int, list[tuple[bytes | None, bytes | None, int]]] = {p: [] for p in self.signals}
        self.read = dict.fromkeys(self.signals, 0)
        self.correlation = CorrelationWorker(config, "unused:9092", AiopsMetrics(CollectorRegistry()))
        self.scopes = {p: PartitionScopes(p) for p in self.signals}
        self.incidents: list[dict[str, Any]] = []

    def run(self, crashes: int = 0) -> None:
        """Deliver every input in random fetches to both members, racing their outputs onto the signals
        partitions and correlating in random batches (`crashes` restores at random moments); then idle."""
        while any(m.service.remaining(tp) for m in self.members for tp in m.service.inputs):
            member = self.rng.choice(self.members)
            counts = {tp: self.rng.randint(1, 400) for tp in member.service.inputs}
            member.service.deliver(counts, self.rng.random() * 0.05)
            self.step(crash=self.rng.random() < crashes / 60)
        for _ in range(40):
            for member in self.members:
                member.service.wait(50.0)
            self.step()
        while self.step():
            pass

    def step(self, crash: bool = False) -> bool:
        """Move some members' pending batches to the signals topic, then correlate one batch per partition."""
        for member in self.rng.sample(self.members, 2):
            while member.pending and self.rng.random() < 0.7:
                self._append(member.pending.pop(0))
        if crash:
            self.crash()
        moved = False
        for partition, records in self.signals.items():
            start = self.read[partition]
            batch = records[start:start + self.rng.randint(1, 300)]
            if not batch:
                continue
            moved = True
            scopes = self.scopes[partition]
            outputs = self.correlation._correlate(scopes, batch, [])
            self.correlation._decisions()
            self.read[partition] = batch[-1].offset + 1
            self.state[partition] += [(k, v, 0) for k, v in scopes.checkpoint(self.read[partition])]
            self.incidents += [orjson.loads(value) for topic, _, value, _ in outputs
                               if topic == self.config.topics.incidents and value is not None]
        return moved or any(m.pending for m in self.members)

    def crash(self) -> None:
        """Forget the correlation state in memory; restore it from the checkpoints and resume there."""
        for partition in self.signals:
            self.scopes[partition] = scopes = restore(partition, self.state[partition]).scopes
            self.read[partition] = scopes.next_offset or 0

    def _append(self, outputs: list[Output]) -> None:
        for topic, key, value, partition in outputs:
            if topic != self.config.topics.signals:
                continue
            target = partition if partition is not None else partition_of(key, len(self.signals))
            log = self.signals[target]
            log.append(ConsumerRecord(topic, target, len(log), 0, 0, key, value, None, 0, len(value or b""), []))

    def close(self) -> None:
        for member in self.members:
            member.service._runner.close()
