"""Correlation stage on raw aiokafka: signals in batches, incidents out, state checkpointed per batch.

`CorrelationWorker` is a member of group `<workers.app_id>-correlate` on the signals topic (keyed by
correlation scope, one scope's signals ordered in one partition) and the co-partitioned actions topic. Per
`getmany` batch it applies each partition's signals (held until a watermark passes them, then in a
content-derived order: `correlation.hold`; the held ones are checkpointed), watermarks and operator actions
(at the signals position `action_placement` gives them) to that partition's scopes in memory (`CorrelationStage` over
`PartitionScopes`), then, in this order, each step acknowledged before the next: writes where it applied new
actions (`__placed__`); publishes the batch's incidents, decisions and dead letters; writes the state keys
the batch changed (each once) and an `__offset__` record to the compacted correlation-state topic; commits.
A crash anywhere re-derives the same outputs: state never runs ahead of what was published. A newly
assigned partition is restored before its first record (`state_topic.read_fenced`: no trust in the
broker's end offsets) and the consumer seeks to the offsets the state reflects. A bad message becomes a
dead letter; nothing recoverable stops the worker. Dynamic silences are read to the end before the first
signal is judged. Why: docs/ARCHITECTURE.md ("Delivery semantics and restart-safety", "Operator actions").
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError

from aiops.actions import Action
from aiops.config import AiopsConfig
from aiops.correlation.hold import HeldSignal
from aiops.correlation.stage import CorrelationStage
from aiops.deadletter import dead_letter
from aiops.errors import BrokerUnavailableError, ConfigError
from aiops.incidents import Incident
from aiops.metrics import AiopsMetrics
from aiops.pipeline import build_correlator
from aiops.runtime.action_placement import plan
from aiops.runtime.correlation_store import PartitionScopes, restore
from aiops.runtime.fetch import fetch_batch, group_timeouts
from aiops.runtime.progress import ConsumerProgress
from aiops.runtime.silences import follow_silences
from aiops.runtime.state_topic import read_fenced
from aiops.runtime.topics import TopicSpec, ensure_topics
from aiops.signals import SIGNAL_MESSAGE_ADAPTER, Watermark

log = logging.getLogger("aiops.correlate")
Output = tuple[str, bytes | None, bytes | None, int | None]
"""(topic, key, value, explicit partition) of one record to publish."""
PUBLISH_ATTEMPTS = 8


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, worker: CorrelationWorker) -> None:
        self.worker = worker

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        for tp in revoked:  # every batch is checkpointed: nothing to save, the new owner restores it
            self.worker.partitions.pop(tp.partition, None)
            self.worker.held.pop(tp.partition, None)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        topics = self.worker.config.topics
        signals = {tp.partition for tp in assigned if tp.topic == topics.signals}
        actions = {tp.partition for tp in assigned if tp.topic == topics.actions}
        if signals != actions:  # the range assignor co-partitions topics of equal partition counts
            log.error("correlation assignment not co-partitioned: signals %s, actions %s", sorted(signals),
                      sorted(actions))
        self.worker.progress.assigned(signals)


class CorrelationWorker:
    """Batch consume -> correlate -> publish outputs -> checkpoint state -> commit, on one group member."""

    def __init__(self, config: AiopsConfig, bootstrap: str, metrics: AiopsMetrics,
                 wall: Callable[[], float] = time.time) -> None:
        self.config = config
        self.bootstrap = bootstrap
        self.metrics = metrics
        self.wall = wall
        self.correlator = build_correlator(config)
        self.partitions: dict[int, PartitionScopes] = {}
        self.held: dict[int, list[ConsumerRecord[Any, Any]]] = {}
        """Actions read but placed after signals not fetched yet (after a crash), per partition."""
        self.progress = ConsumerProgress(config.workers.stall_seconds)
        self.group_id = f"{config.workers.app_id}-correlate"
        self.batches = 0
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._stopping = asyncio.Event()
        self._silences_loaded = asyncio.Event()
        self._background: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        topics, workers = self.config.topics, self.config.workers
        await ensure_topics(self.bootstrap, [
            TopicSpec(topics.correlation_state, topics.signals_partitions, topics.replication_factor,
                      {"cleanup.policy": "compact"}),
            TopicSpec(topics.actions, topics.signals_partitions, topics.replication_factor)])
        client_id = f"{self.config.kafka.client_id}-correlate"
        self._producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, client_id=client_id, linger_ms=5,
                                          max_batch_size=256 * 1024, acks="all")
        await self._producer.start()
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=self.group_id, client_id=client_id,
            enable_auto_commit=False, auto_offset_reset="earliest", fetch_max_wait_ms=20,
            max_partition_fetch_bytes=4 * 1024 * 1024,
            **group_timeouts(workers),
            partition_assignment_strategy=(RangePartitionAssignor,),
        )
        await self._check_co_partitioned()
        self._consumer.subscribe([topics.signals, topics.actions], listener=_Rebalance(self))
        await self._consumer.start()
        self._background = [asyncio.create_task(self._follow_silences(), name="aiops-silences"),
                            asyncio.create_task(self._poll_end_offsets(), name="aiops-correlation-progress")]

    async def _check_co_partitioned(self) -> None:
        """Partition p of the actions topic must carry the scopes of partition p of the signals topic."""
        assert self._producer is not None
        topics = self.config.topics
        signals = len(await self._producer.partitions_for(topics.signals))
        actions = len(await self._producer.partitions_for(topics.actions))
        if signals != actions:
            raise ConfigError(f"topic {topics.actions} has {actions} partitions, {topics.signals} {signals}: "
                              "they must be equal (operator actions are read beside their scope's signals)")

    async def stop(self) -> None:
        self._stopping.set()
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        if self._consumer is not None:
            await self._consumer.stop()
        if self._producer is not None:
            await self._producer.stop()

    async def run(self) -> None:
        """Consume until `stop()`; never raises for bad input (a silences topic it cannot read is fatal)."""
        assert self._consumer is not None
        await self._wait_for_silences()
        ingest = self.config.ingest
        while not self._stopping.is_set():
            batch = await fetch_batch(self._consumer, ingest.batch_timeout_ms, ingest.batch_max_records, "correlation")
            if batch:
                await self.process_batch(batch)

    async def _wait_for_silences(self) -> None:
        silences = self._background[0]
        loaded = asyncio.create_task(self._silences_loaded.wait())
        await asyncio.wait({silences, loaded}, return_when=asyncio.FIRST_COMPLETED)
        if not self._silences_loaded.is_set():
            loaded.cancel()
            raise silences.exception() or BrokerUnavailableError("the silences topic could not be read")

    async def process_batch(self, batch: dict[TopicPartition, list[ConsumerRecord[Any, Any]]]) -> None:
        """Correlate a fetched batch; publish, checkpoint and commit it (in that order)."""
        started = time.perf_counter()
        batch = await self._restore_new_partitions(batch)
        topics = self.config.topics
        for tp, records in batch.items():  # work held, whatever the broker's (under-reported) end offsets say
            if tp.topic == topics.signals:
                self.progress.fetched(tp.partition, records[0].offset, records[-1].offset)
        outputs: list[Output] = []
        placements: list[Output] = []
        checkpoints: list[Output] = []
        for partition in sorted({tp.partition for tp in batch} | set(self.held)):
            scopes = self.partitions[partition]
            signals = batch.get(TopicPartition(topics.signals, partition), [])
            actions = self.held.pop(partition, []) + batch.get(TopicPartition(topics.actions, partition), [])
            outputs.extend(self._correlate(scopes, signals, actions))
            if scopes.placements_changed:
                placements.append((topics.correlation_state, *scopes.placement_record(), partition))
            outputs.extend(self._decisions())
            held = self.held.get(partition)
            next_action = held[0].offset if held else actions[-1].offset + 1 if actions else None
            checkpoints.extend((topics.correlation_state, key, value, partition)
                               for key, value in scopes.checkpoint(signals[-1].offset + 1 if signals else None,
                                                                   next_action))
        await self._publish(placements)  # where this batch applied new actions, before anything it caused
        await self._publish(outputs)
        await self._publish(checkpoints)
        await self._commit(self._committable(batch))
        for tp, records in batch.items():
            if tp.topic == topics.signals:
                self.progress.processed(tp.partition, records[-1].offset)
        self.batches += 1
        self.metrics.correlation_messages_total.inc(sum(len(records) for records in batch.values()))
        self.metrics.correlation_batch_seconds.observe(time.perf_counter() - started)

    def _correlate(self, scopes: PartitionScopes, signals: list[ConsumerRecord[Any, Any]],
                   actions: list[ConsumerRecord[Any, Any]]) -> list[Output]:
        """One partition's signals and actions in the order their placements give (`action_placement`);
        actions placed beyond the fetched signals are held for a later batch."""
        stage = CorrelationStage(self.correlator, scopes)
        order = plan([r.offset for r in signals], [r.offset for r in actions], scopes.placements, scopes.next_offset)
        scopes.placements.update(order.placed)
        scopes.placements_changed = bool(order.placed)
        if order.held_from < len(actions):
            self.held[scopes.partition] = actions[order.held_from:]
        outputs: list[Output] = []
        for kind, index in order.steps:
            outputs.extend(self._apply(stage, signals[index]) if kind == "signal" else self._act(stage, actions[index]))
        return outputs

    def _committable(self, batch: dict[TopicPartition, list[ConsumerRecord[Any, Any]]]) -> dict[TopicPartition, int]:
        """Offsets to commit: past each fetched partition, but not past an action still held."""
        offsets = {tp: records[-1].offset + 1 for tp, records in batch.items()}
        for partition, held in self.held.items():
            offsets[TopicPartition(self.config.topics.actions, partition)] = held[0].offset
        return offsets

    def _apply(self, stage: CorrelationStage, record: ConsumerRecord[Any, Any]) -> list[Output]:
        """One signal (held for its turn, `correlation.hold`) or watermark through the stage; the incidents
        it causes, or its dead letter."""
        try:
            message = SIGNAL_MESSAGE_ADAPTER.validate_json(record.value or b"")
        except ValidationError as error:
            return [self._dead_letter(record, "schema", str(error))]
        if isinstance(message, Watermark):
            return self._advance(stage, message, record)
        try:
            incidents = stage.receive(message, record.value, record.offset)
        except Exception as error:  # the per-record guard: one bad signal never stops the worker
            log.exception("correlation failed", extra={"partition": record.partition, "offset": record.offset})
            return [self._dead_letter(record, "internal_error", repr(error))]
        return [self._incident_output(incident) for incident in incidents]

    def _act(self, stage: CorrelationStage, record: ConsumerRecord[Any, Any]) -> list[Output]:
        """One operator action through the stage; its incidents, or its dead letter."""
        try:
            action = Action.model_validate_json(record.value or b"")
        except ValidationError as error:
            return [self._dead_letter(record, "schema", str(error))]
        try:
            incidents = stage.act(action)
        except Exception as error:  # the per-record guard, as for signals
            log.exception("operator action failed", extra={"partition": record.partition, "offset": record.offset})
            return [self._dead_letter(record, "internal_error", repr(error))]
        log.info("operator action %s %s on %s by %s", action.id, action.kind, action.incident_id, action.actor)
        return [self._incident_output(incident) for incident in incidents]

    def _advance(self, stage: CorrelationStage, watermark: Watermark,
                 record: ConsumerRecord[Any, Any]) -> list[Output]:
        """Event time moves to the lowest watermark over every input topic-partition (see `InputClocks`): the
        stage steps to it (`CorrelationStage.advance`), each held signal it applies under the per-record
        guard (one that raises is dead-lettered with its own offset)."""
        store = stage.store
        assert isinstance(store, PartitionScopes)
        now = watermark.ts.timestamp() if watermark.input_count == 0 else store.inputs.report(
            watermark.inputs, watermark.input_count)
        if now is None:
            return []
        outputs: list[Output] = []

        def dead(held: HeldSignal, error: Exception) -> None:
            log.error("correlation failed", exc_info=error, extra={"partition": store.partition, "offset": held.ident})
            outputs.append(self._dead_letter(record, "internal_error", repr(error), held.raw, held.ident))

        incidents: list[Incident] = []
        try:
            stage.advance(now, on_error=dead, out=incidents)
        except Exception as error:  # a scope's timers raised: what the steps before it gave still goes out
            log.exception("correlation failed", extra={"partition": record.partition, "offset": record.offset})
            outputs.append(self._dead_letter(record, "internal_error", repr(error)))
        store.advanced(store.hold.released_to)
        return outputs + [self._incident_output(incident) for incident in incidents]

    def _incident_output(self, incident: Incident) -> Output:
        self.metrics.incidents_emitted_total.labels(status=incident.status).inc()
        if incident.status == "open":  # first open or a reopen
            self.metrics.incidents_open.inc()
        elif incident.status == "resolved":
            self.metrics.incidents_open.dec()
        log.info("incident %s v%d %s %s: %s", incident.id, incident.version, incident.status,
                 incident.priority, incident.title)
        return (self.config.topics.incidents, incident.id.encode(), incident.model_dump_json().encode(), None)

    def _decisions(self) -> list[Output]:
        topic = self.config.topics.decisions
        return [(topic, d.incident_id.encode(), d.model_dump_json().encode(), None)
                for d in self.correlator.drain_decisions()]

    def _dead_letter(self, record: ConsumerRecord[Any, Any], reason: str, detail: str, value: bytes | None = None,
                     offset: int | None = None) -> Output:
        """The dead letter of `record` (or of the held signal `value` read at `offset` of its partition)."""
        self.metrics.events_deadlettered_total.labels(reason=reason).inc()
        letter = dead_letter("correlation", reason, detail, record.value if value is None else value,
                             datetime.fromtimestamp(self.wall(), UTC), topic=record.topic, partition=record.partition,
                             offset=record.offset if offset is None else offset,
                             key=record.key if value is None else None)
        return (self.config.topics.deadletter, record.key, letter.model_dump_json().encode(), None)

    async def _restore_new_partitions(
            self, batch: dict[TopicPartition, list[ConsumerRecord[Any, Any]]],
    ) -> dict[TopicPartition, list[ConsumerRecord[Any, Any]]]:
        """Restore the state of partitions seen for the first time since their assignment; where the state
        reflects signals or actions beyond the fetched records, seek there and drop those records (fetched
        again); the co-partitioned topic's partition not in the batch is moved to its checkpointed offset too."""
        new = sorted({tp.partition for tp in batch if tp.partition not in self.partitions})
        if not new:
            return batch
        topic = self.config.topics.correlation_state
        read = await read_fenced(self.bootstrap, topic, new, self.config.kafka.client_id)
        undo: list[Output] = []
        for partition in new:
            restored = restore(partition, read[partition])
            scopes = self.partitions[partition] = restored.scopes
            if scopes.next_offset is not None:  # records waiting since then are this worker's to process
                self.progress.starts_at(partition, scopes.next_offset)
            if restored.discarded_keys:  # a batch cut short by a crash: put its keys back as checkpointed
                undo.extend((topic, key.encode(), scopes.current(key), partition) for key in restored.discarded_keys)
                undo.extend((topic, k, v, partition) for k, v in scopes.checkpoint(scopes.next_offset))
            log.info("correlation partition %d restored: %d scopes, next offset %s, next action offset %s",
                     partition, len(scopes.states), scopes.next_offset, scopes.next_action_offset)
        await self._publish(undo)
        return self._resume(batch, new)

    def _resume(self, batch: dict[TopicPartition, list[ConsumerRecord[Any, Any]]],
                restored: list[int]) -> dict[TopicPartition, list[ConsumerRecord[Any, Any]]]:
        """The batch without the records of restored partitions that do not start where their state resumes
        (those partitions are sought there, as is the other topic's partition of that number)."""
        consumer, topics = self._consumer, self.config.topics
        assert consumer is not None
        assigned = consumer.assignment()
        dropped: set[TopicPartition] = set()
        for partition in restored:
            scopes = self.partitions[partition]
            for topic, resume in ((topics.signals, scopes.next_offset), (topics.actions, scopes.next_action_offset)):
                tp = TopicPartition(topic, partition)
                records = batch.get(tp)
                if resume is None or tp not in assigned or (records and records[0].offset == resume):
                    continue
                consumer.seek(tp, resume)
                dropped.add(tp)
        return {tp: records for tp, records in batch.items() if tp not in dropped}

    async def _publish(self, outputs: list[Output]) -> None:
        """Send every output and wait for the acks; broker errors are retried (duplicates are harmless:
        every output is idempotent by key), then raised: a worker that cannot publish must not go on."""
        if not outputs:
            return
        assert self._producer is not None
        delay = 0.2
        for attempt in range(1, PUBLISH_ATTEMPTS + 1):
            try:
                futures = [await self._producer.send(topic, value=value, key=key, partition=partition)
                           for topic, key, value, partition in outputs]
                await asyncio.gather(*futures)
                return
            except KafkaError as error:
                if attempt == PUBLISH_ATTEMPTS:
                    raise BrokerUnavailableError(
                        f"correlation cannot publish {len(outputs)} records: {error!r}") from error
                log.warning("publishing %d outputs failed (%r); retrying in %.1fs", len(outputs), error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        assert self._consumer is not None
        assigned = self._consumer.assignment()
        owned = {tp: offset for tp, offset in offsets.items() if tp in assigned}
        if not owned:
            return
        try:
            await self._consumer.commit(owned)
        except KafkaError as error:  # a rebalance in between: the state topic holds the offsets anyway
            log.warning("committing correlation offsets failed: %r", error)

    async def _follow_silences(self) -> None:
        suppression = self.config.suppression
        async for silences in follow_silences(self.bootstrap, suppression.silences_topic):
            self.correlator.policy = suppression.policy(silences)
            self._silences_loaded.set()
            log.info("suppression policy now has %d dynamic silence(s)", len(silences))

    async def _poll_end_offsets(self) -> None:
        """End offsets of the assigned signals partitions into `progress` and the lag gauge, periodically."""
        topic = self.config.topics.signals
        while True:
            await asyncio.sleep(self.config.workers.progress_poll_seconds)
            consumer = self._consumer
            partitions = [tp for tp in consumer.assignment() if tp.topic == topic] if consumer else []
            if not partitions or consumer is None:
                continue
            try:
                ends = await consumer.end_offsets(partitions)
            except KafkaError as error:
                log.warning("could not read signals end offsets: %r", error)
                continue
            self.progress.observe_ends({tp.partition: end for tp, end in ends.items()}, self.wall())
            for partition, lag in self.progress.lag().items():
                self.metrics.consumer_lag_records.labels(topic=topic, partition=str(partition)).set(lag)
