"""The operator API's answers to the review of issue 13, over aiohttp's test server and no broker (the actions
writer is a recording stand-in): catastrophic regexes refused at every entry point."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from aiops.config import AiopsConfig
from aiops.runtime.api_http import OperatorApi, ScopeLookup
from aiops.store.protocol import IncidentStore

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
JSON = {"Content-Type": "application/json"}


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
