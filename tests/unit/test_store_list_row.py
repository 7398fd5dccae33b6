"""The list row (and the stream's summary) carries the top root cause and who acknowledged, on SQLite and
PostgreSQL; migration 0003 fills both for incidents stored before it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from support.store_backends import BACKENDS, opened_store, store_url
from support.store_samples import BASE, incident

from aiops.incidents import Incident, RootCauseCandidate
from aiops.store.migrate import alembic_config, current_revision, migrate
from aiops.store.models import IncidentFilter, IncidentRecord, ProjectionBatch, summary_of
from aiops.store.sql import SqlIncidentStore


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqlIncidentStore]:
    async with opened_store(store_url(request, tmp_path)) as opened:
        yield opened


def _acknowledged(n: int) -> Incident:
    base = incident(n, 2, status="updated")
    return base.model_copy(update={
        "acknowledged_by": "oncall",
        "root_cause": [RootCauseCandidate(service="db", host="db-1", score=0.8),
                       RootCauseCandidate(service="checkout", score=0.2)]})


async def _project(store: SqlIncidentStore, *incidents_: Incident) -> None:
    await store.project(ProjectionBatch(incidents=[IncidentRecord(i, BASE) for i in incidents_]))


async def test_the_list_row_and_the_summary_agree(store: SqlIncidentStore) -> None:
    plain, acknowledged = incident(1), _acknowledged(2)
    await _project(store, plain, acknowledged)
    page = await store.list_incidents(IncidentFilter())
    rows = {row.id: row for row in page.items}
    assert rows["inc-2"].root_cause == "db/db-1"
    assert rows["inc-2"].acknowledged_by == "oncall"
    assert rows["inc-1"].root_cause is None
    assert rows["inc-1"].acknowledged_by is None
    assert rows["inc-2"] == summary_of(acknowledged)
    assert rows["inc-1"] == summary_of(plain)


async def test_migration_0003_fills_existing_rows(store: SqlIncidentStore) -> None:
    await _project(store, _acknowledged(2), incident(1))
    async with store.engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), "0002"))
    assert await current_revision(store.engine) == "0002"
    await migrate(store.engine)
    assert await current_revision(store.engine) == "0004"
    rows = {row.id: row for row in (await store.list_incidents(IncidentFilter())).items}
    assert (rows["inc-2"].root_cause, rows["inc-2"].acknowledged_by) == ("db/db-1", "oncall")
    assert (rows["inc-1"].root_cause, rows["inc-1"].acknowledged_by) == (None, None)
