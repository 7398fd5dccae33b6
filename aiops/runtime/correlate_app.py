"""Correlation stage on Faust: signals and watermarks in, incident changes out, state in a table.

The `correlate` agent consumes the signals topic (keyed by correlation scope, so one scope's signals
are ordered in one partition). Each scope's state lives in the changelog-backed table
`correlation-state`, one small value per incident, member and scope (`correlation_store`),
so `kill -9` and a restart lose nothing: the table is recovered from its changelog
and the uncommitted signals are processed again (dedup by fingerprint and deterministic incident ids make
that idempotent). A watermark message advances event time for every scope stored in its partition.
After each state write the agent writes a small per-partition marker key, so the last record of every
changelog partition is a marker: tansu can report the end offset one short, and losing a marker on
recovery loses nothing. Faust flushes its producer before it commits offsets (at-least-once).
Every correlation decision goes to the decisions topic (key = incident id).
Nothing recoverable escapes the agent: a bad message becomes a dead letter and the agent goes on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any

import faust
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from aiops.config import AiopsConfig
from aiops.correlation.stage import CorrelationStage
from aiops.deadletter import dead_letter
from aiops.incidents import Incident
from aiops.metrics import AiopsMetrics
from aiops.pipeline import build_correlator
from aiops.runtime.correlation_store import PartitionTableStore, ScopeCache
from aiops.runtime.faust_patches import apply_faust_patches
from aiops.runtime.progress import ConsumerProgress
from aiops.runtime.silences import follow_silences
from aiops.signals import SIGNAL_MESSAGE_ADAPTER, Signal

log = logging.getLogger("aiops.correlate")

TABLE_NAME = "correlation-state"
MARKER_PREFIX = "__marker__/"


def create_app(config: AiopsConfig, bootstrap: str, metrics: AiopsMetrics, web_port: int,
               progress: ConsumerProgress | None = None) -> faust.App:
    """The Faust app with its topics, table and the `correlate` agent (reporting to `progress`)."""
    topics = config.topics
    apply_faust_patches()
    app = _faust_app(config, bootstrap, web_port)
    signals_topic = app.topic(topics.signals, partitions=topics.signals_partitions,
                              key_serializer="raw", value_serializer="raw")
    incidents_topic = app.topic(topics.incidents, partitions=topics.incidents_partitions,
                                key_serializer="raw", value_serializer="raw")
    deadletter_topic = app.topic(topics.deadletter, key_serializer="raw", value_serializer="raw")
    table = app.Table(TABLE_NAME, default=None, partitions=topics.signals_partitions)
    decisions_topic = app.topic(topics.decisions, key_serializer="raw", value_serializer="raw")
    correlator = build_correlator(config)
    cache = ScopeCache()

    progress = progress or ConsumerProgress(config.workers.stall_seconds)

    async def _forget_cached_scopes(sender: Any, *args: Any, **kwargs: Any) -> None:
        cache.clear()

    for signal in (app.on_partitions_revoked, app.on_partitions_assigned):
        hook: Any = signal
        hook.connect(_forget_cached_scopes)
    _track_progress(app, topics.signals, progress, metrics, config.workers.progress_poll_seconds)

    silences_loaded = asyncio.Event()

    async def follow_silences_topic() -> None:
        """Dynamic silences (`aiops silence add`) from their compacted topic into the engine's policy; the
        agent waits for the first full read so no signal is judged without the silences in force."""
        suppression = config.suppression
        async for silences in follow_silences(bootstrap, suppression.silences_topic):
            correlator.policy = suppression.policy(silences)
            silences_loaded.set()
            log.info("suppression policy now has %d dynamic silence(s)", len(silences))

    app.task(follow_silences_topic)

    async def emit(incidents: list[Incident]) -> None:
        await _emit(incidents, metrics, incidents_topic)
        for decision in correlator.drain_decisions():
            await decisions_topic.send(key=decision.incident_id.encode(), value=decision.model_dump_json().encode())

    def handle(raw: bytes, partition: int) -> tuple[list[Incident], bool]:
        """The incidents a message changed, and whether it wrote state to the table."""
        message = SIGNAL_MESSAGE_ADAPTER.validate_json(raw)
        store = PartitionTableStore(table, partition, cache)
        stage = CorrelationStage(correlator, store)
        if isinstance(message, Signal):
            return stage.process(message), store.saves > 0
        return stage.advance(message.ts.timestamp()), store.saves > 0

    @app.agent(signals_topic, name="correlate")
    async def correlate(stream: Any) -> None:
        await silences_loaded.wait()
        async for event in stream.events():
            msg = event.message
            try:
                incidents, wrote_state = handle(event.value, msg.partition)
                if wrote_state:  # keep a marker as the last record of the changelog partition
                    table[f"{MARKER_PREFIX}{msg.partition}"] = msg.offset
                await emit(incidents)
            except ValidationError as error:
                await _dead_letter(deadletter_topic, metrics, msg, "schema", str(error))
            except Exception as error:  # the agent's per-event guard: never let Faust drop it
                log.exception("correlation failed", extra={"topic": msg.topic, "partition": msg.partition,
                                                           "offset": msg.offset})
                await _dead_letter(deadletter_topic, metrics, msg, "internal_error", repr(error))
            progress.processed(msg.partition, msg.offset)  # dead-lettered messages are progress too

    return app


def _track_progress(app: faust.App, topic: str, progress: ConsumerProgress, metrics: AiopsMetrics,
                    poll_seconds: float) -> None:
    """Keep `progress` told of the assigned signals partitions and, every `poll_seconds`, their end offsets."""

    async def track_assignment(sender: Any, *args: Any, **kwargs: Any) -> None:
        progress.assigned(tp.partition for tp in app.consumer.assignment() if tp.topic == topic)

    for signal in (app.on_partitions_revoked, app.on_partitions_assigned):
        hook: Any = signal
        hook.connect(track_assignment)

    async def poll_signals_end_offsets() -> None:
        await _poll_end_offsets(app, topic, progress, metrics)

    timer: Any = app.timer(interval=poll_seconds)
    timer(poll_signals_end_offsets)


async def _poll_end_offsets(app: faust.App, topic: str, progress: ConsumerProgress, metrics: AiopsMetrics) -> None:
    """End offsets of the assigned signals partitions into `progress` and the lag gauge."""
    partitions = [tp for tp in app.consumer.assignment() if tp.topic == topic]
    if not partitions:
        return
    try:
        ends = await app.consumer.highwaters(*partitions)
    except KafkaError as error:
        log.warning("could not read signals end offsets: %r", error)
        return
    progress.observe_ends({tp.partition: end for tp, end in ends.items()}, time.time())
    for partition, lag in progress.lag().items():
        metrics.consumer_lag_records.labels(topic=topic, partition=str(partition)).set(lag)


async def _emit(incidents: list[Incident], metrics: AiopsMetrics, topic: Any) -> None:
    for incident in incidents:
        metrics.incidents_emitted_total.labels(status=incident.status).inc()
        if incident.status == "open":  # first open or a reopen
            metrics.incidents_open.inc()
        elif incident.status == "resolved":
            metrics.incidents_open.dec()
        log.info("incident %s v%d %s %s: %s", incident.id, incident.version, incident.status,
                 incident.priority, incident.title)
        await topic.send(key=incident.id.encode(), value=incident.model_dump_json().encode())


def _faust_app(config: AiopsConfig, bootstrap: str, web_port: int) -> faust.App:
    fcfg = config.workers
    app = faust.App(
        fcfg.app_id,
        broker=f"kafka://{bootstrap}",
        store="memory://",
        topic_partitions=config.topics.signals_partitions,
        broker_session_timeout=fcfg.session_timeout_seconds,
        broker_heartbeat_interval=fcfg.heartbeat_interval_seconds,
        broker_rebalance_timeout=fcfg.rebalance_timeout_seconds,
        broker_commit_interval=1.0,
        web_enabled=False,
        web_host="127.0.0.1",
        web_port=web_port,
        producer_acks=-1,
        key_serializer="json",  # the table's changelog; our topics set "raw" explicitly
        value_serializer="json",
    )
    return app


async def _dead_letter(topic: Any, metrics: AiopsMetrics, msg: Any, reason: str, detail: str) -> None:
    metrics.events_deadlettered_total.labels(reason=reason).inc()
    letter = dead_letter("correlation", reason, detail, msg.value, datetime.now(tz=UTC),
                         topic=msg.topic, partition=msg.partition, offset=msg.offset, key=msg.key)
    await topic.send(key=msg.key, value=letter.model_dump_json().encode())
