"""`aiops run`: wire broker, topics, detection, correlation, delivery and the HTTP endpoint.

Checks that its ports are free (`aiops.runtime.startup`), starts the embedded tansu broker on
`kafka.embedded_port` when `kafka.bootstrap` is not set (and stops it on exit), creates the topics, then runs
in one asyncio loop the detection worker, the correlation worker, one delivery worker per receiver, the
incident store's projector (`store.enabled`; /healthz stage ``store``), HTTP ingest (`ingest.http`), the
operator API (`api`; it reads the projector's store instance, one engine opened once by the projector, audits
into it and streams the store's change feed, which the projector's commits nudge) and the `/metrics` + `/healthz`
endpoint that also serves their routes; once all started
it prints the start-up banner. SIGINT/SIGTERM stop the runners in reverse order (each makes its final
checkpoint and commit); a runner whose loop fails stops the process with exit code 1. `/healthz` and
``aiops_stage_healthy`` are `service_health`: detection, correlation and every delivery receiver, each a stage
of `aiops.runtime.health.StageHealth`. Extra runners (the demo's scenario feeder and incident printer) plug in
through `extra_runners`. This is process wiring only.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import uuid
from collections.abc import Callable, Sequence
from typing import Protocol

from aiohttp import web
from prometheus_client import CollectorRegistry

from aiops.config import AiopsConfig
from aiops.metrics import AiopsMetrics
from aiops.runtime.api_http import OperatorApi
from aiops.runtime.api_stream import IncidentFeed
from aiops.runtime.broker import EmbeddedBroker
from aiops.runtime.correlate_worker import CorrelationWorker
from aiops.runtime.delivery import DeliveryWorker, delivery_workers
from aiops.runtime.detect_worker import DetectionWorker
from aiops.runtime.health import StageHealth
from aiops.runtime.http_server import HttpEndpoint
from aiops.runtime.ingest_http import IngestFront
from aiops.runtime.logs import JsonSetting, configure_logging
from aiops.runtime.silences import silences_topic_spec
from aiops.runtime.startup import Announcement, check_ports, settle_heap
from aiops.runtime.store_projector import StoreProjector, build_store, store_location
from aiops.runtime.topics import TopicSpec, ensure_topics

log = logging.getLogger("aiops.service")
STOP_TIMEOUT_SECONDS = 30.0
"""How long one runner may take to stop (final checkpoint and commit) before the next is stopped."""


def _log_settings(config: AiopsConfig) -> tuple[str, JsonSetting, str]:
    return config.logging.level, config.logging.json_format, config.logging.library_level


class Runner(Protocol):
    async def start(self) -> None: ...
    async def run(self) -> None: ...
    async def stop(self) -> None: ...


def topic_specs(config: AiopsConfig) -> list[TopicSpec]:
    t = config.topics
    rf = t.replication_factor
    return [
        TopicSpec(t.events, t.events_partitions, rf),
        TopicSpec(t.signals, t.signals_partitions, rf),
        TopicSpec(t.incidents, t.incidents_partitions, rf, {"cleanup.policy": "compact"}),
        TopicSpec(t.deadletter, 1, rf),
        TopicSpec(t.decisions, t.incidents_partitions, rf),
        TopicSpec(t.actions, t.signals_partitions, rf),  # keyed by scope like the signals, partitioned alike
        silences_topic_spec(config.suppression.silences_topic),
        TopicSpec(t.correlation_state, t.signals_partitions, rf, {"cleanup.policy": "compact"}),
    ]


async def serve(config: AiopsConfig, runners: list[Runner], http: HttpEndpoint, stop_after: float | None,
                announcement: Announcement | None = None) -> int:
    """Start the HTTP endpoint and every runner, run them until SIGINT/SIGTERM (or `stop_after` seconds),
    then stop them in reverse order. Exit code 1 when a runner's loop failed (it is logged)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    if stop_after is not None:
        loop.call_later(stop_after, stop.set)
    started: list[Runner] = []
    tasks: set[asyncio.Task[None]] = set()
    failed = False
    try:
        await http.start()
        log.info("http endpoint on %s (/metrics, /healthz)", http.url)
        for runner in runners:
            await runner.start()
            started.append(runner)
            tasks.add(asyncio.create_task(runner.run(), name=f"aiops-{type(runner).__name__}"))
        settle_heap()
        if announcement is not None:
            announcement.ready(http.url)
        failed = await _until_stopped(stop, tasks)
    finally:
        failed = await _stop_all(started, tasks) or failed
        await http.stop()
    return 1 if failed else 0


async def _until_stopped(stop: asyncio.Event, tasks: set[asyncio.Task[None]]) -> bool:
    """Wait for `stop` (runners whose loop simply returns are fine); True when a runner's loop failed."""
    stopper = asyncio.create_task(stop.wait())
    running = set(tasks)
    try:
        while running:
            done, _ = await asyncio.wait({stopper, *running}, return_when=asyncio.FIRST_COMPLETED)
            if stopper in done:
                return False
            for task in done:
                running.discard(task)
                if not task.cancelled() and task.exception() is not None:
                    log.error("%s failed; stopping the worker", task.get_name(), exc_info=task.exception())
                    return True
        await stopper
        return False
    finally:
        stopper.cancel()


async def _stop_all(started: list[Runner], tasks: set[asyncio.Task[None]]) -> bool:
    failed = False
    for runner in reversed(started):
        try:
            await asyncio.wait_for(runner.stop(), STOP_TIMEOUT_SECONDS)
        except Exception:
            log.exception("stopping %s failed", type(runner).__name__)
            failed = True
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return failed


def run_service(
    config: AiopsConfig,
    *,
    extra_runners: Callable[[str, AiopsConfig], list[Runner]] | None = None,
    stop_after: float | None = None,
    on_broker: Callable[[str], None] | None = None,
) -> int:
    """Run until SIGINT/SIGTERM (or `stop_after` seconds). Blocks; the exit code (1: a worker loop failed)."""
    configure_logging(*_log_settings(config))
    check_ports(config)
    broker = None
    bootstrap = config.kafka.bootstrap
    if bootstrap is None:
        broker = EmbeddedBroker(port=config.kafka.embedded_port)
        broker.start_sync()
        bootstrap = broker.bootstrap
        log.info("embedded tansu broker at %s", bootstrap)
    announcement = Announcement(bootstrap, embedded=broker is not None, ingest=config.ingest.http.enabled,
                                console=config.api.enabled and config.api.console)
    try:
        if on_broker is not None:
            on_broker(bootstrap)
        asyncio.run(ensure_topics(bootstrap, topic_specs(config), client_id=f"{config.kafka.client_id}-admin",
                                  request_timeout_ms=config.kafka.request_timeout_ms))
        return _run_worker(config, bootstrap, extra_runners, stop_after, announcement)
    finally:
        announcement.withdraw()
        if broker is not None:
            broker.stop_sync()


def _run_worker(
    config: AiopsConfig,
    bootstrap: str,
    extra_runners: Callable[[str, AiopsConfig], list[Runner]] | None,
    stop_after: float | None,
    announcement: Announcement,
) -> int:
    registry = CollectorRegistry()
    metrics = AiopsMetrics(registry)
    detection = DetectionWorker(config, bootstrap, metrics, producer_id=f"detect-{uuid.uuid4().hex[:8]}")
    correlation = CorrelationWorker(config, bootstrap, metrics)
    deliveries = delivery_workers(config, bootstrap, metrics)
    runners: list[Runner] = [detection, correlation, *deliveries]
    feed = IncidentFeed(config.api.stream_queue_events)
    projector = store_projector(config, bootstrap, metrics, embedded_broker=announcement.embedded, feed=feed)
    if projector is not None:
        runners.append(projector)
    if extra_runners is not None:
        runners.extend(extra_runners(bootstrap, config))
    health = service_health(metrics, bootstrap, detection, correlation, deliveries)
    if projector is not None:
        health.add(projector.stage, projector)
    installers: list[Callable[[web.Application], None]] = []
    if config.ingest.http.enabled:
        ingest = IngestFront(config, bootstrap, metrics)
        runners.append(ingest)  # starts last (every stage is up), stops first (no request half-taken)
        installers.append(ingest.install)
    if config.api.enabled:
        api = operator_api(config, bootstrap, projector, feed, registry)
        runners.append(api)  # starts after the projector opened the store, stops before it closes it
        installers.append(api.install)
    http = HttpEndpoint(config.http.host, config.http.port, registry, health, installers=installers,
                        client_max_size=config.ingest.http.max_body_bytes)
    return asyncio.run(serve(config, runners, http, stop_after, announcement))


def store_projector(config: AiopsConfig, bootstrap: str, metrics: AiopsMetrics, *, embedded_broker: bool,
                    feed: IncidentFeed | None = None) -> StoreProjector | None:
    """The incident store's projector (`store.enabled`), on `store.url` or its default location; each batch
    it commits nudges `feed` (the API's stream reads the store's change feed at once)."""
    if not config.store.enabled:
        return None
    url, temporary_dir = store_location(config, embedded_broker=embedded_broker)
    return StoreProjector(config, bootstrap, build_store(config, url), metrics, temporary_dir=temporary_dir,
                          on_projected=feed.nudge if feed is not None else None)


def operator_api(config: AiopsConfig, bootstrap: str, projector: StoreProjector | None,
                 feed: IncidentFeed, registry: CollectorRegistry | None = None) -> OperatorApi:
    """The operator API over the projector's store (the same instance: one engine, opened by the projector);
    without a store, its incident routes and actions answer 503."""
    if projector is None:
        return OperatorApi(config, bootstrap, feed=feed, registry=registry)
    store = projector.store
    return OperatorApi(config, bootstrap, store=store, scope_of=store.incident_scope, audit=store, feed=feed,
                       registry=registry)


def service_health(metrics: AiopsMetrics, bootstrap: str, detection: DetectionWorker,
                   correlation: CorrelationWorker, deliveries: Sequence[DeliveryWorker]) -> StageHealth:
    """The worker's liveness: stages ``detection``, ``correlation`` and ``delivery:<receiver>`` (each
    unhealthy after `workers.stall_seconds` with work waiting and no progress), plus informative details."""
    health = StageHealth(metrics, details=lambda: {
        "bootstrap": bootstrap, "batches": detection.batches, "series": detection.stage.metrics.live_series})
    health.add("detection", detection.progress)
    health.add("correlation", correlation.progress)
    for worker in deliveries:
        health.add(worker.stage, worker)
    return health
