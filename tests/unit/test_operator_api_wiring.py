"""The operator API runner's wiring without a broker: built with no event loop (the service builds runners
before `asyncio.run`), unresolvable tokens named at start-up, routes that do not collide with HTTP ingest's,
and /api/v2/status served by exactly one of them."""

from __future__ import annotations

import threading

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from aiops.config import AiopsConfig
from aiops.errors import ConfigError
from aiops.metrics import AiopsMetrics
from aiops.operator.audit import MemoryAuditSink
from aiops.runtime.api_http import OperatorApi
from aiops.runtime.ingest_http import IngestFront


def test_the_operator_api_is_built_without_an_event_loop() -> None:
    errors: list[BaseException] = []
    built: list[OperatorApi] = []

    def build() -> None:
        try:
            built.append(OperatorApi(AiopsConfig(), "127.0.0.1:1"))
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=build)
    thread.start()
    thread.join(10)
    assert errors == []
    assert built[0].gate.tokens.anonymous == "admin", "no tokens on the loopback default listener"


def test_an_unresolvable_token_names_its_key() -> None:
    config = AiopsConfig.model_validate({"api": {"tokens": {"bot": {"token": "${ENV:NOT_SET_HERE}",
                                                                    "role": "viewer"}}}})
    with pytest.raises(ConfigError, match=r"api\.tokens\.bot\.token: environment variable NOT_SET_HERE"):
        OperatorApi(config, "127.0.0.1:1", environ={})


def test_no_tokens_on_a_public_listener_means_reads_only() -> None:
    config = AiopsConfig.model_validate({"http": {"host": "0.0.0.0"}})
    assert OperatorApi(config, "127.0.0.1:1").gate.tokens.anonymous == "viewer"


@pytest.mark.parametrize("ingest", [True, False])
def test_routes_install_beside_ingest_and_status_is_served_once(ingest: bool) -> None:
    config = AiopsConfig.model_validate({"ingest": {"http": {"enabled": ingest}}})
    app = web.Application()
    if ingest:
        IngestFront(config, "127.0.0.1:1", AiopsMetrics(CollectorRegistry())).install(app)
    OperatorApi(config, "127.0.0.1:1").install(app)  # aiohttp raises on a duplicate method + path
    routes = [(route.method, route.resource.canonical) for route in app.router.routes() if route.resource]
    assert routes.count(("GET", "/api/v2/status")) == 1
    assert ("POST", "/api/v1/incidents/{id}/actions") in routes
    assert ("DELETE", "/api/v2/silence/{id}") in routes
    assert routes.count(("GET", "/api/v2/alerts")) == 1
    assert routes.count(("POST", "/api/v2/alerts")) == (1 if ingest else 0)


async def test_get_and_post_on_api_v2_alerts_reach_the_api_and_ingest() -> None:
    config = AiopsConfig()
    app = web.Application()
    IngestFront(config, "127.0.0.1:1", AiopsMetrics(CollectorRegistry())).install(app)
    OperatorApi(config, "127.0.0.1:1").install(app)
    async with TestClient(TestServer(app)) as client:
        read = await client.get("/api/v2/alerts")  # the API's gate: not started yet, Alertmanager's error form
        assert (read.status, await read.json()) == (503, "starting or stopping")
        posted = await client.post("/api/v2/alerts", data=b"[]")  # HTTP ingest's handler, not a 405
        assert posted.status not in (404, 405)
        assert (await client.get("/api/v2/alerts/groups")).status == 503


async def test_requests_before_start_are_answered_503_with_retry_after() -> None:
    audit = MemoryAuditSink()
    api = OperatorApi(AiopsConfig.model_validate({"api": {"retry_after_seconds": 7}}), "127.0.0.1:1", audit=audit)
    app = web.Application()
    api.install(app)
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/api/v1/silences")
        assert (response.status, response.headers["Retry-After"]) == (503, "7")
        assert (await response.json(content_type=None))["detail"] == "starting or stopping"
        response = await client.post("/api/v2/silences", data=b"{}")
        assert response.status == 503
        assert (await client.get("/api/v1/openapi.json")).status == 200
    assert [entry.outcome for entry in audit.entries] == ["unavailable"]
