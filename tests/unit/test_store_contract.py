"""The incident store's contract, on SQLite (a temp file) and on a real PostgreSQL started on loopback.

Every case runs against both backends through `SqlIncidentStore`: idempotent projection (the same records
twice, or older versions after newer ones, leave the same rows), list filters, search, cursor pagination,
the detail with its timeline, decisions and notifications, retention, audit, reset, and the migrations
creating exactly the tables `aiops.store.schema` describes. PostgreSQL cases skip (with the reason) only
when its server binaries are absent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from support.store_backends import BACKENDS, opened_store, store_url
from support.store_samples import BASE, decision, incident, notification_of, snapshot

from aiops.errors import ConfigError, StoreUnavailableError, UsageError
from aiops.operator.audit import AuditEntry
from aiops.store.migrate import current_revision
from aiops.store.models import IncidentFilter, IncidentRecord, ProjectionBatch
from aiops.store.schema import metadata
from aiops.store.search import is_search_index_object
from aiops.store.sql import SqlIncidentStore, parse_url


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqlIncidentStore]:
    async with opened_store(store_url(request, tmp_path), retention_days=30, audit_retention_days=90) as opened:
        yield opened


def _batch(*incidents_: object, decisions: tuple[object, ...] = (), notifications: tuple[object, ...] = ()
           ) -> ProjectionBatch:
    return ProjectionBatch(incidents=[IncidentRecord(i, BASE) for i in incidents_],  # type: ignore[arg-type]
                           decisions=list(decisions), notifications=list(notifications))  # type: ignore[arg-type]


def _outside_search_index(name: str | None, type_: str, _parent: object) -> bool:
    return not is_search_index_object(name)


async def test_migrations_create_exactly_the_schema(store: SqlIncidentStore) -> None:
    assert await current_revision(store.engine) == "0004"
    options = {"include_name": _outside_search_index}
    async with store.engine.connect() as connection:
        diff = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync, opts=options), metadata))
    assert diff == []
    assert store.search_index == ("fts5" if store.dialect == "sqlite" else "pg_trgm")
    await store.open()  # opening again is a no-op migration
    assert await current_revision(store.engine) == "0004"


async def test_projecting_the_same_records_twice_changes_nothing(store: SqlIncidentStore) -> None:
    v1, v2 = incident(1, 1), incident(1, 2, priority="P1")
    batch = _batch(v1, v2, incident(2), decisions=(decision(v1), decision(v2, "opened", 1)),
                   notifications=(notification_of(v1), notification_of(v2)))
    await store.project(batch)
    first = await snapshot(store)
    await store.project(batch)
    await store.project(_batch(v2, v1, decisions=(decision(v1),), notifications=(notification_of(v1),)))
    assert await snapshot(store) == first
    assert [len(first[t]) for t in ("incidents", "incident_versions", "decisions", "notifications")] == [2, 3, 2, 2]


async def test_an_older_version_never_replaces_a_newer_one(store: SqlIncidentStore) -> None:
    await store.project(_batch(incident(1, 3, status="resolved", services=("db",))))
    await store.project(_batch(incident(1, 1, services=("checkout",)), incident(1, 2, services=("checkout",))))
    detail = await store.get_incident("inc-1")
    assert detail is not None
    assert (detail.incident.version, detail.incident.status) == (3, "resolved")
    assert [entry.version for entry in detail.timeline] == [1, 2, 3]
    assert [s.id for s in (await store.list_incidents(IncidentFilter(service="db"))).items] == ["inc-1"]
    assert (await store.list_incidents(IncidentFilter(service="checkout"))).items == []


async def test_a_newer_version_replaces_the_row_and_its_services(store: SqlIncidentStore) -> None:
    await store.project(_batch(incident(1, 1, services=("checkout",))))
    await store.project(_batch(incident(1, 2, services=("db", "cache"), status="updated")))
    page = await store.list_incidents()
    assert [(s.id, s.version, s.services, s.status) for s in page.items] == [("inc-1", 2, ["db", "cache"], "updated")]
    assert (await store.list_incidents(IncidentFilter(service="checkout"))).items == []
    assert len((await store.list_incidents(IncidentFilter(service="cache"))).items) == 1
    by_service_status = IncidentFilter(service="cache", status=("updated",), priority=("P2",))
    assert len((await store.list_incidents(by_service_status)).items) == 1, "service rows carry status, priority"
    assert (await store.list_incidents(IncidentFilter(service="cache", status=("open",)))).items == []


async def _fill(store: SqlIncidentStore) -> None:
    await store.project(_batch(
        incident(1, status="open", priority="P1", services=("checkout",), owner="team-a"),
        incident(2, status="updated", priority="P2", services=("checkout", "db")),
        incident(3, status="resolved", priority="P2", services=("db",)),
        incident(4, status="open", priority="P3", services=("search",), title="Disk 100% full_now"),
        incident(5, status="open", priority="P1", services=("checkout",), member="OOMKilled"),
    ))


async def test_list_filters(store: SqlIncidentStore) -> None:
    await _fill(store)

    async def ids(**filters: object) -> list[str]:
        page = await store.list_incidents(IncidentFilter(**filters))  # type: ignore[arg-type]
        return [s.id for s in page.items]

    assert await ids() == ["inc-5", "inc-4", "inc-3", "inc-2", "inc-1"]  # newest last_seen first
    assert await ids(status=("open", "updated")) == ["inc-5", "inc-4", "inc-2", "inc-1"]
    assert await ids(status=("open",), priority=("P1", "P2")) == ["inc-5", "inc-1"]
    assert await ids(service="checkout") == ["inc-5", "inc-2", "inc-1"]
    assert await ids(service="checkout", priority=("P2",)) == ["inc-2"]
    assert await ids(owner="team-a") == ["inc-1"]
    assert await ids(since=BASE + timedelta(minutes=3), until=BASE + timedelta(minutes=4, seconds=30)) == [
        "inc-4", "inc-3"]
    assert await ids(text="oomkilled") == ["inc-5"]  # member names, case-insensitive
    assert await ids(text="DB") == ["inc-3", "inc-2"]
    assert await ids(text="100% full_") == ["inc-4"]  # % and _ are literal
    assert await ids(text="100_") == []
    assert await ids(service="nowhere") == []


async def test_scope_and_open_incidents_read_the_latest_versions(store: SqlIncidentStore) -> None:
    await _fill(store)
    assert await store.incident_scope("inc-1") == "default"
    assert await store.incident_scope("nope") is None
    opened = await store.open_incidents()
    assert [i.id for i in opened] == ["inc-5", "inc-4", "inc-2", "inc-1"]
    assert [i.id for i in await store.open_incidents(limit=2)] == ["inc-5", "inc-4"]


@pytest.mark.parametrize("service", [None, "checkout"])
async def test_cursor_pages_cover_every_match_once_in_order(store: SqlIncidentStore, service: str | None) -> None:
    # Ten incidents share one last_seen: ties are broken by id, and no page boundary loses or repeats one.
    await store.project(_batch(*(incident(n, minutes=7 if n < 10 else n) for n in range(1, 30))))
    expected = [s.id for s in (await store.list_incidents(IncidentFilter(service=service), limit=500)).items]
    seen: list[str] = []
    cursor = None
    while True:
        page = await store.list_incidents(IncidentFilter(service=service), cursor=cursor, limit=4)
        seen += [s.id for s in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == expected
    assert len(expected) == 29
    assert expected[-9:] == sorted(expected[-9:], reverse=True)


async def test_a_bad_cursor_or_limit_is_refused(store: SqlIncidentStore) -> None:
    with pytest.raises(UsageError):
        await store.list_incidents(cursor="not-a-cursor")
    with pytest.raises(ValueError, match="limit"):
        await store.list_incidents(limit=0)


async def test_get_returns_the_timeline_decisions_and_notifications(store: SqlIncidentStore) -> None:
    v1, v2, v3 = incident(1, 1), incident(1, 2, status="updated"), incident(1, 3, status="resolved")
    await store.project(_batch(v3, v1, decisions=(decision(v3, "resolved", 60), decision(v1, "opened", 0)),
                               notifications=(notification_of(v3), notification_of(v1, attempt=1),
                                              notification_of(v1, outcome="attempt_failed", attempt=2))))
    await store.project(_batch(v2, decisions=(decision(v2, "joined", 30),)))
    detail = await store.get_incident("inc-1")
    assert detail is not None
    assert detail.incident == v3
    assert [(e.version, e.status, e.published_at) for e in detail.timeline] == [
        (1, "open", BASE), (2, "updated", BASE), (3, "resolved", BASE)]
    assert [d.kind for d in detail.decisions] == ["opened", "joined", "resolved"]
    assert [(n.version, n.outcome) for n in detail.notifications] == [
        (1, "delivered"), (1, "attempt_failed"), (3, "delivered")]
    assert await store.get_version("inc-1", 2) == v2
    assert await store.get_version("inc-1", 9) is None
    assert await store.get_incident("inc-404") is None


async def test_retention_deletes_only_old_resolved_incidents(store: SqlIncidentStore) -> None:
    old_resolved = incident(1, 2, status="resolved")
    old_open = incident(2, 1)
    recent_resolved = incident(3, 2, status="resolved", minutes=60 * 24 * 40)
    await store.project(_batch(incident(1, 1), old_resolved, old_open, recent_resolved,
                               decisions=(decision(old_resolved), decision(old_open), decision(incident(9))),
                               notifications=(notification_of(old_resolved), notification_of(recent_resolved))))
    entry = AuditEntry(at=BASE, actor="alice", role="responder", remote="127.0.0.1", method="POST",
                       path="/api/v1/incidents/inc-2/actions", status=202, outcome="accepted", target="inc-2")
    await store.record_audit(entry)
    now = BASE + timedelta(days=45)
    deleted = await store.apply_retention(now)
    assert (deleted.incidents, deleted.versions, deleted.decisions, deleted.notifications) == (1, 2, 2, 1)
    assert deleted.audit == 0
    assert await store.get_incident("inc-1") is None
    assert [s.id for s in (await store.list_incidents()).items] == ["inc-3", "inc-2"]
    stats = await store.stats()
    assert (stats.versions, stats.decisions, stats.notifications, stats.audit) == (2, 1, 1, 1)
    assert (await store.apply_retention(BASE + timedelta(days=91))).audit == 1


async def test_audit_rows_round_trip_newest_first(store: SqlIncidentStore) -> None:
    entries = [AuditEntry(at=BASE + timedelta(seconds=n), actor="bob", role="admin", remote="10.0.0.1",
                          method="POST", path=f"/api/v1/x/{n}", status=202, outcome="accepted",
                          target="inc-1" if n % 2 else "sil-1", action_id=f"act-{n}") for n in range(4)]
    for entry in entries:
        await store.record(entry)  # the operator API's AuditSink call
    assert await store.list_audit() == entries[::-1]
    assert await store.list_audit(target="inc-1", limit=1) == [entries[3]]
    assert await store.list_audit(since=BASE + timedelta(seconds=2)) == entries[:1:-1]


async def test_reset_drops_every_row_and_keeps_the_schema(store: SqlIncidentStore) -> None:
    await _fill(store)
    await store.reset()
    stats = await store.stats()
    assert (stats.incidents, stats.versions) == (0, 0)
    assert await current_revision(store.engine) == "0004"
    assert store.search_index != "none"
    await _fill(store)
    assert (await store.stats()).by_status == {"open": 3, "updated": 1, "resolved": 1}


def test_unsupported_urls_are_config_errors() -> None:
    for url in ("mysql://u:secret@h/db", "sqlite:///x.db", "sqlite+aiosqlite://", "not a url"):
        with pytest.raises(ConfigError) as raised:
            parse_url(url)
        assert "secret" not in str(raised.value)


async def test_an_unreachable_database_is_one_clear_error() -> None:
    store = SqlIncidentStore("postgresql+psycopg://aiops:hunter2@127.0.0.1:1/aiops")
    with pytest.raises(StoreUnavailableError) as raised:
        await store.open()
    assert "hunter2" not in str(raised.value)
    assert "127.0.0.1:1" in str(raised.value)
