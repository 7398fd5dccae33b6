"""Free-text search through the trigram index gives exactly the LIKE answers, on SQLite and PostgreSQL.

Tricky terms (``%``, ``_``, backslashes, quotes and FTS5 syntax words, case, substrings inside words,
non-ASCII letters whose lower case changes length, CJK, emoji, terms under 3 characters) are searched three
ways: through the store (SQLite: the FTS5 trigram table; PostgreSQL: a plan forced onto the pg_trgm index),
with the plain LIKE query, and with Python's `matches_text` (the console's live rule); all three must agree. Also: the
index follows new versions, retention and reset, and migration 0002 fills it (and the service rows' status
and priority) on a database that already holds incidents.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import func, select, text
from support.store_backends import BACKENDS, opened_store, store_url
from support.store_samples import BASE, incident

from aiops.incidents import Incident
from aiops.store import search
from aiops.store.migrate import alembic_config, current_revision, migrate
from aiops.store.models import IncidentFilter, IncidentRecord, ProjectionBatch, matches_text, search_text
from aiops.store.queries import list_query
from aiops.store.search import search_rows
from aiops.store.sql import SqlIncidentStore

TITLES = ("Disk 100% full_now on db", "Straße ÜBER Café naïve", 'back\\slash "quoted" * NEAR AND OR col:umn',
          "İstanbul and the Kelvin sign \u212a", "percent%%and__under", "日本語のアラート", "emoji 🔥 fire")
TERMS = ("%", "_", "100%", "0% f", "full_", "ll_n", "l_n", "100_", "\\", "\\s", "k\\sl", '"quoted"', '"', "* near",
         "and or", "col:", "STRASSE", "straße", "ÜBER", "über", "CAFÉ", "afé", "aï", "İst", "i\u0307s", "ist",
         "KELVIN SIGN K", "\u212a", "%%", "__", "%_", "アラート", "本語", "🔥", "🔥 f", "inc-1", "fp-3-",
         "host-1", "DB", "on d", " ", "zzz", "a", "ab", "lat", "oomkilled", "OOMKilled on")


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqlIncidentStore]:
    async with opened_store(store_url(request, tmp_path)) as opened:
        yield opened


def _samples() -> list[Incident]:
    made = [incident(n, title=title, services=("db", "checkout") if n % 2 else ("search",))
            for n, title in enumerate(TITLES, start=1)]
    return [*made, incident(len(made) + 1, member="OOMKilled", owner="Zoë")]


async def _project(store: SqlIncidentStore, *incidents_: Incident) -> None:
    await store.project(ProjectionBatch(incidents=[IncidentRecord(i, BASE) for i in incidents_]))


async def _through_the_index(store: SqlIncidentStore, filters: IncidentFilter) -> list[str]:
    """Ids as the store's query finds them narrowed by the index: on SQLite every FTS5 candidate (no cap),
    on PostgreSQL with sequential and plain index scans off (so the trigram GIN index answers: small tables
    would be scanned otherwise)."""
    assert filters.text
    async with store.engine.begin() as connection:
        candidates = await search.fts5_candidates(connection, filters.text, store.search_index, cap=10**6)
        if store.dialect == "postgresql":
            await connection.execute(text("SET LOCAL enable_seqscan = off"))
            await connection.execute(text("SET LOCAL enable_indexscan = off"))
        elif len(filters.text) >= search.TRIGRAM:
            assert candidates is not None, filters.text
        return [row.id for row in await connection.execute(list_query(filters, None, 500, candidates))]


async def _like_only(store: SqlIncidentStore, filters: IncidentFilter) -> list[str]:
    async with store.engine.connect() as connection:
        return [row.id for row in await connection.execute(list_query(filters, None, 500))]


async def test_search_through_the_index_equals_like_and_python_substrings(store: SqlIncidentStore) -> None:
    samples = _samples()
    await _project(store, *samples)
    newest_first = sorted(samples, key=lambda i: (i.last_seen, i.id), reverse=True)
    for term in TERMS:
        expected = [i.id for i in newest_first if matches_text(i, term)]  # the console's live rule
        filters = IncidentFilter(text=term)
        assert await _through_the_index(store, filters) == expected, term
        assert await _like_only(store, filters) == expected, term
        assert [s.id for s in (await store.list_incidents(filters, limit=500)).items] == expected, term
    assert [s.id for s in (await store.list_incidents(IncidentFilter(text="100% full_"))).items] == ["inc-1"]
    assert [s.id for s in (await store.list_incidents(IncidentFilter(text="on", service="db"))).items] == ["inc-1"]


async def test_the_query_plan_uses_the_trigram_index(store: SqlIncidentStore) -> None:
    await _project(store, *_samples())
    async with store.engine.begin() as connection:
        candidates = await search.fts5_candidates(connection, "full_now", store.search_index)
        if store.dialect == "sqlite":
            assert candidates == ["inc-1"]  # read from the FTS5 table
            return
        assert candidates is None  # PostgreSQL's planner narrows by itself
        query = list_query(IncidentFilter(text="full_now"), None, 50)
        compiled = str(query.compile(connection.sync_connection, compile_kwargs={"literal_binds": True}))
        await connection.execute(text("SET LOCAL enable_seqscan = off"))
        await connection.execute(text("SET LOCAL enable_indexscan = off"))
        plan = " ".join(str(row[0]) for row in await connection.execute(text(f"EXPLAIN {compiled}")))
        assert "ix_incidents_search_trgm" in plan, plan


async def _found(store: SqlIncidentStore, term: str) -> list[str]:
    return [s.id for s in (await store.list_incidents(IncidentFilter(text=term))).items]


async def _index_rows(store: SqlIncidentStore) -> int | None:
    if store.dialect != "sqlite":
        return None
    async with store.engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(search_rows))).scalar_one())


async def test_the_index_follows_new_versions_replays_retention_and_reset(store: SqlIncidentStore) -> None:
    first = incident(1, 1, title="Checkout latency")
    second = incident(1, 2, status="resolved", title="Payments errors")
    await _project(store, first, incident(2, 1, title="Checkout down"))
    assert await _found(store, "checkout lat") == ["inc-1"]
    await _project(store, second, first, second)  # a replay and an older copy change nothing more
    assert await _found(store, "checkout lat") == []
    assert await _found(store, "payments err") == ["inc-1"]
    assert await _index_rows(store) in (None, 2)
    await store.apply_retention(BASE + timedelta(days=60))
    assert await _found(store, "payments err") == []
    assert await _found(store, "checkout down") == ["inc-2"]
    assert await _index_rows(store) in (None, 1)
    await store.reset()
    assert await _found(store, "checkout down") == []
    await _project(store, incident(3, title="Checkout down again"))
    assert await _found(store, "checkout down") == ["inc-3"]


async def test_migration_0002_fills_the_index_and_service_rows_of_existing_incidents(
        store: SqlIncidentStore) -> None:
    await _project(store, incident(1, 1, title="Disk full"), incident(1, 2, status="updated", priority="P1",
                                                                      title="Disk full on db"), incident(2))
    async with store.engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), "0001"))
    assert await current_revision(store.engine) == "0001"
    await migrate(store.engine)
    assert await current_revision(store.engine) == "0004"
    assert await _found(store, "full on") == ["inc-1"]
    assert await _index_rows(store) in (None, 2)
    page = await store.list_incidents(IncidentFilter(service="checkout", status=("updated",), priority=("P1",)))
    assert [s.id for s in page.items] == ["inc-1"]


async def test_a_common_term_is_scanned_and_a_rare_one_narrowed_by_fts5(store: SqlIncidentStore) -> None:
    await _project(store, *_samples())
    async with store.engine.connect() as connection:
        common = await search.fts5_candidates(connection, "latency", store.search_index, cap=3)  # every member's name
        rare = await search.fts5_candidates(connection, "100% full", store.search_index, cap=3)
        short = await search.fts5_candidates(connection, "ab", store.search_index, cap=3)
    assert (common, rare, short) == ((None, ["inc-1"], None) if store.dialect == "sqlite" else (None,) * 3)
    assert await _found(store, "ON") == [i.id for i in sorted(_samples(), key=lambda i: i.last_seen, reverse=True)
                                         if "on" in search_text(i)][:50]
