"""The operator API's answers to the review of issue 13, over aiohttp's test server and no broker (the actions
writer is a recording stand-in): catastrophic regexes refused at every entry point; cross-site requests
(a body not typed JSON, a foreign Origin, a rebound Host name without tokens) refused; 413 for a large body;
aiohttp's own answers passed through the gate; version numbers out of range 400/404; stream clients
bounded; Idempotency-Key gives a retried action its id again; a merge across scopes 409; an incident's
lists cut to their latest items, with counts."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from support.store_samples import BASE, decision, incident, notification_of

from aiops.config import AiopsConfig
from aiops.operator.auth import Principal
from aiops.runtime.api_auth import Answer
from aiops.runtime.api_http import OperatorApi, ScopeLookup
from aiops.runtime.api_incidents import DEFAULT_DETAIL_ITEMS
from aiops.store.models import IncidentRecord, ProjectionBatch
from aiops.store.protocol import IncidentStore
from aiops.store.sql import SqlIncidentStore

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
JSON = {"Content-Type": "application/json"}
BEARER = {"Authorization": "Bearer s3cret"}


class RecordingWriter:
    """Stands in for the actions topic's writer: keeps what would have been published."""

    def __init__(self) -> None:
        self.records: list[tuple[bytes, bytes]] = []

    async def write(self, records: Sequence[tuple[bytes, bytes]]) -> None:
        self.records.extend(records)


def _api(config: AiopsConfig | None = None, *, store: IncidentStore | None = None,
         scope_of: ScopeLookup | None = None) -> tuple[OperatorApi, RecordingWriter]:
    api = OperatorApi(config or AiopsConfig(), "127.0.0.1:1", store=store, scope_of=scope_of, wall=lambda: NOW)
    writer = RecordingWriter()
    api.actions = writer  # type: ignore[assignment]
    api._ready = True  # started: the silences view is empty, nothing is read from a broker
    return api, writer


def _client(api: OperatorApi) -> TestClient:
    app = web.Application()
    api.install(app)
    return TestClient(TestServer(app))


async def _answer(response: Any) -> tuple[int, Any]:
    return response.status, await response.json(content_type=None)


async def test_catastrophic_regexes_are_refused_at_every_api_entry_point() -> None:
    api, _ = _api()
    async with _client(api) as client:
        for path in ('/api/v2/alerts?filter=instance%3D~"(.*)*x"', "/api/v2/alerts?receiver=(a%2B)%2B",
                     "/api/v2/alerts/groups?filter=instance%3D~%22(a%7Cab)*%22",
                     '/api/v2/silences?filter=instance%3D~"(.*)*x"'):
            status, body = await _answer(await client.get(path))
            assert status == 400, path
            assert isinstance(body, str)
            assert "refused" in body
        v1 = {"matchers": ['instance=~"(.*)*x"'], "comment": "c", "duration_seconds": 60}
        status, problem = await _answer(await client.post("/api/v1/silences", json=v1))
        assert (status, problem["errors"][0]["field"]) == (422, "matchers")
        assert "nested quantifiers" in problem["detail"]
        v2 = {"matchers": [{"name": "instance", "value": "(.*)*x", "isRegex": True}],
              "startsAt": "2026-03-01T12:00:00Z", "endsAt": "2026-03-01T14:00:00Z", "createdBy": "me", "comment": "c"}
        status, message = await _answer(await client.post("/api/v2/silences", json=v2))
        assert status == 400
        assert "nested quantifiers" in message
        assert (await client.get('/api/v2/silences?filter=instance%3D~"prod-.*"')).status == 200


async def test_a_body_that_is_not_json_typed_is_415_and_a_foreign_origin_403() -> None:
    api, _ = _api()
    silence = {"matchers": ["service=checkout"], "comment": "c", "duration_seconds": 60}
    async with _client(api) as client:
        for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
            response = await client.post("/api/v1/silences", data=orjson.dumps(silence),
                                         headers={"Content-Type": content_type})
            status, problem = await _answer(response)
            assert (status, problem["type"]) == (415, "urn:aiops:problem:unsupported-media-type"), content_type
        status, message = await _answer(await client.post("/api/v2/silences", data=b"{}"))
        assert (status, isinstance(message, str)) == (415, True)
        own = f"http://127.0.0.1:{client.port}"
        for origin in ("http://evil.example", "null", f"http://127.0.0.1:{client.port + 1}", "http://localhost"):
            response = await client.post("/api/v1/silences", json=silence, headers={"Origin": origin})
            status, problem = await _answer(response)
            assert (status, problem["type"]) == (403, "urn:aiops:problem:forbidden"), origin
            assert "cross-origin" in problem["detail"]
        assert (await client.get("/api/v1/silences", headers={"Origin": "http://evil.example"})).status == 403
        assert (await client.get("/api/v1/silences", headers={"Origin": own})).status == 200
        status, _ = await _answer(await client.post("/api/v1/silences", json=silence, headers={"Origin": own}))
        assert status == 503, "past the gate: the (absent) broker does not acknowledge"
        assert (await client.delete("/api/v2/silence/nope")).status == 404, "a DELETE has no body to type"
    outcomes = [(entry.status, entry.outcome) for entry in api.audit.entries]  # type: ignore[attr-defined]
    assert outcomes[:4] == [(415, "invalid")] * 4
    assert (403, "forbidden") in outcomes


async def test_without_tokens_a_request_for_another_host_name_is_refused() -> None:
    api, _ = _api()
    async with _client(api) as client:
        for host in ("127.0.0.1", f"localhost:{client.port}", f"[::1]:{client.port}", "127.0.0.2:80"):
            assert (await client.get("/api/v1/silences", headers={"Host": host})).status == 200, host
        for host in (f"attacker.example:{client.port}", "10.0.0.5", "::1"):
            status, problem = await _answer(await client.get("/api/v1/silences", headers={"Host": host}))
            assert (status, problem["type"]) == (403, "urn:aiops:problem:forbidden"), host
            assert "loopback" in problem["detail"]
    tokens = AiopsConfig.model_validate({"api": {"tokens": {"ro": {"token": "s3cret", "role": "viewer"}}}})
    api, _ = _api(tokens)
    async with _client(api) as client:
        response = await client.get("/api/v1/silences", headers={"Host": "aiops.example", **BEARER})
        assert response.status == 200, "with tokens the token decides, whatever the name"


async def test_an_oversized_body_is_413_and_aiohttp_answers_pass_through_the_gate() -> None:
    api, _ = _api()
    async with _client(api) as client:
        big = b'{"comment": "' + b"x" * (2 * 1024 * 1024) + b'"}'
        status, problem = await _answer(await client.post("/api/v1/silences", data=big, headers=JSON))
        assert (status, problem["type"]) == (413, "urn:aiops:problem:payload-too-large")
        status, message = await _answer(await client.post("/api/v2/silences", data=big, headers=JSON))
        assert (status, isinstance(message, str)) == (413, True)

    async def conflict(request: web.Request, principal: Principal) -> Answer:
        raise web.HTTPConflict(text="busy")

    app = web.Application()
    app.router.add_post("/x", api.gate.guard("act", "v1", conflict))
    async with TestClient(TestServer(app)) as client:
        response = await client.post("/x", json={})
        assert (response.status, await response.text()) == (409, "busy")
    assert api.audit.entries[-1].status == 409  # type: ignore[attr-defined]


async def test_version_numbers_out_of_range_are_400_or_404_not_500(tmp_path: Path) -> None:
    store = SqlIncidentStore(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}", retention_days=3650)
    await store.open()
    try:
        await store.project(ProjectionBatch(incidents=[IncidentRecord(incident(1, 1), BASE)]))
        api, _ = _api(store=store)
        async with _client(api) as client:
            for version, code in (("1", 200), ("01", 200), ("2", 404), ("²", 400), ("0", 400), ("000", 400),
                                  ("-1", 400), ("1.0", 400), ("99999999999999999999999", 404),
                                  ("9" * 5000, 404), ("999999999", 404)):
                response = await client.get(f"/api/v1/incidents/inc-1/versions/{version}")
                assert response.status == code, version
    finally:
        await store.close()


async def test_stream_clients_over_the_limit_are_503_with_retry_after() -> None:
    config = AiopsConfig.model_validate({"api": {"stream_max_clients": 2, "retry_after_seconds": 4}})
    api, _ = _api(config)
    async with _client(api) as client:
        first = await client.get("/api/v1/stream")
        second = await client.get("/api/v1/stream")
        assert (first.status, second.status, api.feed.subscribers) == (200, 200, 2)
        refused = await client.get("/api/v1/stream")
        assert (refused.status, refused.headers["Retry-After"]) == (503, "4")
        assert "api.stream_max_clients" in (await refused.json(content_type=None))["detail"]
        first.close()
        async with asyncio.timeout(5):
            while api.feed.subscribers > 1:  # noqa: ASYNC110 - the server notices the closed connection
                await asyncio.sleep(0.01)
        third = await client.get("/api/v1/stream")
        assert third.status == 200
        second.close()
        third.close()


def _scopes(known: dict[str, str]) -> ScopeLookup:
    return known.get


async def test_a_retry_with_the_same_idempotency_key_makes_the_same_action_id() -> None:
    api, writer = _api(scope_of=_scopes({"inc-1": "default", "inc-2": "default"}))
    ack = {"kind": "acknowledge", "comment": "on it"}
    async with _client(api) as client:
        ids = []
        for incident_id, key in (("inc-1", "k-1"), ("inc-1", "k-1"), ("inc-1", "k-2"), ("inc-2", "k-1"),
                                 ("inc-1", None), ("inc-1", None)):
            headers = {"Idempotency-Key": key} if key else {}
            status, accepted = await _answer(await client.post(f"/api/v1/incidents/{incident_id}/actions",
                                                               json=ack, headers=headers))
            assert status == 202
            ids.append(accepted["id"])
        assert ids[0] == ids[1], "a retry with the same key: the same action id"
        assert len(set(ids)) == 5, "another key, another incident or no key: another id"
        assert len(ids[0]) == 32
        assert [orjson.loads(value)["id"] for _, value in writer.records] == ids
        status, problem = await _answer(await client.post("/api/v1/incidents/inc-1/actions", json=ack,
                                                          headers={"Idempotency-Key": "k" * 129}))
        assert (status, problem["type"]) == (400, "urn:aiops:problem:bad-request")
        assert "Idempotency-Key" in problem["detail"]


async def test_a_merge_across_scopes_is_409_and_nothing_is_published() -> None:
    api, writer = _api(scope_of=_scopes({"inc-1": "eu", "inc-2": "us", "inc-3": "eu"}))
    async with _client(api) as client:
        status, problem = await _answer(await client.post("/api/v1/incidents/inc-1/actions",
                                                          json={"kind": "merge", "into": "inc-2"}))
        assert (status, problem["type"]) == (409, "urn:aiops:problem:conflict")
        assert "scope 'eu'" in problem["detail"]
        assert "scope 'us'" in problem["detail"]
        assert writer.records == []
        status, _ = await _answer(await client.post("/api/v1/incidents/inc-1/actions",
                                                    json={"kind": "merge", "into": "inc-3"}))
        assert status == 202
        status, _ = await _answer(await client.post("/api/v1/incidents/inc-1/actions",
                                                    json={"kind": "merge", "into": "inc-9"}))
        assert status == 422
    outcomes = [entry.outcome for entry in api.audit.entries]  # type: ignore[attr-defined]
    assert outcomes == ["conflict", "accepted", "invalid"]


async def test_the_detail_answers_the_latest_items_of_each_list_with_counts(tmp_path: Path) -> None:
    store = SqlIncidentStore(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}", retention_days=3650)
    await store.open()
    try:
        versions = [incident(1, v, status="updated" if v > 1 else "open") for v in range(1, 4)]
        await store.project(ProjectionBatch(
            incidents=[IncidentRecord(v, BASE) for v in versions],
            decisions=[decision(versions[0], seconds=float(n)) for n in range(DEFAULT_DETAIL_ITEMS + 20)],
            notifications=[notification_of(versions[0], attempt=n) for n in range(1, 4)]))
        api, _ = _api(store=store)
        async with _client(api) as client:
            status, detail = await _answer(await client.get("/api/v1/incidents/inc-1"))
            assert status == 200
            assert detail["counts"] == {"timeline": 3, "decisions": DEFAULT_DETAIL_ITEMS + 20, "notifications": 3}
            assert len(detail["decisions"]) == DEFAULT_DETAIL_ITEMS
            assert detail["decisions"][-1]["ts"] > detail["decisions"][0]["ts"], "the latest, oldest first"
            assert (len(detail["timeline"]), len(detail["notifications"])) == (3, 3)
            query = "timeline_limit=2&decisions_limit=1&notifications_limit=5000"
            status, cut = await _answer(await client.get(f"/api/v1/incidents/inc-1?{query}"))
            assert [entry["version"] for entry in cut["timeline"]] == [2, 3]
            assert cut["decisions"] == detail["decisions"][-1:]
            assert cut["notifications"] == detail["notifications"]
            for bad in ("timeline_limit=0", "decisions_limit=5001", "notifications_limit=x", "limit=3"):
                status, problem = await _answer(await client.get(f"/api/v1/incidents/inc-1?{bad}"))
                assert (status, problem["type"]) == (400, "urn:aiops:problem:bad-request"), bad
        assert "IncidentAnswer" in api.document["components"]["schemas"]
    finally:
        await store.close()
