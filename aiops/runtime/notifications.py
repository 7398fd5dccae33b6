"""Notifications topic publishing and dead-letter replay for the delivery stage.

`NotificationPublisher` sends `NotificationRecord`s (keyed by incident id, so one incident's records stay
ordered) without waiting per record; `flush` waits for every pending send (the delivery worker calls it
before committing an offset). `replay_dead_letters` reads delivery dead letters (stage ``delivery:<name>``)
from the dead-letter topic in its own consumer group, re-sends each incident through its receiver with
the receiver's retry policy, records the outcome on the notifications topic, dead-letters it again if it
still fails, and commits; it stops when the topic has been idle for `idle_seconds`. It does not route:
a dead letter goes back to the receiver that failed it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from aiops.clock import Wall, utc_now
from aiops.config import AiopsConfig
from aiops.deadletter import DeadLetter, dead_letter
from aiops.incidents import Incident
from aiops.metrics import AiopsMetrics
from aiops.runtime.topics import TopicSpec, ensure_topics
from aiops.sinks.factory import Receiver, build_receivers
from aiops.sinks.notifications import NotificationOutcome, notification
from aiops.sinks.retry import deliver_with_retry

log = logging.getLogger("aiops.notifications")


class NotificationPublisher:
    def __init__(self, producer: AIOKafkaProducer, config: AiopsConfig, metrics: AiopsMetrics | None) -> None:
        self.producer = producer
        self.config = config
        self.topic = config.delivery.notifications_topic
        self.metrics = metrics
        self._pending: list[asyncio.Future[object]] = []

    async def ensure_topic(self, bootstrap: str) -> None:
        spec = TopicSpec(self.topic, self.config.delivery.notifications_partitions,
                         self.config.topics.replication_factor)
        await ensure_topics(bootstrap, [spec], client_id=f"{self.config.kafka.client_id}-admin",
                            request_timeout_ms=self.config.kafka.request_timeout_ms)

    def publish(self, incident: Incident, receiver: str, kind: str, outcome: NotificationOutcome, at: datetime,
                **details: object) -> None:
        record = notification(incident, receiver, kind, outcome, at, **details)  # type: ignore[arg-type]
        if self.metrics is not None:
            self.metrics.notifications_total.labels(receiver=receiver, outcome=outcome).inc()
        self._pending.append(asyncio.ensure_future(self.producer.send(
            self.topic, value=record.model_dump_json().encode(), key=incident.id.encode())))

    async def flush(self) -> None:
        """Wait until every published record is acknowledged by the broker."""
        pending, self._pending = self._pending, []
        for queued in pending:
            acked = await queued
            if isinstance(acked, asyncio.Future):
                await acked


@dataclass
class ReplaySummary:
    replayed: int = 0
    delivered: int = 0
    failed: int = 0
    skipped: int = 0
    failures: list[str] = field(default_factory=list)


def _receiver_of(letter: DeadLetter) -> str | None:
    if not letter.stage.startswith("delivery:") or not letter.reason.startswith("delivery_"):
        return None
    return letter.stage.split(":", 1)[1]


async def replay_dead_letters(
    config: AiopsConfig, bootstrap: str, *, receivers: Sequence[str] = (), dry_run: bool = False,
    idle_seconds: float = 3.0, group_id: str | None = None, out: Callable[[str], None] = print,
    wall: Wall = utc_now,
) -> ReplaySummary:
    """Re-send delivery dead letters (all receivers, or only `receivers`); see the module docstring."""
    built = build_receivers(config.delivery, wall=wall)
    summary = ReplaySummary()
    consumer = AIOKafkaConsumer(
        config.topics.deadletter, bootstrap_servers=bootstrap, enable_auto_commit=False,
        group_id=group_id or f"{config.workers.app_id}-deadletter-replay", auto_offset_reset="earliest",
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await consumer.start()
    await producer.start()
    publisher = NotificationPublisher(producer, config, None)
    try:
        await publisher.ensure_topic(bootstrap)
        loop = asyncio.get_running_loop()
        idle_since = loop.time()
        ends: dict[TopicPartition, int] = {}  # stop at the end as of the start: never replay our own re-failures
        while loop.time() - idle_since < idle_seconds:
            batch = await consumer.getmany(timeout_ms=300, max_records=50)
            if batch:
                idle_since = loop.time()
            for tp, records in batch.items():
                if tp not in ends:
                    ends.update(await consumer.end_offsets([tp]))
                for record in records:
                    if record.offset >= ends[tp]:
                        break
                    await _replay_one(record, built, receivers, dry_run, summary, publisher, producer, config, out,
                                      wall)
                    await publisher.flush()
                    if not dry_run:
                        await consumer.commit({tp: record.offset + 1})
    finally:
        await consumer.stop()
        await producer.stop()
        for receiver in built.values():
            await receiver.sink.close()
    return summary


async def _replay_one(record: Any, built: dict[str, Receiver], only: Sequence[str], dry_run: bool,
                      summary: ReplaySummary, publisher: NotificationPublisher, producer: AIOKafkaProducer,
                      config: AiopsConfig, out: Callable[[str], None], wall: Wall) -> None:
    letter = DeadLetter.model_validate_json(record.value)
    name = _receiver_of(letter)
    receiver = built.get(name or "")
    if name is None or (only and name not in only) or receiver is None:
        summary.skipped += 1
        if name is not None and receiver is None:
            out(f"skip: receiver {name} is not configured")
        return
    incident = Incident.model_validate_json(letter.original)
    summary.replayed += 1
    if dry_run:
        out(f"would re-send {incident.idempotency_key} to {name} ({letter.reason}: {letter.detail[:120]})")
        return
    policy = receiver.reliability
    result = await deliver_with_retry(
        receiver.sink, incident, deadline_seconds=policy.deadline_seconds,
        initial_backoff=policy.initial_backoff_seconds, max_backoff=policy.max_backoff_seconds, rng=random.Random(),
    )
    now = wall()
    outcome: NotificationOutcome = "delivered" if result.delivered else "dead_lettered"
    publisher.publish(incident, name, receiver.kind, outcome, now, attempt=result.attempts,
                      error=None if result.delivered else str(result.last_error), route="deadletter-replay")
    if result.delivered:
        summary.delivered += 1
        out(f"re-sent {incident.idempotency_key} to {name}")
        return
    summary.failed += 1
    summary.failures.append(f"{incident.idempotency_key} -> {name}: {result.last_error}")
    again = dead_letter(letter.stage, f"delivery_{result.outcome}",
                        f"replay failed: attempts={result.attempts} last_error={result.last_error}",
                        letter.original, now, topic=letter.source_topic, partition=letter.source_partition,
                        offset=letter.source_offset, key=incident.id.encode())
    await producer.send_and_wait(config.topics.deadletter, value=again.model_dump_json().encode(),
                                 key=incident.id.encode())
    out(f"still failing {incident.idempotency_key} -> {name}: {result.last_error}")
