"""`StageHealth`: every stage's status in one verdict, the failing stages named in `/healthz` (503) and the
``aiops_stage_healthy`` / ``aiops_stage_lag_records`` gauges computed at scrape time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp
import pytest
from prometheus_client import CollectorRegistry

from aiops.metrics import AiopsMetrics
from aiops.runtime.health import StageHealth
from aiops.runtime.http_server import HttpEndpoint
from aiops.runtime.progress import ConsumerProgress


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def idle(partitions: list[int]) -> ConsumerProgress:
    progress = ConsumerProgress(stall_seconds=10)
    progress.assigned(partitions)
    progress.observe_ends(dict.fromkeys(partitions, 0), now=0)
    return progress


def stages() -> tuple[dict[str, ConsumerProgress], StageHealth, CollectorRegistry, Clock]:
    registry, clock = CollectorRegistry(), Clock()
    sources = {"detection": idle([0, 1, 2, 3]), "correlation": idle([0, 1]), "delivery:ops": idle([0, 1]),
               "delivery:pager": idle([0, 1])}
    health = StageHealth(AiopsMetrics(registry), clock=clock, details=lambda: {"bootstrap": "b:9092"})
    for name, source in sources.items():
        health.add(name, source)
    return sources, health, registry, clock


def gauge(registry: CollectorRegistry, name: str, stage: str) -> float | None:
    return registry.get_sample_value(f"aiops_{name}", {"stage": stage})


def test_an_idle_service_stays_healthy() -> None:
    _, health, registry, clock = stages()
    clock.now = 3600.0
    report = health()
    assert report["ok"] is True
    assert report["failing"] == []
    assert report["bootstrap"] == "b:9092"
    assert set(report["stages"]) == {"detection", "correlation", "delivery:ops", "delivery:pager"}
    assert all(status["ok"] and status["lag"] == 0 for status in report["stages"].values())
    assert gauge(registry, "stage_healthy", "delivery:ops") == 1.0


def test_a_stage_with_work_and_no_progress_fails_and_is_named() -> None:
    sources, health, registry, clock = stages()
    sources["delivery:pager"].observe_ends({0: 4, 1: 0}, now=5)  # 4 incidents wait, nothing delivered
    sources["correlation"].observe_ends({0: 7, 1: 0}, now=5)
    sources["correlation"].processed(0, 6)  # correlation keeps up
    clock.now = 14.9
    assert health()["ok"] is True
    clock.now = 15.0
    report = health()
    assert report["ok"] is False
    assert report["failing"] == ["delivery:pager"]
    pager = report["stages"]["delivery:pager"]
    assert pager["stalled_partitions"] == [0]
    assert pager["lag"] == 4
    assert pager["lag_records"] == {0: 4, 1: 0}
    assert gauge(registry, "stage_healthy", "delivery:pager") == 0.0
    assert gauge(registry, "stage_healthy", "delivery:ops") == 1.0
    assert gauge(registry, "stage_lag_records", "delivery:pager") == 4.0


class Broken:
    def status(self, now: float) -> Mapping[str, Any]:
        raise RuntimeError("boom")


def test_a_source_that_raises_is_a_failing_stage_and_names_are_unique() -> None:
    health = StageHealth(clock=lambda: 0.0)
    health.add("detection", idle([0]))
    health.add("correlation", Broken())
    report = health()
    assert report["ok"] is False
    assert report["failing"] == ["correlation"]
    assert report["stages"]["correlation"]["error"] == "status raised RuntimeError"
    with pytest.raises(ValueError, match="already watched"):
        health.add("detection", idle([0]))


@pytest.mark.parametrize("stalled", [False, True], ids=["idle", "delivery-stalled"])
async def test_healthz_answers_503_naming_the_failing_stage(stalled: bool) -> None:
    sources, health, registry, clock = stages()
    if stalled:
        sources["delivery:ops"].observe_ends({0: 1, 1: 0}, now=1)
    clock.now = 100.0
    async with HttpEndpoint("127.0.0.1", 0, registry, health) as endpoint, aiohttp.ClientSession() as session:
        async with session.get(f"{endpoint.url}/healthz") as response:
            status, body = response.status, await response.json()
        async with session.get(f"{endpoint.url}/metrics") as response:
            metrics = await response.text()
    if stalled:
        assert status == 503
        assert body["failing"] == ["delivery:ops"]
        assert body["stages"]["delivery:ops"]["lag"] == 1
        assert 'aiops_stage_healthy{stage="delivery:ops"} 0.0' in metrics
    else:
        assert status == 200
        assert body["failing"] == []
        assert 'aiops_stage_healthy{stage="delivery:ops"} 1.0' in metrics
