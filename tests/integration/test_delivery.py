"""Delivery on the real broker (tansu) against emulated receiver APIs with injected faults.

Delivery workers run in-process (`delivery_workers`) or as a subprocess (`aiops deliver`,
for the SIGKILL test); incidents are produced straight to the incidents topic, except in the end-to-end
test where `aiops run` turns events into incidents.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry
from support.incidents import make_incident
from support.receivers_emulated import EmulatedReceivers
from support.worker import WorkerProcess, collect, event, isolated_config, produce

from aiops.config import AiopsConfig
from aiops.incidents import Incident
from aiops.metrics import AiopsMetrics
from aiops.runtime.delivery import delivery_workers
from aiops.runtime.topics import TopicSpec, ensure_topics

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FAST = {"timeout_seconds": 1.0, "deadline_seconds": 20.0, "initial_backoff_seconds": 0.1,
        "max_backoff_seconds": 0.5, "rate_limit_per_second": 1000.0, "rate_limit_burst": 1000,
        "circuit_failure_threshold": 5, "circuit_open_seconds": 0.5}


def delivery_section(emu: EmulatedReceivers, names: list[str], prefix: str, **reliability: Any) -> dict[str, Any]:
    rel = {**FAST, **reliability}
    kinds: dict[str, dict[str, Any]] = {
        "webhook": {"url": emu.url("webhook", "in")},
        "slack": {"url": emu.url("slack", "T/B/X")},
        "teams": {"url": emu.url("teams", "wf")},
        "pagerduty": {"url": emu.url("pagerduty", "v2/enqueue"), "routing_key": "rk"},
        "servicenow": {"instance_url": emu.url("servicenow", ""), "username": "u", "password": "p"},
    }
    return {"notifications_topic": f"{prefix}notifications", "default_receivers": names,
            "security": {"allow_loopback": True},
            "receivers": {kind: {kind: {**kinds[kind], "reliability": rel}} for kind in names}}


async def make_config(bootstrap: str, prefix: str, delivery: dict[str, Any]) -> AiopsConfig:
    data = isolated_config(prefix, bootstrap, {"delivery": delivery})
    config = AiopsConfig.model_validate(data)
    await ensure_topics(bootstrap, [TopicSpec(config.topics.incidents, 2), TopicSpec(config.topics.deadletter, 1)])
    return config


@asynccontextmanager
async def running(config: AiopsConfig, bootstrap: str) -> AsyncIterator[list[Any]]:
    workers = delivery_workers(config, bootstrap, AiopsMetrics(CollectorRegistry()))
    for worker in workers:
        await worker.start()
    tasks = [asyncio.create_task(worker.run()) for worker in workers]
    try:
        yield workers
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for worker in workers:
            await worker.stop()


async def publish(bootstrap: str, config: AiopsConfig, incidents: list[Incident]) -> None:
    for inc in incidents:
        await produce(bootstrap, config.topics.incidents, [inc.model_dump_json().encode()], key=inc.id.encode())


def incidents(n: int, tag: str) -> list[Incident]:
    return [make_incident(f"inc-{tag}-{i}") for i in range(n)]


OUTAGE_SECONDS = 30.0  # the scenario: a receiver down for 30 s, then back


async def test_receiver_down_for_30_seconds_then_back_every_key_once(
    kafka_bootstrap: str, unique_topic_prefix: str
) -> None:
    async with EmulatedReceivers() as emu:
        # Production-like reliability (deadline well past the outage, circuit breaker on), with the breaker's
        # open time and the backoff cap at 5 s so the test does not wait minutes after the receiver is back.
        reliability = {"deadline_seconds": 120.0, "initial_backoff_seconds": 0.5, "max_backoff_seconds": 5.0,
                       "circuit_failure_threshold": 5, "circuit_open_seconds": 5.0}
        config = await make_config(kafka_bootstrap, unique_topic_prefix,
                                   delivery_section(emu, ["webhook"], unique_topic_prefix, **reliability))
        sent = incidents(8, "down")
        async with running(config, kafka_bootstrap):
            await emu.go_down()
            await publish(kafka_bootstrap, config, sent)
            await asyncio.sleep(OUTAGE_SECONDS)  # a real outage: connection refused throughout
            assert emu.accepted["webhook"] == []
            await emu.go_up()
            await emu.wait_for(lambda: len(emu.accepted["webhook"]) >= len(sent), within_seconds=30)
        assert sorted(emu.accepted["webhook"]) == sorted(i.idempotency_key for i in sent)
        notes = await collect(kafka_bootstrap, config.delivery.notifications_topic,
                              lambda r: sum(x["outcome"] == "delivered" for x in r) >= len(sent), 10)
        assert any(n["outcome"] == "attempt_failed" and n["status_code"] is None for n in notes)
        assert not [n for n in notes if n["outcome"] == "dead_lettered"]


async def test_500s_then_success_400_dead_lettered_at_once_429_honours_retry_after(
    kafka_bootstrap: str, unique_topic_prefix: str
) -> None:
    async with EmulatedReceivers() as emu:
        config = await make_config(kafka_bootstrap, unique_topic_prefix,
                                   delivery_section(emu, ["webhook", "slack", "teams"], unique_topic_prefix))
        emu.fail_next("webhook", 3, 500)
        emu.fail_next("slack", 1, 400)
        emu.rate_limit_next("teams", 1, retry_after="2")
        (inc,) = incidents(1, "faults")
        async with running(config, kafka_bootstrap):
            await publish(kafka_bootstrap, config, [inc])
            await emu.wait_for(lambda: emu.accepted["webhook"] and emu.accepted["teams"], within_seconds=15)
            dead = await collect(kafka_bootstrap, config.topics.deadletter, lambda r: len(r) >= 1, 10)
        assert emu.accepted["webhook"] == [inc.idempotency_key]
        assert len(emu.calls("webhook")) == 4
        assert len(emu.calls("slack")) == 1  # 400: not retried
        assert emu.accepted["slack"] == []
        (letter,) = dead
        assert letter["stage"] == "delivery:slack"
        assert letter["reason"] == "delivery_rejected"
        assert "attempts=1" in letter["detail"]
        assert "HTTP 400" in letter["detail"]
        teams = emu.calls("teams")
        assert teams[1].at - teams[0].at >= 1.9  # waited for Retry-After: 2
        notes = await collect(kafka_bootstrap, config.delivery.notifications_topic, lambda r: len(r) >= 9, 10)
        by = [(n["receiver"], n["outcome"], n["status_code"]) for n in notes]
        assert ("slack", "rejected", 400) in by
        assert ("teams", "attempt_failed", 429) in by
        assert ("webhook", "delivered", 200) in by


async def test_hanging_receiver_does_not_delay_others(kafka_bootstrap: str, unique_topic_prefix: str) -> None:
    async with EmulatedReceivers() as emu:
        section = delivery_section(emu, ["webhook", "pagerduty"], unique_topic_prefix, timeout_seconds=10.0,
                                   deadline_seconds=30.0)
        config = await make_config(kafka_bootstrap, unique_topic_prefix, section)
        emu.hang_next("pagerduty", 100, seconds=60)
        sent = incidents(5, "hang")
        async with running(config, kafka_bootstrap):
            await asyncio.sleep(1.0)  # let both groups join
            started = time.monotonic()
            await publish(kafka_bootstrap, config, sent)
            await emu.wait_for(lambda: len(emu.accepted["webhook"]) >= 5, within_seconds=10)
            healthy_seconds = time.monotonic() - started
            assert emu.pagerduty == {}
            assert len(emu.calls("pagerduty")) == 1  # stuck on the first
        print(f"healthy receiver got 5 incidents in {healthy_seconds:.2f}s while the other hung")
        assert healthy_seconds < 5.0


async def test_worker_killed_mid_delivery_restarted_nothing_lost(
    kafka_bootstrap: str, unique_topic_prefix: str, tmp_path: Path
) -> None:
    async with EmulatedReceivers() as emu:
        section = delivery_section(emu, ["webhook"], unique_topic_prefix)
        config = await make_config(kafka_bootstrap, unique_topic_prefix, section)
        path = tmp_path / "deliver.yaml"
        path.write_text(yaml.safe_dump(config.model_dump(by_alias=True)))
        command = [sys.executable, "-m", "aiops", "deliver", "--config", str(path)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIOPS_")}
        sent = incidents(6, "kill")
        emu.hang_next("webhook", 1, seconds=60)  # the first delivery is in flight when we kill
        log = (tmp_path / "first.log").open("wb")
        first = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)  # noqa: ASYNC220
        try:
            await publish(kafka_bootstrap, config, sent)
            await emu.wait_for(lambda: len(emu.calls("webhook")) >= 1, within_seconds=20)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        second = subprocess.Popen(  # noqa: ASYNC220
            command, stdout=(tmp_path / "second.log").open("wb"), stderr=subprocess.STDOUT, env=env)
        try:
            await emu.wait_for(lambda: len(set(emu.accepted["webhook"])) >= len(sent), within_seconds=40)
        finally:
            second.terminate()
            second.wait(20)
        assert sorted(set(emu.accepted["webhook"])) == sorted(i.idempotency_key for i in sent)


T0 = 1_760_000_000.0


def alert(ts: float, status: str) -> bytes:
    return event(kind="alert", ts=ts, source="prometheus", service="payments", host="payments-1",
                 name="HighErrorRate", severity="critical", status=status, fingerprint="HighErrorRate-payments",
                 labels={"env": "prod"})


async def test_end_to_end_routing_pagerduty_and_servicenow(
    kafka_bootstrap: str, unique_topic_prefix: str, tmp_path: Path
) -> None:
    async with EmulatedReceivers() as emu:
        section = delivery_section(emu, ["webhook", "pagerduty", "servicenow", "slack"], unique_topic_prefix)
        section["default_receivers"] = ["webhook"]
        section["routes"] = [
            {"name": "payments", "match_services": ["payments"], "receivers": ["pagerduty", "servicenow"],
             "routes": [{"name": "prod", "match_labels": {"env": "~prod.*"}}]},
            {"name": "never", "match_services": ["nothing"], "receivers": ["slack"]},
        ]
        data = isolated_config(unique_topic_prefix, kafka_bootstrap, {"delivery": section})
        config = AiopsConfig.model_validate(data)
        topics = [TopicSpec(config.topics.events, 2), TopicSpec(config.topics.deadletter, 1)]
        await ensure_topics(kafka_bootstrap, topics)
        worker = WorkerProcess(data, tmp_path)  # detection + correlation; delivery runs here, apart
        worker.start()
        try:
            await produce(kafka_bootstrap, config.topics.events, [alert(T0, "firing")], key=b"payments")
            await collect(kafka_bootstrap, config.topics.incidents, lambda r: len(r) >= 1, 90)
            async with running(config, kafka_bootstrap):
                await produce(kafka_bootstrap, config.topics.events, [alert(T0 + 60, "resolved")], key=b"payments")
                await emu.wait_for(lambda: any("resolve" in a for a in emu.pagerduty.values())
                                   and any(r.get("state") == "6" for r in emu.servicenow.values()),
                                   within_seconds=60)
        finally:
            worker.stop()
        (dedup_key, actions), = emu.pagerduty.items()
        assert actions[0] == "trigger"
        assert actions[-1] == "resolve"
        assert dedup_key.startswith("inc-")
        (record,) = emu.servicenow.values()
        assert record["correlation_id"] == dedup_key
        assert [c.method for c in emu.calls("servicenow")].count("POST") == 1
        assert emu.calls("webhook") == []  # routed away from the default receiver
        assert emu.calls("slack") == []
