"""Audit off the request path: batched writes, nothing lost on a clean stop, a 401 flood bounded.

`OperatorApi` wired as `aiops run` wires it (the store as its audit sink), on aiohttp's test server without a
broker, over a real SQLite store behind a proxy that can stall its audit writes (a slow or locked database).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from aiops.config import AiopsConfig
from aiops.operator.audit import AuditEntry, UnauthenticatedFlood
from aiops.runtime.api_audit import BatchedAuditWriter
from aiops.runtime.api_http import OperatorApi
from aiops.store.sql import SqlIncidentStore

CONFIG = AiopsConfig.model_validate({"api": {"tokens": {"ro": {"token": "viewer-secret", "role": "viewer"}}}})
VIEWER = {"Authorization": "Bearer viewer-secret"}


class StallingStore:
    """The store, with audit writes that wait until `flowing` is set; counts the rows of each write."""

    def __init__(self, store: SqlIncidentStore) -> None:
        self.store = store
        self.flowing = asyncio.Event()
        self.calls: list[int] = []

    async def record(self, entry: AuditEntry) -> None:
        await self.record_audits([entry])

    async def record_audits(self, entries: Sequence[AuditEntry]) -> None:
        await self.flowing.wait()
        self.calls.append(len(entries))
        await self.store.record_audits(entries)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlIncidentStore]:
    opened = SqlIncidentStore(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


def _client(api: OperatorApi) -> TestClient:
    app = web.Application()
    api.install(app)
    return TestClient(TestServer(app))


async def test_requests_are_answered_while_the_audit_store_stalls_and_a_clean_stop_writes_every_entry(
        store: SqlIncidentStore) -> None:
    stalling = StallingStore(store)
    api = OperatorApi(CONFIG, "127.0.0.1:1", store=store, audit=stalling)
    assert api.audit_writer is not None, "the store's audit is written in batches"
    await api.audit_writer.start()
    async with _client(api) as client:
        for n in range(250):  # a viewer may not act: 403, audited one by one
            response = await asyncio.wait_for(client.post(f"/api/v1/incidents/inc-{n}/actions", headers=VIEWER,
                                                          json={"kind": "acknowledge"}), 2)
            assert response.status == 403
    assert stalling.calls == []  # every request answered (within 2 s each) while no audit write could finish
    assert await store.list_audit() == []
    stalling.flowing.set()
    await api.stop()
    rows = await store.list_audit(limit=1000)
    assert len(rows) == 250
    assert {row.outcome for row in rows} == {"forbidden"}
    assert {row.target for row in rows} == {f"inc-{n}" for n in range(250)}
    assert stalling.calls == [200, 50]  # in batches


async def test_a_401_flood_is_audited_by_count_and_summary(store: SqlIncidentStore) -> None:
    api = OperatorApi(CONFIG, "127.0.0.1:1", store=store, audit=store)
    assert api.audit_writer is not None
    await api.audit_writer.start()
    async with _client(api) as client:
        for n in range(300):  # no token; GETs too (token guessing reads)
            method = client.get if n % 2 else client.post
            response = await method(f"/api/v1/incidents/inc-{n}/actions" if n % 2 == 0 else "/api/v1/incidents")
            assert response.status == 401
    assert len(api.gate.flood.counted) == 1  # one remote counted, not 280 entries held
    await api.stop()
    rows = await store.list_audit(limit=1000)
    one_by_one = [row for row in rows if row.method != "*"]
    [summary] = [row for row in rows if row.method == "*"]
    assert len(one_by_one) == api.gate.flood.per_window == 20
    assert {row.method for row in one_by_one} == {"GET", "POST"}
    assert (summary.status, summary.outcome) == (401, "unauthorized")
    assert summary.detail.startswith("280 more requests without a valid token from 127.0.0.1")


def _unauthorized(at: datetime, remote: str) -> AuditEntry:
    return AuditEntry(at=at, actor="", role="", remote=remote, method="GET", path="/api/v1/incidents",
                      status=401, outcome="unauthorized")


def test_the_flood_window_closes_and_remotes_are_bounded() -> None:
    flood = UnauthenticatedFlood(per_window=2, window_seconds=60, max_remotes=3)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    admitted = [flood.admit(_unauthorized(start + timedelta(seconds=n), f"10.0.0.{n}"))[0] for n in range(10)]
    assert admitted == [True, True] + [False] * 8
    assert sorted(flood.counted) == ["*", "10.0.0.2", "10.0.0.3", "10.0.0.4"]  # 3 remotes, then the rest as *
    assert flood.close(start + timedelta(seconds=30)) == []  # the window is still open
    kept, summaries = flood.admit(_unauthorized(start + timedelta(seconds=61), "10.0.0.1"))
    assert kept  # a new window
    assert sorted((s.remote, s.detail.split()[0]) for s in summaries) == [
        ("*", "5"), ("10.0.0.2", "1"), ("10.0.0.3", "1"), ("10.0.0.4", "1")]
    other = AuditEntry(at=start, actor="bob", role="viewer", remote="x", method="POST", path="/p", status=403,
                       outcome="forbidden")
    assert flood.admit(other) == (True, [])


async def test_a_store_outage_keeps_entries_queued_and_bounded(store: SqlIncidentStore) -> None:
    class Down:
        async def record_audits(self, entries: Sequence[Any]) -> None:
            raise OSError("connection refused")
    writer = BatchedAuditWriter(Down(), max_pending=100, stop_seconds=0.2)
    for n in range(150):
        await writer.record(_unauthorized(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=n), "x"))
    assert not await writer.flush()
    assert (len(writer.pending), writer.dropped) == (100, 50)
    assert writer.pending[0].at == datetime(2026, 1, 1, 0, 0, 50, tzinfo=UTC)  # the oldest went
    writer.store = store
    assert await writer.flush()
    assert len(await store.list_audit(limit=1000)) == 100
