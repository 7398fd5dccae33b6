"""Liveness of every stage on the real broker (tansu), wired as `aiops run` wires it (`service_health`).

For each stage (detection, correlation, delivery) a worker is wedged on purpose: its output sends (detection,
correlation) or its receiver's send (delivery) wait on a closed gate while work waits for it. `/healthz` must
answer 503 naming that stage, and ``aiops_stage_healthy`` drop to 0, no sooner than `workers.stall_seconds`
after the wedge and within it plus the poll interval (plus fetch slack); the other stages stay healthy, and
the service is healthy again once the gate opens. Before the wedge the running, idle service stays healthy.
A receiver that keeps retrying through an outage is not stalled (only a silent one is).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from prometheus_client import CollectorRegistry
from support.incidents import make_incident
from support.receivers_emulated import EmulatedReceivers
from support.worker import event, isolated_config, produce

from aiops.config import AiopsConfig
from aiops.incidents import Incident
from aiops.metrics import AiopsMetrics
from aiops.runtime.correlate_worker import CorrelationWorker
from aiops.runtime.delivery import DeliveryWorker, delivery_workers
from aiops.runtime.detect_worker import DetectionWorker
from aiops.runtime.health import StageHealth
from aiops.runtime.http_server import HttpEndpoint
from aiops.runtime.service import service_health, topic_specs
from aiops.runtime.topics import TopicSpec, ensure_topics
from aiops.sinks.factory import Receiver, guard

pytestmark = [pytest.mark.integration, pytest.mark.slow]

STALL_SECONDS = 2.0
POLL_SECONDS = 0.25
SLACK_SECONDS = 8.0
"""Beyond stall + poll: the work reaching the stage (fetch, one hop through detection) and the test's polling.
Generous because CI machines are loaded (4.2 s was seen once for 1.5 s of slack); on a quiet machine it is
about 0.1 s (docs/benchmarks.md, "Faults"). It bounds the alarm, it does not time the machine."""
RELIABILITY = {"timeout_seconds": 1.0, "deadline_seconds": 60.0, "initial_backoff_seconds": 0.1,
               "max_backoff_seconds": 0.5, "rate_limit_per_second": 1000.0, "rate_limit_burst": 1000,
               "circuit_failure_threshold": 5, "circuit_open_seconds": 0.5}
T0 = 1_760_000_000.0


class Gate:
    """Open: calls pass. Closed: they wait until it opens (the stage is wedged on purpose)."""

    def __init__(self) -> None:
        self._open = asyncio.Event()
        self._open.set()
        self.held = 0

    def close(self) -> None:
        self._open.clear()

    def open(self) -> None:
        self._open.set()

    async def passing(self) -> None:
        if not self._open.is_set():
            self.held += 1
        await self._open.wait()


class GatedSink:
    """A receiver that accepts every incident once its gate lets the send through; no timeout of its own."""

    def __init__(self, name: str, gate: Gate) -> None:
        self._name = name
        self.gate = gate
        self.delivered: list[str] = []

    @property
    def name(self) -> str:
        return self._name

    async def deliver(self, incident: Incident) -> None:
        await self.gate.passing()
        self.delivered.append(incident.idempotency_key)

    async def close(self) -> None:
        return None


def gate_sends(producer: Any, gate: Gate) -> None:
    """Every `producer.send` waits at `gate` first: outputs are never acknowledged while it is closed."""
    send = producer.send

    async def gated(*args: Any, **kwargs: Any) -> Any:
        await gate.passing()
        return await send(*args, **kwargs)

    producer.send = gated


async def until(predicate: Callable[[], bool], within: float) -> float:
    """Seconds until `predicate` held (polled every 50 ms); fails the test after `within`."""
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < within, "condition not reached in time"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


@asynccontextmanager
async def running(workers: list[Any]) -> AsyncIterator[None]:
    """Start the workers (at once: their group joins overlap) and run their loops; stop them in reverse."""
    tasks: list[asyncio.Task[None]] = []
    try:
        await asyncio.gather(*(worker.start() for worker in workers))
        tasks = [asyncio.create_task(worker.run()) for worker in workers]
        yield
    finally:
        for worker in reversed(workers):
            await worker.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def alerts(count: int) -> list[bytes]:
    """Alert events: each becomes a signal at once, so detection and correlation have outputs to publish."""
    return [event(kind="alert", ts=T0 + i, source="prometheus", service="api", host="api-1", name=f"Alert{i}",
                  severity="critical", status="firing", fingerprint=f"fp-{i}") for i in range(count)]


async def pipeline_config(bootstrap: str, prefix: str) -> AiopsConfig:
    data = isolated_config(prefix, bootstrap, {
        "workers": {"stall_seconds": STALL_SECONDS, "progress_poll_seconds": POLL_SECONDS},
        "delivery": {"notifications_topic": f"{prefix}notifications", "security": {"allow_loopback": True},
                     "default_receivers": ["pager"], "repeat_interval_seconds": 0,
                     "receivers": {"webhook": {"pager": {"url": "http://127.0.0.1:9/in", "reliability": RELIABILITY}}}},
    })
    config = AiopsConfig.model_validate(data)
    await ensure_topics(bootstrap, topic_specs(config))
    return config


async def scrape(url: str) -> tuple[int, dict[str, Any], str]:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/healthz") as response:
            status, body = response.status, await response.json()
        async with session.get(f"{url}/metrics") as response:
            metrics = await response.text()
    return status, body, metrics


@pytest.mark.parametrize("stage", ["detection", "correlation", "delivery:pager"])
async def test_a_wedged_stage_turns_healthz_503_within_the_stall_time_and_recovers(
    kafka_bootstrap: str, unique_topic_prefix: str, stage: str
) -> None:
    config = await pipeline_config(kafka_bootstrap, unique_topic_prefix)
    registry = CollectorRegistry()
    metrics = AiopsMetrics(registry)
    gate = Gate()
    detection = DetectionWorker(config, kafka_bootstrap, metrics, producer_id=f"detect-{uuid.uuid4().hex[:8]}")
    correlation = CorrelationWorker(config, kafka_bootstrap, metrics)
    rel = config.delivery.receiver("pager").reliability
    sink = GatedSink("pager", gate)
    delivery = DeliveryWorker(config, kafka_bootstrap, Receiver("pager", "webhook", guard(sink, rel), rel, None),
                              metrics)
    health = service_health(metrics, kafka_bootstrap, detection, correlation, [delivery])
    progresses = [detection.progress, correlation.progress, delivery.progress]
    async with running([detection, correlation, delivery]), HttpEndpoint("127.0.0.1", 0, registry, health) as http:
        await until(lambda: all(p.lag() and not p.unknown() for p in progresses), within=30)  # assigned, positioned
        idle_since = time.monotonic()
        while time.monotonic() - idle_since < STALL_SECONDS + 2 * POLL_SECONDS:  # running, idle: healthy
            assert health()["ok"], health()
            await asyncio.sleep(0.1)

        if stage == "detection":
            gate_sends(detection._producer, gate)
        elif stage == "correlation":
            gate_sends(correlation._producer, gate)
        wedged_at = time.monotonic()
        gate.close()
        if stage == "delivery:pager":  # an incident straight onto the incidents topic
            incident = make_incident("inc-wedge")
            await produce(kafka_bootstrap, config.topics.incidents, [incident.model_dump_json().encode()],
                          key=incident.id.encode())
        else:
            await produce(kafka_bootstrap, config.topics.events, alerts(3))
        await until(lambda: not health()["ok"], within=STALL_SECONDS + 10)
        took = time.monotonic() - wedged_at
        status, body, exposition = await scrape(http.url)
        assert gate.held >= 1, "the stage never reached its gate: not wedged"
        assert status == 503
        assert body["failing"] == [stage], body
        assert body["stages"][stage]["lag"] >= 1
        assert body["stages"][stage]["stalled_partitions"]
        assert all(body["stages"][other]["ok"] for other in health.stages if other != stage), body
        assert f'aiops_stage_healthy{{stage="{stage}"}} 0.0' in exposition
        assert registry.get_sample_value("aiops_stage_lag_records", {"stage": stage}) >= 1
        assert took >= STALL_SECONDS - 0.1, "unhealthy before the stall time: a moment's backlog is no stall"
        assert took <= STALL_SECONDS + POLL_SECONDS + SLACK_SECONDS

        gate.open()  # un-wedged: the waiting work is processed and the stage is healthy again
        await until(lambda: bool(health()["ok"]), within=10)
        status, body, exposition = await scrape(http.url)
        assert status == 200, body
        assert f'aiops_stage_healthy{{stage="{stage}"}} 1.0' in exposition


async def test_a_receiver_retrying_through_an_outage_stays_healthy_a_silent_one_does_not(
    kafka_bootstrap: str, unique_topic_prefix: str
) -> None:
    async with EmulatedReceivers() as emu:
        receivers = {kind: {kind: {"url": emu.url(kind, "in"), "reliability": RELIABILITY}}
                     for kind in ("slack", "teams")}
        config = AiopsConfig.model_validate(isolated_config(unique_topic_prefix, kafka_bootstrap, {
            "workers": {"stall_seconds": STALL_SECONDS, "progress_poll_seconds": POLL_SECONDS},
            "delivery": {"notifications_topic": f"{unique_topic_prefix}notifications",
                         "security": {"allow_loopback": True}, "default_receivers": ["webhook", "slack", "teams"],
                         "receivers": {**receivers, "webhook": {"webhook": {"url": "http://127.0.0.1:9/in",
                                                                            "reliability": RELIABILITY}}}},
        }))
        await ensure_topics(kafka_bootstrap, [TopicSpec(config.topics.incidents, 1),
                                              TopicSpec(config.topics.deadletter, 1)])
        registry = CollectorRegistry()
        metrics = AiopsMetrics(registry)
        gate = Gate()
        gate.close()
        rel = config.delivery.receiver("webhook").reliability
        silent = DeliveryWorker(config, kafka_bootstrap,
                                Receiver("webhook", "webhook", guard(GatedSink("webhook", gate), rel), rel, None),
                                metrics)
        workers: list[DeliveryWorker] = [silent, *delivery_workers(config, kafka_bootstrap, metrics,
                                                                    only=["slack", "teams"])]
        health = StageHealth(metrics)
        for worker in workers:
            health.add(worker.stage, worker)
        async with running(list(workers)):
            await until(lambda: all(w.progress.lag() and not w.progress.unknown() for w in workers), within=30)
            emu.fail_next("teams", 100_000)  # teams is down from now on: retried with backoff, not stalled
            sent = [make_incident(f"inc-wedge-{i}") for i in range(3)]
            for incident in sent:
                await produce(kafka_bootstrap, config.topics.incidents, [incident.model_dump_json().encode()],
                              key=incident.id.encode())
            await until(lambda: not health()["ok"], within=STALL_SECONDS + 10)
            assert health()["failing"] == ["delivery:webhook"], health()
            await asyncio.sleep(STALL_SECONDS)  # teams has retried longer than the stall time by now
            report = health()
            assert report["failing"] == ["delivery:webhook"], report
            assert len(emu.calls("teams")) >= 5
            assert emu.accepted["teams"] == []
            assert sorted(emu.accepted["slack"]) == sorted(i.idempotency_key for i in sent)
            assert registry.get_sample_value("aiops_stage_healthy", {"stage": "delivery:teams"}) == 1.0
            gate.open()  # the silent receiver answers again: healthy, while teams still retries
            await until(lambda: bool(health()["ok"]), within=10)
