"""Delivery stage: one consumer group per receiver on the incidents topic, routed, retried, audited.

Each receiver reads the incidents topic in its own consumer group (``<app_id>-deliver-<receiver>``), so a
slow or dead receiver only delays itself: detection, correlation and other receivers go on. For every
incident version the worker asks the routing tree whether this receiver is reached (muted and throttled
versions are recorded as such and skipped), then retries with backoff + jitter to the receiver's deadline
(through its rate limit and circuit breaker), tries the fallback receiver if it still failed, and
dead-letters the failure (payload, receiver, attempts, last error). Every attempt and outcome goes to
the notifications topic. The offset is committed only after the outcome and its notification records
are acknowledged, so after a crash unconfirmed notifications are sent again (at-least-once; receivers
dedupe on the idempotency key). Each worker reports its progress (`progress`, a stage source for
`aiops.runtime.health` named `stage` = ``delivery:<receiver>``): records fetched and processed, every
attempt, and each backoff wait until its end count as alive. It does not build incidents or define routing.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from aiops.clock import Wall, utc_now
from aiops.config import AiopsConfig
from aiops.deadletter import dead_letter
from aiops.errors import DeliveryError, DeliveryRejectedError
from aiops.incidents import Incident
from aiops.metrics import AiopsMetrics
from aiops.runtime.fetch import fetch_batch, group_timeouts
from aiops.runtime.notifications import NotificationPublisher
from aiops.runtime.progress import ConsumerProgress
from aiops.sinks.circuit import CIRCUIT_STATE_VALUES, CircuitState
from aiops.sinks.factory import Receiver, build_receiver, build_receivers
from aiops.sinks.notifications import NotificationOutcome, RepeatThrottle
from aiops.sinks.retry import DeliveryOutcome, deliver_with_retry
from aiops.sinks.routing import RouteDecision, route_incident

log = logging.getLogger("aiops.delivery")


class DeliveryWorker:
    """Consumes incident changes and delivers those routed to its receiver, in order per partition."""

    def __init__(
        self,
        config: AiopsConfig,
        bootstrap: str,
        receiver: Receiver,
        metrics: AiopsMetrics,
        *,
        rng: random.Random | None = None,
        wall: Wall = utc_now,
        fallback: Receiver | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.receiver = receiver
        self.config = config
        self.bootstrap = bootstrap
        self.metrics = metrics
        self.rng = rng or random.Random()
        self.wall = wall
        self.fallback = fallback
        self.throttle = RepeatThrottle()
        self.group_id = f"{config.workers.app_id}-deliver-{self.receiver.name}"
        self.delivered = 0
        self.clock = clock
        self.progress = ConsumerProgress(config.workers.stall_seconds)
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._publisher: NotificationPublisher | None = None
        self._stopping = asyncio.Event()
        self._watch: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return self.receiver.name

    @property
    def stage(self) -> str:
        """This worker's name in `aiops.runtime.health` and the ``aiops_stage_*`` gauges."""
        return f"delivery:{self.receiver.name}"

    def status(self, now: float) -> Mapping[str, Any]:
        """Health of this receiver's stage (a `StageSource`): `ConsumerProgress.status`."""
        return self.progress.status(now)

    async def start(self) -> None:
        workers = self.config.workers
        self._producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all", linger_ms=5)
        await self._producer.start()
        self._publisher = NotificationPublisher(self._producer, self.config, self.metrics)
        await self._publisher.ensure_topic(self.bootstrap)
        self._consumer = AIOKafkaConsumer(
            self.config.topics.incidents, bootstrap_servers=self.bootstrap, group_id=self.group_id,
            enable_auto_commit=False, auto_offset_reset="earliest", fetch_max_wait_ms=20,
            **group_timeouts(workers),
        )
        await self._consumer.start()

    async def stop(self) -> None:
        self._stopping.set()
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)
            self._watch = None
        if self._consumer is not None:
            await self._consumer.stop()
        if self._publisher is not None:
            await self._publisher.flush()
        if self._producer is not None:
            await self._producer.stop()
        await self.receiver.sink.close()
        if self.fallback is not None:
            await self.fallback.sink.close()

    async def run(self) -> None:
        assert self._consumer is not None
        assert self._publisher is not None
        if self._watch is None:  # beside the loop, so a worker stuck in a delivery is still seen
            self._watch = asyncio.create_task(self._watch_progress(), name=f"aiops-{self.stage}-progress")
        while not self._stopping.is_set():
            batch = await fetch_batch(self._consumer, 200, 50, self.stage)
            for tp, records in batch.items():
                self.progress.fetched(tp.partition, records[0].offset, records[-1].offset)
            for tp, records in batch.items():
                for record in records:
                    await self.process(record)
                    self.progress.processed(tp.partition, record.offset)
                # One commit per partition batch, after its notification records are acknowledged: a crash
                # re-sends at most this batch (at-least-once; receivers dedupe by idempotency key).
                await self._publisher.flush()
                await self._consumer.commit({tp: records[-1].offset + 1})

    async def process(self, record: Any) -> None:
        """Route, deliver (retry, fallback) and record one incident message."""
        try:
            incident = Incident.model_validate_json(record.value)
        except ValidationError as error:
            await self._dead(record, "schema", str(error))
            return
        decision = self._decision(incident)
        if decision is None:
            return
        if not decision.active:
            self._note(incident, "muted", route=decision.route, error=decision.muted)
            return
        if not self.throttle.allows(incident, decision.repeat_interval_seconds):
            self._note(incident, "suppressed", route=decision.route,
                       error=f"repeat_interval {decision.repeat_interval_seconds:g}s")
            return
        outcome = await self._attempts(self.receiver, incident, decision.route)
        if outcome.delivered:
            self._delivered(incident, record)
            return
        final: NotificationOutcome = "rejected" if outcome.rejected else "expired"
        self._note(incident, final, route=decision.route, attempt=outcome.attempts,
                   error=str(outcome.last_error))
        await self._try_fallback(incident, decision.route)
        await self._dead(record, f"delivery_{outcome.outcome}", _detail(self.receiver, outcome))
        self.metrics.notifications_deadlettered_total.labels(receiver=self.name).inc()
        self._note(incident, "dead_lettered", route=decision.route, attempt=outcome.attempts,
                   error=str(outcome.last_error))

    async def _watch_progress(self) -> None:
        """Every `workers.progress_poll_seconds`, `_poll_progress`; a failed poll is logged, never fatal."""
        while True:
            await asyncio.sleep(self.config.workers.progress_poll_seconds)
            try:
                await self._poll_progress()
            except KafkaError as error:
                log.warning("%s: could not read incidents offsets: %r", self.stage, error)
            except Exception:
                log.exception("%s: progress poll failed", self.stage)

    async def _poll_progress(self) -> None:
        """The assignment, new partitions' committed offsets and the end offsets into `progress`."""
        consumer, topic = self._consumer, self.config.topics.incidents
        assert consumer is not None
        owned = [tp for tp in consumer.assignment() if tp.topic == topic]
        self.progress.assigned(tp.partition for tp in owned)
        if not owned:
            return
        for partition in self.progress.unknown():
            committed = await consumer.committed(TopicPartition(topic, partition))
            if committed is not None:
                self.progress.starts_at(partition, committed)
        ends = await consumer.end_offsets(owned)
        self.progress.observe_ends({tp.partition: end for tp, end in ends.items()}, self.clock())

    async def _backoff(self, seconds: float) -> None:
        """The retry policy's wait: alive until it ends (then the next attempt must come)."""
        now = self.clock()
        self.progress.active(now, until=now + seconds)
        await asyncio.sleep(seconds)

    def _decision(self, incident: Incident) -> RouteDecision | None:
        decisions = route_incident(self.config.delivery, incident, self.wall())
        return next((d for d in decisions if d.receiver == self.name), None)

    def _delivered(self, incident: Incident, record: Any) -> None:
        self.throttle.sent(incident)
        self.delivered += 1
        if record.timestamp:
            latency = self.wall().timestamp() - record.timestamp / 1000.0
            self.metrics.notification_latency_seconds.labels(receiver=self.name).observe(max(latency, 0.0))

    async def _attempts(self, receiver: Receiver, incident: Incident, route: str) -> DeliveryOutcome:
        policy = receiver.reliability

        async def on_attempt(attempt: int, error: DeliveryError | DeliveryRejectedError | None, took: float) -> None:
            self.progress.active(self.clock())
            if error is None:
                status = receiver.sink.last_status
                self._note(incident, "delivered", receiver=receiver, attempt=attempt, status=status, took=took,
                           route=route)
                return
            outcome: NotificationOutcome = "rejected" if isinstance(error, DeliveryRejectedError) else "attempt_failed"
            self._note(incident, outcome, receiver=receiver, attempt=attempt, status=getattr(error, "status", None),
                       took=took, error=str(error), route=route)

        result = await deliver_with_retry(
            receiver.sink, incident, deadline_seconds=policy.deadline_seconds,
            initial_backoff=policy.initial_backoff_seconds, max_backoff=policy.max_backoff_seconds, rng=self.rng,
            on_attempt=on_attempt, sleep=self._backoff,
        )
        self.metrics.record_delivery(receiver.name, result.outcome, result.attempts, result.elapsed)
        return result

    async def _try_fallback(self, incident: Incident, route: str) -> None:
        if self.fallback is None:
            return
        result = await self._attempts(self.fallback, incident, f"{route} (fallback of {self.name})")
        if result.delivered:
            self._note(incident, "fallback_delivered", route=route, error=f"delivered via {self.fallback.name}")

    def _note(self, incident: Incident, outcome: NotificationOutcome, *, receiver: Receiver | None = None,
              attempt: int = 0, status: int | None = None, took: float | None = None, error: str | None = None,
              route: str = "") -> None:
        assert self._publisher is not None
        who = receiver or self.receiver
        self._publisher.publish(incident, who.name, who.kind, outcome, self.wall(), attempt=attempt,
                                status_code=status, latency_s=took, error=error, route=route)

    async def _dead(self, record: Any, reason: str, detail: str) -> None:
        assert self._producer is not None
        self.metrics.events_deadlettered_total.labels(reason=reason).inc()
        letter = dead_letter(
            self.stage, reason, detail, record.value, self.wall(),
            topic=record.topic, partition=record.partition, offset=record.offset, key=record.key,
        )
        await self._producer.send_and_wait(self.config.topics.deadletter, value=letter.model_dump_json().encode(),
                                           key=record.key)
        log.warning("dead-lettered delivery to %s: %s", self.name, reason,
                    extra={"topic": record.topic, "partition": record.partition, "offset": record.offset})


def _detail(receiver: Receiver, outcome: DeliveryOutcome) -> str:
    return (f"receiver={receiver.name} kind={receiver.kind} attempts={outcome.attempts} "
            f"elapsed={outcome.elapsed:.1f}s last_error={outcome.last_error}")


def delivery_workers(
    config: AiopsConfig, bootstrap: str, metrics: AiopsMetrics, *, wall: Wall = utc_now,
    only: Sequence[str] | None = None,
) -> list[DeliveryWorker]:
    """One worker per receiver of `delivery.receivers`, each with its own fallback sink instance; `wall`
    reaches the workers and every sink they build."""

    def on_circuit(name: str, state: CircuitState) -> None:
        metrics.set_circuit_state(name, CIRCUIT_STATE_VALUES[state])
        log.warning("receiver %s circuit %s", name, state)

    receivers = build_receivers(config.delivery, on_circuit=on_circuit, wall=wall)
    workers = []
    for name, receiver in receivers.items():
        if only is not None and name not in only:
            continue
        fallback = None
        if receiver.fallback is not None:
            fallback = build_receiver(receiver.fallback, config.delivery, on_circuit=on_circuit, wall=wall)
        metrics.set_circuit_state(name, 0)
        workers.append(DeliveryWorker(config, bootstrap, receiver, metrics, wall=wall, fallback=fallback))
    return workers


__all__ = ["DeliveryWorker", "delivery_workers"]
