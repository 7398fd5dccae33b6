"""HttpEndpoint: /metrics in Prometheus text format from the injected registry, /healthz 200/503."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from aiops.metrics import AiopsMetrics
from aiops.runtime.http_server import HttpEndpoint


async def test_metrics_and_health_on_free_port() -> None:
    registry = CollectorRegistry()
    metrics = AiopsMetrics(registry)
    metrics.events_consumed_total.labels(topic="aiops.events").inc(3)
    metrics.record_delivery("ops", "delivered", attempts=2, elapsed_seconds=0.4)
    now = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    metrics.observe_event_lag(now - timedelta(seconds=2.5), now)
    endpoint = HttpEndpoint("127.0.0.1", 0, registry, lambda: {"ok": True, "broker": "up"})
    async with endpoint, aiohttp.ClientSession() as session:
        assert endpoint.port > 0
        async with session.get(f"{endpoint.url}/metrics") as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain")
            text = await response.text()
        async with session.get(f"{endpoint.url}/healthz") as response:
            assert response.status == 200
            assert await response.json() == {"ok": True, "broker": "up"}
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("aiops_events_consumed_total", (("topic", "aiops.events"),))] == 3
    assert samples[("aiops_webhook_deliveries_total", (("outcome", "delivered"), ("sink", "ops")))] == 1
    assert samples[("aiops_webhook_delivery_attempts_total", (("sink", "ops"),))] == 2
    assert samples[("aiops_event_lag_seconds", ())] == 2.5


@pytest.mark.parametrize(
    "report", [{"ok": False, "reason": "broker down"}, {}], ids=["not-ok", "missing-ok"]
)
async def test_unhealthy_is_503(report: dict[str, Any]) -> None:
    endpoint = HttpEndpoint("127.0.0.1", 0, CollectorRegistry(), lambda: report)
    async with endpoint, aiohttp.ClientSession() as session:
        response = await session.get(f"{endpoint.url}/healthz")
        assert response.status == 503
        assert await response.json() == report


async def test_raising_health_check_is_503() -> None:
    def broken() -> dict[str, Any]:
        raise RuntimeError("boom")

    endpoint = HttpEndpoint("127.0.0.1", 0, CollectorRegistry(), broken)
    async with endpoint, aiohttp.ClientSession() as session:
        response = await session.get(f"{endpoint.url}/healthz")
        assert response.status == 503
        body = await response.json()
    assert body["ok"] is False


async def test_stop_frees_port_and_unknown_paths_404() -> None:
    endpoint = HttpEndpoint("127.0.0.1", 0, CollectorRegistry(), lambda: {"ok": True})
    await endpoint.start()
    url = endpoint.url
    try:
        async with aiohttp.ClientSession() as session, session.get(f"{url}/nope") as response:
            assert response.status == 404
    finally:
        await endpoint.stop()
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.get(f"{url}/healthz")
    with pytest.raises(RuntimeError):
        _ = endpoint.port


def test_metrics_use_an_isolated_registry() -> None:
    AiopsMetrics(CollectorRegistry())
    AiopsMetrics(CollectorRegistry())  # a second registry must not collide
