"""Hot path: decode and score raw events in batches straight on aiokafka.

`DetectionWorker` is a consumer-group member on the input topic. Per batch (`getmany`) it decodes each
record against the event contract (bad ones become dead letters with the original bytes, reason and
source topic/partition/offset), releases them in event-time order across partitions
(`watermarks.InputAlignment`), runs each through the pure `DetectionStage`, advances event time exactly as
replay does (`aiops.eventtime.EventClock`; once every input partition is idle, in whole seconds of wall
time), publishes signals keyed by correlation scope and watermarks to every signals partition (naming the
input partitions they speak for, `detect_inputs`), and waits until every output is acknowledged
(`detect_publish`). Offsets are committed only then (at-least-once) and, with detector snapshots on, only
with a snapshot of the detector state that changed (`detector_checkpoints`), so a restarted worker neither
re-warms nor raises false alarms. Per-event guards turn any unexpected error into a dead letter
(`internal_error`) and a failing timer is logged and counted: one bad event never stops the worker;
`progress` (`detect_liveness`) shows a stage that stopped moving. Why and how: docs/ARCHITECTURE.md
("Event time", "Delivery semantics and restart-safety").
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter as CountOf
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import ConsumerRecord

from aiops.config import AiopsConfig
from aiops.correlation.topology import scope_of
from aiops.deadletter import dead_letter, letter_key
from aiops.detectors.stage import DetectionStage
from aiops.errors import InvalidEventError
from aiops.events import InboundEvent
from aiops.eventtime import EventClock
from aiops.metrics import AiopsMetrics
from aiops.pipeline import build_graph
from aiops.runtime.detect_decode import Decoded, RecordDecoder
from aiops.runtime.detect_inputs import InputWatermarks
from aiops.runtime.detect_liveness import DetectionLiveness
from aiops.runtime.detect_publish import OutputPublisher, PublishFailedError
from aiops.runtime.detector_checkpoints import DetectorCheckpoints, Output
from aiops.runtime.fetch import fetch_batch, group_timeouts
from aiops.runtime.log_catchup import LogCatchUp
from aiops.runtime.progress import ConsumerProgress
from aiops.runtime.topics import TopicSpec, ensure_topics
from aiops.runtime.watermarks import InputAlignment
from aiops.signals import Signal, Watermark, dt_from_epoch

log = logging.getLogger("aiops.detect")
Event = InboundEvent
Fetched = tuple[ConsumerRecord[Any, Any], Decoded]

WATERMARK_KEY = b"__watermark__"
FETCH_MAX_WAIT_MS = 20
"""Long-poll bound of a fetch; small so an idle consumer sees a new event at once (tansu can otherwise hold
a multi-partition fetch for the whole wait)."""
QUEUED_BATCHES_BEFORE_PAUSE = 2
"""A partition with this many `batch_max_records` queued (ahead in event time of a partition that holds
the release back) stops being fetched until half of them were released."""


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, worker: DetectionWorker) -> None:
        self.worker = worker

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        try:
            await self.worker.final_checkpoint(during_rebalance=True)
        finally:  # a failed last commit must not leave the partitions' state live here
            self.worker.checkpoints.release(revoked)
            self.worker.alignment.forget(revoked)
            self.worker.log_catchup.forget(revoked)
            self.worker.input_marks.revoked(revoked)
            for tp in revoked:  # not committed: the next owner reprocesses them (at-least-once)
                self.worker._uncommitted.pop(tp, None)
                self.worker._fetched.pop(tp, None)
            consumer = self.worker._consumer
            kept = consumer.assignment() - revoked if consumer is not None else set()
            self.worker.liveness.assigned(kept)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        # Restoring happens lazily, before the first records of each partition are processed (aiokafka may
        # hand out records before a listener coroutine has finished).
        self.worker.alignment.assigned(assigned, self.worker.wall())
        consumer = self.worker._consumer
        self.worker.liveness.assigned(consumer.assignment() if consumer is not None else assigned)
        log.info("detection assigned %s", sorted(tp.partition for tp in assigned))


class DetectionWorker:
    """Batch consume -> decode -> detect -> produce -> commit, on one consumer-group member."""

    def __init__(
        self,
        config: AiopsConfig,
        bootstrap: str,
        metrics: AiopsMetrics,
        producer_id: str,
        wall: Callable[[], float] = time.time,
        micro_batched: bool = True,
    ) -> None:
        """`micro_batched`: with the ensemble configured, score each batch's metric samples together
        (`DetectionStage.prepare`); False runs the per-point `MetricEnsemble` (same results, for A/B)."""
        self.config = config
        self.bootstrap = bootstrap
        self.metrics = metrics
        self.producer_id = producer_id
        self.wall = wall
        self.stage = DetectionStage(config.detection, micro_batched=micro_batched)
        self.graph = build_graph(config)
        self.clock = EventClock(config.correlation.allowed_lateness_seconds)
        self.alignment: InputAlignment[TopicPartition, Fetched] = InputAlignment(config.ingest.idle_partition_seconds)
        self._fetched: dict[TopicPartition, int] = {}
        """Per input partition, the offset after the last record fetched (to tell a backlog from idleness)."""
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._signal_partitions: list[int] = []
        self._last_idle_advance = float("-inf")
        self._stopping = asyncio.Event()
        self.batches = 0
        self.snapshots_written = 0
        self._raw_topics = {raw.topic: raw for raw in config.ingest.raw_logs}
        self._decoder = RecordDecoder(config.ingest)
        self.input_marks = InputWatermarks([config.topics.events, *self._raw_topics], config.topics.events_partitions)
        self.checkpoints = DetectorCheckpoints(config, self.stage, metrics, self._raw_topics, wall)
        self.log_catchup = LogCatchUp(self.stage, config.correlation.allowed_lateness_seconds,
                                      lambda tp: self.checkpoints.log_shard(tp.topic, tp.partition))
        self._unprocessed: CountOf[TopicPartition] = CountOf()
        """Per partition, records released in the current batch and not processed yet."""
        self._uncommitted: dict[TopicPartition, int] = {}
        self._last_checkpoint = wall()
        self.liveness = DetectionLiveness(config.topics.events, config.workers.stall_seconds, metrics.registry)
        self._publisher: OutputPublisher | None = None
        self._failed = False  # publishing gave up: `stop` commits nothing more (the state holds unpublished work)
        self._batch_lock = asyncio.Lock()  # `stop`'s final checkpoint waits for the batch being processed

    @property
    def progress(self) -> ConsumerProgress:
        """Processed vs end offsets of the owned events partitions (see `detect_liveness`), for `/healthz`."""
        return self.liveness.progress

    async def start(self) -> None:
        topics = self.config.topics
        workers = self.config.workers
        specs = [TopicSpec(raw, topics.events_partitions, topics.replication_factor) for raw in self._raw_topics]
        if self.config.detection.snapshot_interval_seconds > 0:
            specs.append(TopicSpec(topics.detector_state, topics.events_partitions, topics.replication_factor,
                                   {"cleanup.policy": "compact"}))
        await ensure_topics(self.bootstrap, specs)
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, client_id=f"{self.config.kafka.client_id}-detect",
            linger_ms=5, max_batch_size=256 * 1024, acks="all",
        )
        await self._producer.start()
        producer = self._producer
        self._publisher = OutputPublisher(
            lambda output: producer.send(output[0], value=output[2], key=output[1], partition=output[3]),
            topics.deadletter, self.config.ingest.publish_give_up_seconds, on_failure=self.liveness.publish_failed,
            wall=self.wall,
        )
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=self.config.ingest.consumer_group,
            client_id=f"{self.config.kafka.client_id}-detect", enable_auto_commit=False,
            auto_offset_reset="earliest", max_partition_fetch_bytes=4 * 1024 * 1024,
            fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
            **group_timeouts(workers),
        )
        self._consumer.subscribe([topics.events, *self._raw_topics], listener=_Rebalance(self))
        await self._consumer.start()
        partitions = await self._producer.partitions_for(topics.signals)
        self._signal_partitions = sorted(partitions)

    async def stop(self) -> None:
        self._stopping.set()
        if self._consumer is not None:
            await self.final_checkpoint()
            await self._consumer.stop()
        if self._producer is not None:
            await self._producer.stop()

    async def run(self) -> None:
        """Consume until `stop()`; never raises for bad input. Raises `PublishFailedError` when the broker
        does not acknowledge outputs for `ingest.publish_give_up_seconds` (the process then exits with 1)."""
        assert self._consumer is not None
        cfg = self.config.ingest
        watcher = asyncio.create_task(self.liveness.watch(
            self._consumer, self.wall, self.config.workers.progress_poll_seconds, self._stopping))
        try:
            while not self._stopping.is_set():
                batch = await fetch_batch(self._consumer, cfg.batch_timeout_ms, cfg.batch_max_records, "detection")
                async with self._batch_lock:
                    if not self._stopping.is_set():
                        await self.process_batch(batch)
        except PublishFailedError:
            self._failed = True
            log.error("detection stops: its outputs cannot be published (exit status 1; nothing more is committed)")
            raise
        finally:
            watcher.cancel()

    async def process_batch(self, batch: dict[TopicPartition, list[ConsumerRecord[Any, Any]]]) -> None:
        """Queue a fetched batch, process what the event-time order releases, publish, commit what was processed."""
        started = time.perf_counter()
        wall = self.wall()
        outputs: list[Output] = []
        batch = self._skip_covered(await self._restore_before_processing(batch))
        for tp, records in batch.items():
            self._queue(tp, records, wall)
        released = self.alignment.release(wall, self._backlog)
        catching_up = bool(self.log_catchup.catching_up())  # partitions only begin catching up at restore, above
        self._unprocessed = CountOf(tp for tp, _, _ in released) if catching_up else CountOf()
        if (grace_ends := self.alignment.grace_ends(wall, self._backlog)) is not None:
            self.liveness.progress.active(wall, until=grace_ends)  # a chosen wait (the idle grace), not a stall
        self._prepare([event for _, _, (_, event) in released if not isinstance(event, InvalidEventError)])
        processed: dict[TopicPartition, int] = {}
        for tp, event_time, (record, event) in released:
            self._process_record(record, wall, outputs, self.checkpoints.log_shard(tp.topic, tp.partition), event)
            if catching_up:
                self._unprocessed[tp] -= 1
                self._catch_up(partial(self.log_catchup.observed, tp, event_time), outputs)
            if event_time > float("-inf") and (watermark := self.clock.observe(event_time)) is not None:
                self._tick(watermark, outputs, wall=wall)
            processed[tp] = record.offset + 1
        self._advance_idle(wall, outputs)
        self._flow_control()
        if outputs:
            await self._publish(outputs)
        assigned = self._consumer.assignment() if self._consumer is not None else None
        for tp, offset in processed.items():
            if assigned is None or tp in assigned:  # revoked while publishing: committing it would raise
                self._uncommitted[tp] = offset
        self.liveness.processed(processed, [tp for tp in assigned or () if self.alignment.queued(tp)])
        interval = self.config.detection.snapshot_interval_seconds
        if interval <= 0 or wall - self._last_checkpoint >= interval:
            await self.checkpoint()
        if batch:
            count = sum(len(records) for records in batch.values())
            self.liveness.record_batch(self.metrics, self._consumer, self.stage, batch, wall,
                                       (count, time.perf_counter() - started))
            self.batches += 1

    async def _restore_before_processing(
        self, batch: dict[TopicPartition, list[ConsumerRecord[Any, Any]]]
    ) -> dict[TopicPartition, list[ConsumerRecord[Any, Any]]]:
        """Restore the detector state of partitions seen for the first time; drop records of partitions revoked
        meanwhile (they are the new owner's)."""
        unrestored = self.checkpoints.unrestored(tp.partition for tp in batch)
        if not unrestored:
            return batch
        assignment = self._consumer.assignment() if self._consumer is not None else None
        await self.checkpoints.restore(self.bootstrap, unrestored, assignment)
        if self._consumer is not None:
            assignment = self._consumer.assignment()
            batch = {tp: records for tp, records in batch.items() if tp in assignment}
        self.log_catchup.begin(tp for tp in batch if tp.partition in unrestored)
        return batch

    def _skip_covered(
        self, batch: dict[TopicPartition, list[ConsumerRecord[Any, Any]]]
    ) -> dict[TopicPartition, list[ConsumerRecord[Any, Any]]]:
        """Drop the records a restored snapshot already covers (its writer was killed between the snapshot
        and the commit): learning them again would change the state. They count as processed."""
        resume = self.checkpoints.resume_from
        if not resume:
            return batch
        kept_batch: dict[TopicPartition, list[ConsumerRecord[Any, Any]]] = {}
        for tp, records in batch.items():
            start = resume.get(tp)
            if start is None or not records:
                kept_batch[tp] = records
                continue
            end = records[-1].offset + 1
            if end >= start:  # this batch reaches what the state does not cover
                del resume[tp]
            kept = [record for record in records if record.offset >= start]
            if len(kept) < len(records):
                covered = min(start, end)
                self._fetched[tp] = max(self._fetched.get(tp, 0), end)
                self._uncommitted[tp] = max(self._uncommitted.get(tp, 0), covered)
                self.liveness.processed({tp: covered}, [])
                log.info("skipped %d records of %s already in the restored state", len(records) - len(kept), tp)
            if kept:
                kept_batch[tp] = kept
        return kept_batch

    def _catch_up(self, signals: Callable[[], list[Signal]], outputs: list[Output]) -> None:
        """Signals of taken-over partitions' log shards (`log_catchup`); a failure is logged and counted (the
        shard loses those signals), and event time goes on."""
        try:
            outputs.extend(self._signal_output(signal) for signal in signals())
        except Exception:
            log.exception("log catch-up failed; going on")
            self.liveness.step_failed("catch_up")

    def _drained(self, tp: TopicPartition) -> bool:
        """Whether every record of `tp` fetched so far was processed and the broker reports no more."""
        return self._unprocessed[tp] <= 0 and not self.alignment.queued(tp) and not self._backlog(tp)

    def _queue(self, tp: TopicPartition, records: list[ConsumerRecord[Any, Any]], wall: float) -> None:
        """Decode a partition's fetched records and queue them for release in event-time order."""
        items: list[tuple[float | None, Fetched]] = []
        for record in records:
            event = self._decoder.decode(record)
            items.append((None if isinstance(event, InvalidEventError) else event.epoch, (record, event)))
        self.alignment.add(tp, items, wall, self._backlog)
        if records:
            self._fetched[tp] = records[-1].offset + 1
            self.input_marks.delivered(tp)

    def _backlog(self, partition: TopicPartition) -> bool:
        """Whether the broker reported more records for this partition than were fetched."""
        if self._consumer is None:
            return False
        highwater = self._consumer.highwater(partition)
        fetched = self._fetched.get(partition)
        return highwater is not None and fetched is not None and highwater > fetched

    def _flow_control(self) -> None:
        """Stop fetching partitions whose queue is long (they are ahead in event time), resume them once it
        halved, so holding records back for the event-time order cannot grow without bound."""
        if self._consumer is None:
            return
        limit = QUEUED_BATCHES_BEFORE_PAUSE * self.config.ingest.batch_max_records
        paused = self._consumer.paused()
        for tp in self._consumer.assignment():
            queued = self.alignment.queued(tp)
            if tp not in paused and queued >= limit:
                self._consumer.pause(tp)
            elif tp in paused and queued < limit // 2:
                self._consumer.resume(tp)

    def _prepare(self, events: list[Event]) -> None:
        """Let the stage score the released events' metric samples as one micro-batch (micro-batched
        ensemble); `events` in the order they are processed next."""
        try:
            self.stage.prepare(events)
        except Exception:  # never fatal: unprepared samples are scored one by one
            log.exception("detection: scoring the batch's metric samples together failed")

    def _process_record(self, record: ConsumerRecord[Any, Any], wall: float, outputs: list[Output],
                        shard: Hashable = 0, decoded: Decoded | None = None) -> None:
        event = self._decoder.decode(record) if decoded is None else decoded
        if isinstance(event, InvalidEventError):
            self._dead(record, event.reason, event.detail, outputs, wall)
            return
        try:  # the per-event guard: one bad event never stops the worker
            signals = [self._signal_output(signal) for signal in self.stage.process(event, shard)]
            self.checkpoints.track(record.topic, record.partition, event)
        except Exception as error:
            log.exception("detection failed", extra=self._where(record))
            self._dead(record, "internal_error", repr(error), outputs, wall)
            return
        outputs.extend(signals)

    def _signal_output(self, signal: Signal) -> Output:
        self.metrics.signals_emitted_total.labels(origin=signal.origin).inc()
        scope = scope_of(signal, self.config.correlation.scope, self.graph).encode()
        return (self.config.topics.signals, scope, signal.model_dump_json().encode(), None)

    def _dead(self, record: ConsumerRecord[Any, Any], reason: str, detail: str, outputs: list[Output],
              wall: float) -> None:
        self.metrics.events_deadlettered_total.labels(reason=reason).inc()
        log.warning("dead-lettered event: %s: %s", reason, detail[:200], extra=self._where(record))
        letter = dead_letter(
            "ingest", reason, detail, record.value, datetime.fromtimestamp(wall, tz=UTC),
            topic=record.topic, partition=record.partition, offset=record.offset, key=record.key,
        )
        outputs.append((self.config.topics.deadletter, letter_key(record.key), letter.model_dump_json().encode(), None))

    @staticmethod
    def _where(record: ConsumerRecord[Any, Any]) -> dict[str, Any]:
        return {"topic": record.topic, "partition": record.partition, "offset": record.offset}

    def _tick(self, watermark: float, outputs: list[Output], *, input_ended: bool = False,
              wall: float | None = None) -> None:
        """Event time reached `watermark`: detection timers' signals, then the watermark to every signals
        partition (the order `Pipeline` applies them in), with the input partitions it speaks for
        (`detect_inputs`; idleness judged at `wall`, default now). A timer that raises loses its signals of
        this tick, is logged and counted; event time goes on."""
        self._catch_up(lambda: self.log_catchup.finish_drained(self._drained), outputs)  # before time moves on
        try:
            outputs.extend([self._signal_output(s) for s in self.stage.advance(watermark, input_ended=input_ended)])
        except Exception:  # the per-record guard covers the timers reached from a record too
            log.exception("detection timers failed at event time %r; going on", watermark)
            self.liveness.step_failed("advance")
        now = self.wall() if wall is None else wall
        owned = self._consumer.assignment() - set(self.log_catchup.catching_up()) if self._consumer is not None else ()
        inputs = self.input_marks.inputs(owned, watermark, lambda tp: self.alignment.partition_idle(tp, now,
                                                                                                    self._backlog))
        body = Watermark(ts=dt_from_epoch(watermark), producer=self.producer_id, inputs=inputs,
                         input_count=self.input_marks.count(self._consumer)).model_dump_json().encode()
        for partition in self._signal_partitions:
            outputs.append((self.config.topics.signals, WATERMARK_KEY, body, partition))

    def _advance_idle(self, wall: float, outputs: list[Output]) -> None:
        """Processing-time fallback: while every input partition is idle, event time goes on in whole seconds
        per second of wall time (replay's end-of-file ticks; like replay's end, no series counts as missing),
        published every `ingest.watermark_interval_seconds`."""
        idle = self.alignment.idle_for(wall, self._backlog)
        if idle is None or wall - self._last_idle_advance < self.config.ingest.watermark_interval_seconds:
            return
        self._last_idle_advance = wall
        for tick in self.clock.idle_ticks(idle):
            self._tick(tick, outputs, input_ended=True, wall=wall)

    async def _publish(self, outputs: list[Output]) -> None:
        """Send every output and wait for the acks (`OutputPublisher`: permanent refusals dead-lettered,
        retryable failures retried without re-sending what was acknowledged, then `PublishFailedError`)."""
        assert self._publisher is not None
        await self._publisher.publish(outputs)

    async def final_checkpoint(self, *, during_rebalance: bool = False) -> None:
        """Snapshot and commit before giving partitions up, never mid-batch (the next owner would count that
        batch twice). `stop` waits for it; a rebalance (which the batch's commit may wait on) writes nothing."""
        if during_rebalance and self._batch_lock.locked():
            log.info("partitions revoked mid-batch: no final snapshot (the next owner reprocesses the batch)")
            return
        async with self._batch_lock:
            if not self._failed:
                await self.checkpoint(force=True)

    async def checkpoint(self, force: bool = False) -> None:
        """Snapshot changed detector state (when enabled; multivariate entities when due or `force`d), then
        commit every processed offset."""
        self._last_checkpoint = self.wall()
        outputs = self.checkpoints.outputs(self._uncommitted, force)  # empty when snapshots are off
        if outputs:
            await self._publish(outputs)
            self.snapshots_written += len(outputs)
        if self._uncommitted and self._consumer is not None:
            await self._consumer.commit(dict(self._uncommitted))
            self._uncommitted.clear()
