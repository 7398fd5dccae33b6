"""The incident read routes, Alertmanager's alert routes and the live stream, over a real SQLite store and
aiohttp's test server (no broker): filters, cursor pages, problem details (400/404/503), the detail's
timeline, gettableAlerts/alertGroups with silences and inhibitions, the stream's events, heartbeats, a slow
client dropped, and the end event at stop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from support.store_samples import BASE, decision, incident, notification_of

from aiops.config import AiopsConfig
from aiops.correlation.suppression.matchers import Matcher
from aiops.correlation.suppression.rules import Silence
from aiops.incidents import Incident, Member
from aiops.operator.audit import MemoryAuditSink
from aiops.operator.auth import Credential, TokenTable
from aiops.operator.openapi import LIST_PARAMETERS, openapi_document
from aiops.runtime.api_alerts import AlertRoutes
from aiops.runtime.api_auth import Gate
from aiops.runtime.api_incidents import IncidentRoutes
from aiops.runtime.api_silences import LiveSilences
from aiops.runtime.api_stream import IncidentFeed, StreamRoute
from aiops.store.listing import KNOWN
from aiops.store.models import IncidentDetail, IncidentPage, IncidentRecord, ProjectionBatch
from aiops.store.sql import SqlIncidentStore

NOW = BASE + timedelta(hours=1)
VIEWER = {"Authorization": "Bearer viewer-secret"}


def _gate() -> Gate:
    return Gate(TokenTable([Credential("ro", b"viewer-secret", "viewer")], None), MemoryAuditSink(), lambda: NOW)


def _client(store: SqlIncidentStore | None, config: AiopsConfig | None = None, silences: Sequence[Silence] = (),
            feed: IncidentFeed | None = None) -> TestClient:
    config = config or AiopsConfig.model_validate({"delivery": {
        "default_receivers": ["pager"], "receivers": {"webhook": {"pager": {"url": "http://127.0.0.1:9/hook"}}}}})
    gate = _gate()
    live = LiveSilences("127.0.0.1:1", "silences", client_id="t", request_timeout_ms=1000, ack_seconds=1)
    for offset, silence in enumerate(silences):
        live.view.apply(silence.id.encode(), silence.model_dump_json().encode(), offset, NOW.timestamp() * 1000)
    app = web.Application()
    IncidentRoutes(store, gate, 3.0).install(app)
    AlertRoutes(config, store, live, gate, lambda: NOW, 3.0).install(app)
    app.router.add_get("/api/v1/stream", gate.guard("read", "v1", StreamRoute(feed or IncidentFeed(), 0.2).stream))
    return TestClient(TestServer(app))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlIncidentStore]:
    opened = SqlIncidentStore(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}", retention_days=3650)
    await opened.open()
    versions = [incident(1, 1), incident(1, 2, status="updated", owner="bob"), incident(2, 1, priority="P1"),
                incident(3, 1, services=("db",), status="resolved"),
                incident(4, 1, services=("search",), title="Disk full on search")]
    await opened.project(ProjectionBatch(incidents=[IncidentRecord(v, BASE) for v in versions],
                                         decisions=[decision(versions[0])],
                                         notifications=[notification_of(versions[1])]))
    try:
        yield opened
    finally:
        await opened.close()


async def _get(client: TestClient, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    response = await client.get(path, headers=VIEWER if headers is None else headers)
    return response.status, await response.json(content_type=None)


async def test_list_filters_and_cursor_pages(store: SqlIncidentStore) -> None:
    async with _client(store) as client:
        status, page = await _get(client, "/api/v1/incidents")
        assert status == 200
        assert [item["id"] for item in page["items"]] == ["inc-4", "inc-3", "inc-2", "inc-1"]
        assert page["next_cursor"] is None
        assert (await _get(client, "/api/v1/incidents?status=open,updated&priority=P2"))[1]["items"][0]["id"] == "inc-4"
        ids = [i["id"] for i in (await _get(client, "/api/v1/incidents?status=open&status=updated"))[1]["items"]]
        assert ids == ["inc-4", "inc-2", "inc-1"]
        assert [i["id"] for i in (await _get(client, "/api/v1/incidents?service=db"))[1]["items"]] == ["inc-3"]
        assert [i["id"] for i in (await _get(client, "/api/v1/incidents?q=DISK"))[1]["items"]] == ["inc-4"]
        assert [i["id"] for i in (await _get(client, "/api/v1/incidents?owner=bob"))[1]["items"]] == ["inc-1"]
        window = "since=2026-03-01T00:02:00Z&until=2026-03-01T00:03:30%2B00:00"
        assert [i["id"] for i in (await _get(client, f"/api/v1/incidents?{window}"))[1]["items"]] == ["inc-3", "inc-2"]
        seen, cursor = [], ""
        while True:
            status, page = await _get(client, f"/api/v1/incidents?limit=3{cursor}")
            seen += [item["id"] for item in page["items"]]
            if page["next_cursor"] is None:
                break
            cursor = f"&cursor={page['next_cursor']}"
        assert seen == ["inc-4", "inc-3", "inc-2", "inc-1"]


@pytest.mark.parametrize(("query", "words"), [
    ("status=closed", "status: 'closed' is not one of open, updated, resolved"),
    ("limit=0", "limit: must be 1..500"), ("limit=x", "limit: 'x' is not a whole number"),
    ("since=yesterday", "since: 'yesterday' is not an RFC 3339 time"), ("since=2026-03-01T00:00:00", "needs an offset"),
    ("cursor=bm9wZQ", "invalid cursor"), ("colour=red", "unknown parameter colour"),
    ("since=2026-03-02T00:00:00Z&until=2026-03-01T00:00:00Z", "since is after until"),
])
async def test_bad_filters_and_cursors_are_400_problems(store: SqlIncidentStore, query: str, words: str) -> None:
    async with _client(store) as client:
        response = await client.get(f"/api/v1/incidents?{query}", headers=VIEWER)
        body = await response.json(content_type=None)
        assert (response.status, response.content_type) == (400, "application/problem+json")
        assert body["type"] == "urn:aiops:problem:bad-request"
        assert words in body["detail"]


async def test_one_incident_with_its_timeline_and_one_version(store: SqlIncidentStore) -> None:
    async with _client(store) as client:
        status, detail = await _get(client, "/api/v1/incidents/inc-1")
        assert status == 200
        assert (detail["incident"]["version"], detail["incident"]["context"]["owner"]) == (2, "bob")
        assert [entry["version"] for entry in detail["timeline"]] == [1, 2]
        assert (len(detail["decisions"]), len(detail["notifications"])) == (1, 1)
        assert len(detail["incident"]["members"]) == 2
        status, first = await _get(client, "/api/v1/incidents/inc-1/versions/1")
        assert (status, first["version"], first["status"]) == (200, 1, "open")
        for path, code in (("/api/v1/incidents/nope", 404), ("/api/v1/incidents/inc-1/versions/9", 404),
                           ("/api/v1/incidents/inc-1/versions/x", 400)):
            status, body = await _get(client, path)
            assert (status, body["status"]) == (code, code)
        assert (await _get(client, "/api/v1/incidents", headers={}))[0] == 401


async def test_without_a_store_or_before_it_opens_the_routes_answer_503(tmp_path: Path) -> None:
    async with _client(None) as client:
        status, body = await _get(client, "/api/v1/incidents")
        assert (status, body["type"]) == (503, "urn:aiops:problem:store-unavailable")
    unopened = SqlIncidentStore(f"sqlite+aiosqlite:///{tmp_path / 'later.db'}")
    async with _client(unopened) as client:
        response = await client.get("/api/v1/incidents/inc-1", headers=VIEWER)
        assert (response.status, response.headers["Retry-After"]) == (503, "3")


async def test_alerts_are_the_firing_members_of_open_incidents(store: SqlIncidentStore) -> None:
    silence = Silence(id="s-1", matchers=[Matcher.parse('service="payments"')], starts_at=BASE,
                      ends_at=NOW + timedelta(hours=1), author="me", comment="c", created_at=BASE)
    async with _client(store, silences=[silence]) as client:
        status, alerts = await _get(client, "/api/v2/alerts")
        assert status == 200
        assert sorted(a["fingerprint"] for a in alerts) == ["fp-1-checkout", "fp-1-payments", "fp-2-checkout",
                                                            "fp-2-payments", "fp-4-search"]
        first = next(a for a in alerts if a["fingerprint"] == "fp-1-checkout")
        assert first["labels"] == {"alertname": "HighLatency", "service": "checkout", "severity": "critical",
                                   "incident": "inc-1"}
        assert first["receivers"] == [{"name": "pager"}]
        assert first["status"] == {"state": "active", "silencedBy": [], "inhibitedBy": []}
        assert first["startsAt"].endswith("Z")
        assert first["generatorURL"].endswith("/api/v1/incidents/inc-1")
        muted = next(a for a in alerts if a["fingerprint"] == "fp-1-payments")
        assert muted["status"] == {"state": "suppressed", "silencedBy": ["s-1"], "inhibitedBy": []}
        unmuted = await _get(client, "/api/v2/alerts?active=true&silenced=false&inhibited=false&unprocessed=false")
        assert "fp-1-payments" not in [a["fingerprint"] for a in unmuted[1]]
        filtered = await _get(client, '/api/v2/alerts?filter=service%3D"search"&filter=alertname%3D~"High.*"')
        assert [a["fingerprint"] for a in filtered[1]] == ["fp-4-search"]
        assert (await _get(client, "/api/v2/alerts?receiver=other"))[1] == []
        status, groups = await _get(client, "/api/v2/alerts/groups?silenced=false")
        assert [(g["labels"]["incident"], g["receiver"]["name"], len(g["alerts"])) for g in groups] == [
            ("inc-4", "pager", 1), ("inc-2", "pager", 1), ("inc-1", "pager", 1)]
        assert groups[0]["labels"] == {"incident": "inc-4", "priority": "P2", "service": "search"}
        response = await client.get("/api/v2/alerts?filter=service%3D~%22(%22", headers=VIEWER)
        assert response.status == 400
        assert isinstance(await response.json(), str), "Alertmanager's error form: a JSON string"


async def test_inhibited_members_name_the_inhibiting_fingerprint(store: SqlIncidentStore) -> None:
    config = AiopsConfig.model_validate({"suppression": {"inhibitions": [{
        "source_matchers": ['service="search"'], "target_matchers": ['service="checkout"']}]}})
    async with _client(store, config) as client:
        alerts = (await _get(client, "/api/v2/alerts"))[1]
        by_fp = {a["fingerprint"]: a["status"] for a in alerts}
        assert by_fp["fp-1-checkout"] == {"state": "suppressed", "silencedBy": [], "inhibitedBy": ["fp-4-search"]}
        assert by_fp["fp-4-search"]["state"] == "active"
        assert all(a["receivers"] == [] for a in alerts), "no receiver configured"


async def _subscribed(feed: IncidentFeed) -> None:
    async with asyncio.timeout(5):
        while not feed.subscribers:  # noqa: ASYNC110 - the feed has no event to wait on; a test-only poll
            await asyncio.sleep(0.01)


def _version(n: int, version: int) -> Incident:
    return incident(n, version, status="updated" if version > 1 else "open")


async def _read_events(response: Any, count: int) -> list[tuple[str, str, str]]:
    """(event, id, data) of the next `count` events; comments are skipped."""
    events: list[tuple[str, str, str]] = []
    fields: dict[str, str] = {}
    while len(events) < count:
        line = (await asyncio.wait_for(response.content.readline(), 5)).decode().rstrip("\n")
        if not line:
            if fields:
                events.append((fields.get("event", ""), fields.get("id", ""), fields.get("data", "")))
            fields = {}
        elif not line.startswith(":") and ":" in line:
            name, value = line.split(":", 1)
            fields[name] = value.strip()
    return events


async def test_the_stream_sends_each_version_heartbeats_and_ends_at_stop() -> None:
    feed = IncidentFeed(queue_events=10)
    async with _client(None, feed=feed) as client:
        response = await client.get("/api/v1/stream", headers=VIEWER)
        assert (response.status, response.content_type) == (200, "text/event-stream")
        assert (await response.content.readline()).startswith(b"retry:")
        await _subscribed(feed)
        feed.publish([_version(1, 2), _version(1, 1), _version(1, 1), _version(2, 1)])
        events = await _read_events(response, 3)
        assert [(e, i) for e, i, _ in events] == [("incident", "inc-1:1"), ("incident", "inc-2:1"),
                                                  ("incident", "inc-1:2")]
        assert '"status":"updated"' in events[2][2]
        beat = b""
        while not beat.startswith(b": heartbeat"):
            beat = await asyncio.wait_for(response.content.readline(), 2)
        feed.close()
        assert (await _read_events(response, 1))[0][0] == "end"
        assert feed.subscribers == 0


async def test_a_client_too_far_behind_is_dropped_with_a_final_event() -> None:
    feed = IncidentFeed(queue_events=3)
    subscription = feed.subscribe()
    feed.publish([_version(n, 1) for n in range(1, 6)])
    assert feed.subscribers == 0
    final = subscription.queue.get_nowait()
    assert getattr(final, "event", "") == "dropped"
    assert subscription.queue.empty()
    kept = feed.subscribe()
    feed.publish([_version(9, 1)])
    assert kept.queue.qsize() == 1


def test_summary_members_count_what_the_version_left_out() -> None:
    member = Member(fingerprint="f", origin="alert", name="n", service="s", status="firing", severity="critical",
                    first_seen=BASE, last_seen=BASE)
    one = incident(1).model_copy(update={"members": [member], "members_truncated": 4})
    feed = IncidentFeed()
    subscription = feed.subscribe()
    feed.publish([one])
    summary = subscription.queue.get_nowait()
    assert getattr(summary, "members", None) == 5


def test_the_openapi_document_describes_every_list_parameter() -> None:
    assert set(LIST_PARAMETERS) == set(KNOWN)
    document = openapi_document("1", (IncidentPage, IncidentDetail))
    assert {"IncidentPage", "IncidentDetail", "Incident"} <= set(document["components"]["schemas"])
    assert {"/api/v1/incidents", "/api/v1/incidents/{id}", "/api/v1/stream"} <= set(document["paths"])
