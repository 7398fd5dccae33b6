"""`aiops run`: wire broker, topics, detection, correlation (Faust), delivery and the HTTP endpoint.

Checks that its ports are free (`aiops.runtime.startup`), starts the embedded tansu broker on
`kafka.embedded_port` when `kafka.bootstrap` is not set (and stops it on exit), creates the topics, then runs
one Faust worker whose extra service hosts the aiokafka detection loop, one delivery worker per webhook and
the `/metrics` + `/healthz` endpoint; once that listens it prints the start-up banner. Extra runners (the
demo's scenario feeder and incident printer) plug in through `extra_runners`. This is process wiring only;
no pipeline logic here.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol

import faust
import mode
from prometheus_client import CollectorRegistry

from aiops.config import AiopsConfig
from aiops.metrics import AiopsMetrics
from aiops.runtime.broker import EmbeddedBroker, free_loopback_port
from aiops.runtime.correlate_app import TABLE_NAME, create_app
from aiops.runtime.delivery import delivery_workers
from aiops.runtime.detect_worker import DetectionWorker
from aiops.runtime.http_server import HttpEndpoint
from aiops.runtime.logs import JsonSetting, configure_logging
from aiops.runtime.progress import ConsumerProgress
from aiops.runtime.silences import silences_topic_spec
from aiops.runtime.startup import Announcement, check_ports
from aiops.runtime.topics import TopicSpec, ensure_topics

log = logging.getLogger("aiops.service")


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
        silences_topic_spec(config.suppression.silences_topic),
        TopicSpec(f"{config.workers.app_id}-{TABLE_NAME}-changelog", t.signals_partitions, rf,
                  {"cleanup.policy": "compact"}),
    ]


class SideServices(mode.Service):
    """Runs aiops' non-Faust runners inside the Faust worker's event loop."""

    def __init__(self, config: AiopsConfig, runners: list[Runner], http: HttpEndpoint, stop_after: float | None,
                 announcement: Announcement | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.config = config
        self.runners = runners
        self.http = http
        self.stop_after = stop_after
        self.announcement = announcement

    async def on_start(self) -> None:
        # Faust's worker installs its own log handlers while starting; put ours (format, explicit levels) back.
        configure_logging(*_log_settings(self.config))
        await self.http.start()
        log.info("http endpoint on %s (/metrics, /healthz)", self.http.url)
        if self.announcement is not None:
            self.announcement.ready(self.http.url)
        for runner in self.runners:
            await runner.start()
            self.add_future(runner.run())
        if self.stop_after is not None:
            asyncio.get_running_loop().call_later(self.stop_after, os.kill, os.getpid(), signal.SIGTERM)

    async def on_stop(self) -> None:
        for runner in reversed(self.runners):
            await runner.stop()
        await self.http.stop()


def run_service(
    config: AiopsConfig,
    *,
    extra_runners: Callable[[str, AiopsConfig], list[Runner]] | None = None,
    stop_after: float | None = None,
    on_broker: Callable[[str], None] | None = None,
) -> None:
    """Run until SIGINT/SIGTERM (or `stop_after` seconds). Blocks; raises SystemExit at the end."""
    configure_logging(*_log_settings(config))
    check_ports(config)
    broker = None
    bootstrap = config.kafka.bootstrap
    if bootstrap is None:
        broker = EmbeddedBroker(port=config.kafka.embedded_port)
        broker.start_sync()
        bootstrap = broker.bootstrap
        log.info("embedded tansu broker at %s", bootstrap)
    announcement = Announcement(bootstrap, embedded=broker is not None)
    try:
        if on_broker is not None:
            on_broker(bootstrap)
        asyncio.run(ensure_topics(bootstrap, topic_specs(config), client_id=f"{config.kafka.client_id}-admin",
                                  request_timeout_ms=config.kafka.request_timeout_ms))
        _run_worker(config, bootstrap, extra_runners, stop_after, announcement)
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
) -> None:
    registry = CollectorRegistry()
    metrics = AiopsMetrics(registry)
    progress = ConsumerProgress(config.workers.stall_seconds)
    app = create_app(config, bootstrap, metrics, web_port=free_loopback_port(), progress=progress)
    detection = DetectionWorker(config, bootstrap, metrics, producer_id=f"detect-{uuid.uuid4().hex[:8]}")
    runners: list[Runner] = [detection]
    runners.extend(delivery_workers(config, bootstrap, metrics))
    if extra_runners is not None:
        runners.extend(extra_runners(bootstrap, config))

    def health() -> dict[str, Any]:
        correlation = progress.status(time.time()) if config.workers.stall_seconds > 0 else {"ok": True}
        return {"ok": correlation["ok"], "bootstrap": bootstrap, "batches": detection.batches,
                "series": detection.stage.metrics.live_series, "correlation": correlation}

    http = HttpEndpoint(config.http.host, config.http.port, registry, health)
    side = SideServices(config, runners, http, stop_after, announcement)
    asyncio.set_event_loop(asyncio.new_event_loop())
    worker = faust.Worker(app, side, loglevel=config.logging.level, quiet=True, redirect_stdouts=False)
    worker.spinner = None  # Faust's start-up spinner (on at logging.level WARNING+) writes escapes to stdout
    configure_logging(*_log_settings(config))
    worker.execute_from_commandline()
