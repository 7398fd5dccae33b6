"""The store projector and `aiops store rebuild` on the real broker (tansu), into SQLite and PostgreSQL.

Incident versions (one out of order), decisions, notification records and an undecodable record go to the
three topics; the projector (in-process, its own consumer group) must project them, dead-letter the bad one
with stage ``store`` and commit; the same records produced again must change no row; a rebuild from the
topics into a fresh store must give exactly the live store's rows; a rebuild of the live store itself keeps
its audit rows and writes around a record the database refuses, as the live projector did, and is refused
while the projector's group has members; an outage longer than the retry window gives the batch back to
the consumer (seek) and it is projected once the database answers; and the `aiops store rebuild` command
prints its counts, or one line and exit 2 when the store cannot be reached.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy.exc import OperationalError
from support.store_samples import decision, incident, notification_of, snapshot
from support.worker import collect, isolated_config, produce

from aiops.cli import main
from aiops.clock import utc_now
from aiops.config import AiopsConfig
from aiops.errors import UsageError
from aiops.metrics import AiopsMetrics
from aiops.operator.audit import AuditEntry
from aiops.runtime.store_projector import StoreProjector, build_store
from aiops.runtime.store_rebuild import rebuild_store
from aiops.runtime.topics import TopicSpec, ensure_topics
from aiops.store.sql import SqlIncidentStore

pytestmark = [pytest.mark.integration, pytest.mark.slow]


async def _config(bootstrap: str, prefix: str) -> AiopsConfig:
    """Topics of the test, and a retention long enough to keep the samples' 2026-03 incidents."""
    store = {"batch_timeout_ms": 50, "retention_days": 3650}
    config = AiopsConfig.model_validate(isolated_config(prefix, bootstrap, {"store": store}))
    await ensure_topics(bootstrap, [TopicSpec(config.topics.incidents, 2), TopicSpec(config.topics.decisions, 2),
                                    TopicSpec(config.delivery.notifications_topic, 1),
                                    TopicSpec(config.topics.deadletter, 1)])
    return config


async def _produce_records(config: AiopsConfig, bootstrap: str) -> int:
    """Versions (3 before 2 for inc-1), decisions, notifications, and one record that is not an incident."""
    incidents = [incident(1, 1), incident(1, 3, status="resolved"), incident(1, 2, status="updated"),
                 incident(2, 1, priority="P1"), incident(3, 1, services=("db",))]
    for item in incidents:
        await produce(bootstrap, config.topics.incidents, [item.model_dump_json().encode()], key=item.id.encode())
    await produce(bootstrap, config.topics.incidents, [b'{"id": "broken"}'], key=b"broken")
    for item in incidents[:3]:
        await produce(bootstrap, config.topics.decisions, [decision(item, "joined", item.version).model_dump_json()
                                                           .encode()], key=item.id.encode())
        await produce(bootstrap, config.delivery.notifications_topic,
                      [notification_of(item).model_dump_json().encode()], key=item.id.encode())
    return len(incidents) + 1 + 6


async def _until(condition: Callable[[], Any], within: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.2)


async def _project_live(config: AiopsConfig, bootstrap: str, store: SqlIncidentStore, records: int) -> None:
    projector = StoreProjector(config, bootstrap, store, AiopsMetrics(CollectorRegistry()))
    await projector.start()
    task = asyncio.create_task(projector.run())
    try:
        async def caught_up() -> bool:
            return projector.projected + 1 >= records  # the broken record is dead-lettered, not projected
        await _until(caught_up)
    finally:
        await projector.stop()
        await asyncio.gather(task, return_exceptions=True)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_live_projection_replay_and_rebuild_agree(kafka_bootstrap: str, unique_topic_prefix: str,
                                                        tmp_path: Path, request: pytest.FixtureRequest,
                                                        backend: str) -> None:
    def url(name: str) -> str:
        if backend == "sqlite":
            return f"sqlite+aiosqlite:///{tmp_path / name}"
        return str(request.getfixturevalue("postgres_server").create_database())

    config = await _config(kafka_bootstrap, unique_topic_prefix)
    records = await _produce_records(config, kafka_bootstrap)
    live = build_store(config, url("live.db"))
    await _project_live(config, kafka_bootstrap, live, records)
    await live.open()
    first = await snapshot(live)
    assert [len(first[t]) for t in ("incidents", "incident_versions", "decisions", "notifications")] == [3, 5, 3, 3]
    detail = await live.get_incident("inc-1")
    assert detail is not None
    assert (detail.incident.version, [e.version for e in detail.timeline]) == (3, [1, 2, 3])
    assert all(entry.published_at is not None for entry in detail.timeline)

    letters = await collect(kafka_bootstrap, config.topics.deadletter, lambda got: len(got) >= 1, 20)
    assert [(letter["stage"], letter["reason"]) for letter in letters] == [("store", "schema")]

    again = await _produce_records(config, kafka_bootstrap)  # the same records once more: no row changes
    await live.close()
    await _project_live(config, kafka_bootstrap, live, again)
    await live.open()
    assert await snapshot(live) == first

    rebuilt = build_store(config, url("rebuilt.db"))
    await rebuilt.open()
    # force: tansu lists a stopped consumer in its group until the session times out
    summary = await rebuild_store(config, kafka_bootstrap, rebuilt, utc_now(), force=True)
    assert summary.read == {"incidents": 12, "decisions": 6, "notifications": 6}
    assert summary.rejected == 2
    assert await snapshot(rebuilt) == first
    await rebuilt.close()
    await live.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_rebuild_keeps_the_audit_and_writes_around_refused_records(
        kafka_bootstrap: str, unique_topic_prefix: str, tmp_path: Path, request: pytest.FixtureRequest,
        backend: str) -> None:
    config = await _config(kafka_bootstrap, unique_topic_prefix)
    refused = incident(2).model_copy(update={"members_truncated": 2**63})  # no integer column takes it
    for item in (incident(1), refused, incident(3)):
        await produce(kafka_bootstrap, config.topics.incidents, [item.model_dump_json().encode()],
                      key=item.id.encode())
    url = (f"sqlite+aiosqlite:///{tmp_path / 'live.db'}" if backend == "sqlite"
           else str(request.getfixturevalue("postgres_server").create_database()))
    store = build_store(config, url)
    projector = StoreProjector(config, kafka_bootstrap, store, AiopsMetrics(CollectorRegistry()))
    await projector.start()
    task = asyncio.create_task(projector.run())
    try:
        async def caught_up() -> bool:
            return projector.projected >= 2
        await _until(caught_up)
        letters = await collect(kafka_bootstrap, config.topics.deadletter, lambda got: len(got) >= 1, 20)
        assert [(letter["reason"], letter["source_offset"]) for letter in letters] == [("store_rejected", 1)]
        other = build_store(config, url)
        await other.open()
        with pytest.raises(UsageError, match=r"has 1 active member\(s\).*--force"):
            await rebuild_store(config, kafka_bootstrap, other, utc_now())
        await other.close()
    finally:
        await projector.stop()
        await asyncio.gather(task, return_exceptions=True)
    await store.open()
    await store.record_audit(AuditEntry(at=utc_now(), actor="alice", role="responder", remote="127.0.0.1",
                                        method="POST", path="/api/v1/incidents/inc-1/actions", status=202,
                                        outcome="accepted", target="inc-1"))
    live = await snapshot(store)
    assert [len(live[t]) for t in ("incidents", "audit")] == [2, 1]
    summary = await rebuild_store(config, kafka_bootstrap, store, utc_now(), force=True)
    assert (summary.read["incidents"], summary.refused) == (3, 1)
    assert await snapshot(store) == live
    await store.close()


class _OutageStore:
    """A real store whose first `failures` writes fail as an unreachable database would."""

    def __init__(self, inner: SqlIncidentStore, failures: int) -> None:
        self.inner = inner
        self.failures = failures

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def project(self, batch: Any) -> Any:
        if self.failures:
            self.failures -= 1
            raise OperationalError("INSERT", {}, Exception("connection refused"))
        return await self.inner.project(batch)


async def test_an_outage_past_the_window_gives_the_batch_back_to_the_consumer(
        kafka_bootstrap: str, unique_topic_prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("aiops.runtime.store_projector.WRITE_RETRY_WINDOW_SECONDS", 0.0)  # give back at once
    config = await _config(kafka_bootstrap, unique_topic_prefix)
    for n in (1, 2, 3):
        await produce(kafka_bootstrap, config.topics.incidents, [incident(n).model_dump_json().encode()],
                      key=f"inc-{n}".encode())
    inner = build_store(config, f"sqlite+aiosqlite:///{tmp_path / 'outage.db'}")
    store = _OutageStore(inner, failures=3)
    projector = StoreProjector(config, kafka_bootstrap, store, None)  # type: ignore[arg-type]
    await projector.start()
    task = asyncio.create_task(projector.run())
    try:
        async def caught_up() -> bool:
            return projector.projected >= 3
        await _until(caught_up)
        assert store.failures == 0
        assert not task.done()
        assert (await inner.stats()).incidents == 3
    finally:
        await projector.stop()
        await asyncio.gather(task, return_exceptions=True)


async def test_store_rebuild_command(kafka_bootstrap: str, unique_topic_prefix: str, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    config = await _config(kafka_bootstrap, unique_topic_prefix)
    await _produce_records(config, kafka_bootstrap)
    config_file = tmp_path / "aiops.yaml"
    config_file.write_bytes(orjson.dumps(config.model_dump(mode="json", by_alias=True)))  # JSON is YAML
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    assert await asyncio.to_thread(main, ["store", "rebuild", "--config", str(config_file), "--url", url]) == 0
    out = capsys.readouterr().out
    assert "read 6 incident versions, 3 decisions, 3 notifications (1 undecodable, skipped)" in out
    assert "store holds 3 incidents (2 active), 5 versions, 3 decisions, 3 notifications" in out

    unreachable = "postgresql+psycopg://aiops:hunter2@127.0.0.1:1/aiops"
    code = await asyncio.to_thread(main, ["store", "rebuild", "--config", str(config_file), "--url", unreachable])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.startswith("aiops: cannot open the incident store at postgresql+psycopg://aiops:***@")
    assert len(captured.err.strip().splitlines()) == 1
    assert "hunter2" not in captured.err
