"""The incident store's reset keeps the audit, and retention's orphan pass, on SQLite and PostgreSQL.

`reset` (what `aiops store rebuild` starts with) must empty every table the topics can rebuild and keep the
audit rows, which exist nowhere else, with the schema (and its search index) still usable. Retention's orphan
pass (NOT EXISTS) deletes old decisions and notifications of incidents the store does not hold and nothing
else: not recent orphans, not old records of an incident it holds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from support.store_backends import BACKENDS, opened_store, store_url
from support.store_samples import BASE, decision, incident, notification_of

from aiops.operator.audit import AuditEntry
from aiops.store.models import IncidentFilter, IncidentRecord, ProjectionBatch
from aiops.store.sql import SqlIncidentStore


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqlIncidentStore]:
    async with opened_store(store_url(request, tmp_path), retention_days=30, audit_retention_days=90) as opened:
        yield opened


def _audit(n: int) -> AuditEntry:
    return AuditEntry(at=BASE + timedelta(seconds=n), actor="alice", role="responder", remote="127.0.0.1",
                      method="POST", path=f"/api/v1/incidents/inc-{n}/actions", status=202, outcome="accepted",
                      target=f"inc-{n}", action_id=f"act-{n}")


async def test_reset_empties_the_projection_and_keeps_the_audit(store: SqlIncidentStore) -> None:
    first = incident(1, title="Checkout latency")
    await store.project(ProjectionBatch(incidents=[IncidentRecord(first, BASE), IncidentRecord(incident(2), BASE)],
                                        decisions=[decision(first)], notifications=[notification_of(first)]))
    entries = [_audit(n) for n in range(3)]
    for entry in entries:
        await store.record_audit(entry)
    await store.reset()
    stats = await store.stats()
    assert (stats.incidents, stats.versions, stats.decisions, stats.notifications) == (0, 0, 0, 0)
    assert stats.audit == 3
    assert await store.list_audit() == entries[::-1]
    assert (await store.list_incidents(IncidentFilter(text="checkout"))).items == []
    await store.project(ProjectionBatch(incidents=[IncidentRecord(first, BASE)]))
    assert [s.id for s in (await store.list_incidents(IncidentFilter(text="checkout"))).items] == ["inc-1"]
    assert [s.id for s in (await store.list_incidents(IncidentFilter(service="payments"))).items] == ["inc-1"]


async def test_retention_deletes_old_orphans_only(store: SqlIncidentStore) -> None:
    held = incident(1)  # open: kept with all its records, however old
    gone, recent = incident(8), incident(9, minutes=60 * 24 * 40)  # never projected: orphans
    await store.project(ProjectionBatch(
        incidents=[IncidentRecord(held, BASE)],
        decisions=[decision(held), decision(gone), decision(recent)],
        notifications=[notification_of(held), notification_of(gone), notification_of(recent)]))
    deleted = await store.apply_retention(BASE + timedelta(days=45))
    assert (deleted.incidents, deleted.versions, deleted.decisions, deleted.notifications) == (0, 0, 1, 1)
    detail = await store.get_incident("inc-1")
    assert detail is not None
    assert (len(detail.decisions), len(detail.notifications)) == (1, 1)
    stats = await store.stats()
    assert (stats.decisions, stats.notifications) == (2, 2)
    assert (await store.apply_retention(BASE + timedelta(days=45))).decisions == 0  # nothing more to delete
