"""The live stream with several workers: every API instance streams every incident, whichever worker projected it.

Two workers share one incident store (one SQLite file, each with its own engine, as two processes would); each
runs the operator API as `aiops run` builds it (`OperatorApi` with the store and a feed its own projector
nudges). Worker A projects the incidents of its partition, worker B those of the other: a client following
``GET /api/v1/stream`` on either sees both, in commit order, with the console's event format. The store's
change feed itself is checked on SQLite and PostgreSQL: numbered in commit order, a re-read version adds no
change, a follower starts at the newest change.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from support.store_backends import BACKENDS, opened_store, store_url
from support.store_samples import BASE, incident

from aiops.config import AiopsConfig
from aiops.runtime.api_http import OperatorApi
from aiops.runtime.api_stream import ChangeFollower, IncidentFeed
from aiops.store.models import IncidentRecord, ProjectionBatch, summary_of
from aiops.store.sql import SqlIncidentStore

CONFIG = AiopsConfig.model_validate({"api": {"stream_heartbeat_seconds": 0.2}})


def _batch(*versions: Any) -> ProjectionBatch:
    return ProjectionBatch(incidents=[IncidentRecord(v, BASE) for v in versions])


class Worker:
    """One worker process: its own store engine, feed and operator API (never started: no broker)."""

    def __init__(self, url: str) -> None:
        self.store = SqlIncidentStore(url, retention_days=3650)
        self.feed = IncidentFeed(CONFIG.api.stream_queue_events)
        self.api = OperatorApi(CONFIG, "127.0.0.1:1", store=self.store, scope_of=self.store.incident_scope,
                               feed=self.feed)

    async def project(self, *versions: Any) -> None:
        """What its projector does with a batch of its partitions: commit, then nudge its feed."""
        await self.store.project(_batch(*versions))
        self.feed.nudge(versions)


@pytest.fixture
async def workers(tmp_path: Path) -> AsyncIterator[tuple[Worker, Worker]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    pair = Worker(url), Worker(url)
    for worker in pair:
        await worker.store.open()
        assert worker.api.changes is not None, "the API follows the store's change feed"
        await worker.api.changes.start()  # what `OperatorApi.start` does after reading the silences (no broker here)
        worker.api._ready = True
    try:
        yield pair
    finally:
        for worker in pair:
            await worker.api.stop()
            await worker.store.close()


async def _events(response: Any, count: int) -> list[tuple[str, str, dict[str, Any]]]:
    events: list[tuple[str, str, dict[str, Any]]] = []
    fields: dict[str, str] = {}
    while len(events) < count:
        line = (await asyncio.wait_for(response.content.readline(), 5)).decode().rstrip("\n")
        if not line:
            if fields:
                events.append((fields.get("event", ""), fields.get("id", ""), orjson.loads(fields.get("data", "{}"))))
            fields = {}
        elif not line.startswith(":") and ":" in line:
            name, value = line.split(":", 1)
            fields[name] = value.strip()
    return events


async def _connected(feed: IncidentFeed, response: Any) -> None:
    assert (await response.content.readline()).startswith(b"retry:")
    async with asyncio.timeout(5):
        while not feed.subscribers:  # noqa: ASYNC110 - the feed has no event to wait on; a test-only poll
            await asyncio.sleep(0.01)


async def test_each_api_instance_streams_incidents_projected_by_the_other_worker(
        workers: tuple[Worker, Worker]) -> None:
    a, b = workers
    apps = []
    for worker in workers:
        app = web.Application()
        worker.api.install(app)
        apps.append(TestClient(TestServer(app)))
    async with apps[0] as on_a, apps[1] as on_b:
        stream_a = await on_a.get("/api/v1/stream")
        stream_b = await on_b.get("/api/v1/stream")
        await _connected(a.feed, stream_a)
        await _connected(b.feed, stream_b)
        await a.project(incident(1, 1))  # partition 0, owned by worker A
        await b.project(incident(2, 1), incident(2, 2, status="updated"))  # partition 1, owned by worker B
        await a.project(incident(1, 2, status="updated", owner="bob"))
        expected = ["inc-1:1", "inc-2:1", "inc-2:2", "inc-1:2"]
        for response in (stream_a, stream_b):
            events = await _events(response, 4)
            assert [(kind, event_id) for kind, event_id, _ in events] == [("incident", i) for i in expected]
            assert events[-1][2] == summary_of(incident(1, 2, status="updated", owner="bob")).model_dump(mode="json")


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqlIncidentStore]:
    async with opened_store(store_url(request, tmp_path), retention_days=3650) as opened:
        yield opened


async def test_the_change_feed_numbers_new_versions_in_commit_order_once(store: SqlIncidentStore) -> None:
    assert await store.last_change() == 0
    await store.project(_batch(incident(1, 1), incident(2, 1)))
    await store.project(_batch(incident(1, 1), incident(1, 2, status="updated")))  # a re-read v1: no change
    changes = await store.changes_after(0)
    assert [(c.id, c.version) for _, c in changes] == [("inc-1", 1), ("inc-2", 1), ("inc-1", 2)]
    numbers = [seq for seq, _ in changes]
    assert numbers == sorted(set(numbers))
    assert await store.last_change() == numbers[-1]
    assert [c.version for _, c in await store.changes_after(numbers[0], limit=1)] == [1]  # inc-2 v1

    feed = IncidentFeed()
    follower = ChangeFollower(store, feed)
    await follower.start()  # from the newest change: what was stored before is not streamed
    subscription = feed.subscribe()
    try:
        assert await follower.poll() == 0
        await store.project(_batch(incident(3, 1)))
        assert await follower.poll() == 1
        assert getattr(subscription.queue.get_nowait(), "id", None) == "inc-3"
    finally:
        await follower.stop()


async def test_a_follower_starts_before_the_store_opens_and_follows_once_it_does(tmp_path: Path) -> None:
    """Two workers migrating one SQLite file at once: the loser's store is not open yet when its API starts
    (found by the scale-out test: the worker died with 'the incident store is not open'). The follower must
    start anyway and stream once the store opens."""
    store = SqlIncidentStore(f"sqlite+aiosqlite:///{tmp_path / 'later.db'}")
    feed = IncidentFeed(16)
    follower = ChangeFollower(store, feed, poll_seconds=0.05)
    await follower.start()
    try:
        assert follower.after is None
        await store.open()
        await asyncio.sleep(0.2)
        assert follower.after is not None  # the first poll after opening found the newest change
        await store.project(_batch(incident(1, 1)))
        assert await follower.poll() == 1
    finally:
        await follower.stop()
        await store.close()
