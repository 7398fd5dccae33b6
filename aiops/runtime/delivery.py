"""Delivery stage: one consumer-group member per sink on the incidents topic.

Each sink (webhook) reads the incidents topic in its own consumer group, so a slow or dead receiver only
delays itself: detection, correlation and the other sinks go on. For every incident version it retries
with exponential backoff and jitter to the sink's deadline, then dead-letters the payload with the sink
name, attempts and last error; the offset is committed only after that outcome (at-least-once delivery;
receivers dedupe on the `Idempotency-Key` header). It does not build incidents or decide routing.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from aiops.config import AiopsConfig, WebhookConfig
from aiops.deadletter import dead_letter
from aiops.incidents import Incident
from aiops.metrics import AiopsMetrics
from aiops.sinks.base import Sink
from aiops.sinks.retry import deliver_with_retry

log = logging.getLogger("aiops.delivery")


class DeliveryWorker:
    """Consumes incident changes and delivers each to one sink, in order per partition."""

    def __init__(
        self,
        config: AiopsConfig,
        bootstrap: str,
        sink: Sink,
        policy: WebhookConfig,
        metrics: AiopsMetrics,
        rng: random.Random | None = None,
        wall: Callable[[], datetime] = lambda: datetime.now(tz=UTC),
    ) -> None:
        self.config = config
        self.bootstrap = bootstrap
        self.sink = sink
        self.policy = policy
        self.metrics = metrics
        self.rng = rng or random.Random()
        self.wall = wall
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        faust = self.config.faust
        self._consumer = AIOKafkaConsumer(
            self.config.topics.incidents, bootstrap_servers=self.bootstrap,
            group_id=f"{self.config.faust.app_id}-deliver-{self.sink.name}",
            enable_auto_commit=False, auto_offset_reset="earliest",
            session_timeout_ms=int(faust.session_timeout_seconds * 1000),
            heartbeat_interval_ms=int(faust.heartbeat_interval_seconds * 1000),
            rebalance_timeout_ms=int(faust.rebalance_timeout_seconds * 1000),
        )
        self._producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
        await self._consumer.start()
        await self._producer.start()

    async def stop(self) -> None:
        self._stopping.set()
        if self._consumer is not None:
            await self._consumer.stop()
        if self._producer is not None:
            await self._producer.stop()
        await self.sink.close()

    async def run(self) -> None:
        assert self._consumer is not None
        while not self._stopping.is_set():
            try:
                batch = await self._consumer.getmany(timeout_ms=200, max_records=100)
            except KafkaError:
                log.exception("delivery fetch failed; retrying")
                await asyncio.sleep(1.0)
                continue
            for tp, records in batch.items():
                for record in records:
                    await self._deliver_record(record)
                    await self._consumer.commit({tp: record.offset + 1})

    async def _deliver_record(self, record: Any) -> None:
        try:
            incident = Incident.model_validate_json(record.value)
        except ValidationError as error:
            await self._dead(record, "schema", str(error), attempts=0)
            return
        outcome = await deliver_with_retry(
            self.sink, incident, deadline_seconds=self.policy.deadline_seconds,
            initial_backoff=self.policy.initial_backoff_seconds, max_backoff=self.policy.max_backoff_seconds,
            rng=self.rng,
        )
        self.metrics.record_delivery(self.sink.name, outcome.outcome, outcome.attempts, outcome.elapsed)
        if not outcome.delivered:
            await self._dead(record, f"delivery_{outcome.outcome}", str(outcome.last_error),
                             attempts=outcome.attempts)

    async def _dead(self, record: Any, reason: str, detail: str, attempts: int) -> None:
        assert self._producer is not None
        self.metrics.events_deadlettered_total.labels(reason=reason).inc()
        letter = dead_letter(
            f"delivery:{self.sink.name}", reason, f"{detail} (attempts={attempts})", record.value, self.wall(),
            topic=record.topic, partition=record.partition, offset=record.offset, key=record.key,
        )
        await self._producer.send_and_wait(self.config.topics.deadletter, value=letter.model_dump_json().encode(),
                                           key=record.key)
        log.warning("dead-lettered delivery to %s: %s", self.sink.name, reason,
                    extra={"topic": record.topic, "partition": record.partition, "offset": record.offset})


__all__ = ["DeliveryWorker", "TopicPartition"]
