"""The incident store's write path: one projection batch, and retention, on an open transaction.

`write_batch` inserts versions, decisions and notifications with ``ON CONFLICT DO NOTHING`` and upserts each
incident's row with ``ON CONFLICT DO UPDATE ... WHERE incidents.version < excluded.version``, so a replayed
or late (older) version changes nothing; the service rows of incidents whose row now holds the batch's
version are replaced. Each version not stored before gets an `incident_changes` row, last, numbered in commit
order (PostgreSQL: under a transaction-level advisory lock, so a lower number never commits after a higher
one is visible; SQLite has one writer). The free-text search index follows the `incidents` rows by itself
(SQLite: triggers; PostgreSQL: an index on the column). `delete_expired` is the retention pass. Both run on the caller's
connection inside its transaction (the caller commits); the SQL is the same for SQLite (3.24+) and
PostgreSQL, only the ``insert`` construct is the dialect's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, delete, exists, func, select, text, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from aiops.decisions import Decision
from aiops.incidents import Incident
from aiops.sinks.notifications import NotificationRecord
from aiops.store.models import (
    IncidentRecord,
    ProjectionBatch,
    RetentionCounts,
    notification_id,
    root_cause_of,
    search_text,
    team_of,
)
from aiops.store.schema import (
    audit,
    decisions,
    incident_changes,
    incident_services,
    incident_versions,
    incidents,
    notifications,
)

CHUNK = 500
"""Ids per ``IN (...)`` list (well under SQLite's bound on statement variables)."""
CHANGE_FEED_LOCK = 0x61696F7073  # "aiops"
"""PostgreSQL advisory lock key serialising the change-feed numbering of concurrent projectors."""
CHANGES_KEPT = 100_000
"""`incident_changes` rows the retention pass keeps (the feed is for live clients, seconds behind)."""


def dialect_insert(connection: AsyncConnection, table: Table) -> Any:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


def member_count(incident: Incident) -> int:
    return len(incident.members) + incident.members_truncated


def incident_row(incident: Incident, document: dict[str, Any]) -> dict[str, Any]:
    """The `incidents` row of one version."""
    return {
        "id": incident.id, "scope": incident.scope, "version": incident.version, "status": incident.status,
        "priority": incident.priority, "title": incident.title, "services": "|" + "|".join(incident.services) + "|",
        "owner": incident.context.owner, "team": team_of(incident), "first_seen": incident.first_seen,
        "last_seen": incident.last_seen, "resolved_at": incident.resolved_at, "merged_into": incident.merged_into,
        "members": member_count(incident), "search_text": search_text(incident), "document": document,
        "root_cause": root_cause_of(incident), "acknowledged_by": incident.acknowledged_by,
    }


def version_row(record: IncidentRecord, document: dict[str, Any]) -> dict[str, Any]:
    """The `incident_versions` row of one version."""
    incident = record.incident
    return {
        "incident_id": incident.id, "version": incident.version, "status": incident.status,
        "priority": incident.priority, "last_seen": incident.last_seen, "resolved_at": incident.resolved_at,
        "published_at": record.published_at, "members": member_count(incident),
        "change": document["change"], "document": document,
    }


def decision_row(decision: Decision) -> dict[str, Any]:
    return {"id": decision.id, "incident_id": decision.incident_id, "kind": decision.kind, "ts": decision.ts,
            "document": decision.model_dump(mode="json")}


def notification_row(record: NotificationRecord) -> dict[str, Any]:
    return {"id": notification_id(record), "incident_id": record.incident_id, "version": record.version,
            "receiver": record.receiver, "outcome": record.outcome, "at": record.at,
            "document": record.model_dump(mode="json")}


def _latest(records: Iterable[IncidentRecord]) -> dict[str, IncidentRecord]:
    latest: dict[str, IncidentRecord] = {}
    for record in records:
        held = latest.get(record.incident.id)
        if held is None or held.incident.version < record.incident.version:
            latest[record.incident.id] = record
    return latest


async def _insert_new(connection: AsyncConnection, table: Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        await connection.execute(dialect_insert(connection, table).on_conflict_do_nothing(), rows)


async def write_batch(connection: AsyncConnection, batch: ProjectionBatch) -> None:
    """Project `batch` on `connection` (inside the caller's transaction)."""
    documents = {(r.incident.id, r.incident.version): r.incident.model_dump(mode="json") for r in batch.incidents}
    unique_versions: dict[tuple[str, int], IncidentRecord] = {}
    for record in batch.incidents:  # the first copy of a version wins, as it does across batches
        unique_versions.setdefault((record.incident.id, record.incident.version), record)
    new_versions = await _not_stored(connection, list(unique_versions))
    await _insert_new(connection, incident_versions,
                      [version_row(r, documents[key]) for key, r in unique_versions.items()])
    latest = _latest(batch.incidents)
    if latest:
        statement = dialect_insert(connection, incidents)
        updated = {column.name: statement.excluded[column.name] for column in incidents.columns if column.name != "id"}
        statement = statement.on_conflict_do_update(index_elements=[incidents.c.id], set_=updated,
                                                    where=incidents.c.version < statement.excluded.version)
        rows = [incident_row(r.incident, documents[(r.incident.id, r.incident.version)]) for r in latest.values()]
        await connection.execute(statement, rows)  # (RETURNING would make psycopg parse one huge statement)
        await _replace_services(connection, await _written(connection, latest))
    await _insert_new(connection, decisions, list({d.id: decision_row(d) for d in batch.decisions}.values()))
    unique_notifications = {notification_id(n): n for n in batch.notifications}
    await _insert_new(connection, notifications, [notification_row(n) for n in unique_notifications.values()])
    await _record_changes(connection, new_versions)


async def _not_stored(connection: AsyncConnection, keys: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """The (incident id, version) keys no `incident_versions` row holds yet, in the order given."""
    stored: set[tuple[str, int]] = set()
    key = tuple_(incident_versions.c.incident_id, incident_versions.c.version)
    for chunk in _chunks(keys):
        rows = await connection.execute(select(incident_versions.c.incident_id, incident_versions.c.version)
                                        .where(key.in_(list(chunk))))
        stored.update((incident_id, version) for incident_id, version in rows.tuples())
    return [k for k in keys if k not in stored]


async def _record_changes(connection: AsyncConnection, keys: list[tuple[str, int]]) -> None:
    """Number the versions this transaction wrote in the change feed; last, so the lock is held briefly."""
    if not keys:
        return
    if connection.dialect.name == "postgresql":  # released at commit: numbers follow commit order
        await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHANGE_FEED_LOCK})
    await connection.execute(incident_changes.insert(),
                             [{"incident_id": incident_id, "version": version} for incident_id, version in keys])


async def _written(connection: AsyncConnection, latest: dict[str, IncidentRecord]) -> dict[str, IncidentRecord]:
    """The incidents whose row now holds the batch's version (an older version wrote nothing)."""
    written: dict[str, IncidentRecord] = {}
    for ids in _chunks(list(latest)):
        stored = await connection.execute(select(incidents.c.id, incidents.c.version).where(incidents.c.id.in_(ids)))
        written.update((row.id, latest[row.id]) for row in stored if row.version == latest[row.id].incident.version)
    return written


async def _replace_services(connection: AsyncConnection, written: dict[str, IncidentRecord]) -> None:
    """Service rows of the incidents whose row was just written (with the version's `last_seen`, status and
    priority)."""
    ids = list(written)
    for chunk in _chunks(ids):
        await connection.execute(delete(incident_services).where(incident_services.c.incident_id.in_(chunk)))
    rows = [{"service": service, "incident_id": incident_id, "last_seen": incident.last_seen,
             "status": incident.status, "priority": incident.priority}
            for incident_id in ids for incident in (written[incident_id].incident,)
            for service in dict.fromkeys(incident.services)]
    if rows:
        await connection.execute(incident_services.insert(), rows)


async def delete_expired(connection: AsyncConnection, now: datetime, retention_days: float,
                         audit_retention_days: float) -> RetentionCounts:
    """Delete resolved incidents resolved before the cutoff with everything about them, orphan decisions and
    notifications older than it, and audit rows older than the audit cutoff."""
    cutoff = now - timedelta(days=retention_days)
    expired = select(incidents.c.id).where(
        incidents.c.status == "resolved", func.coalesce(incidents.c.resolved_at, incidents.c.last_seen) < cutoff)
    deleted: dict[str, int] = {}
    for name, table, key, when in (("versions", incident_versions, incident_versions.c.incident_id, None),
                                   ("services", incident_services, incident_services.c.incident_id, None),
                                   ("decisions", decisions, decisions.c.incident_id, decisions.c.ts),
                                   ("notifications", notifications, notifications.c.incident_id, notifications.c.at)):
        result = await connection.execute(delete(table).where(key.in_(expired)))
        deleted[name] = result.rowcount
        if when is not None:  # records of incidents the store never held (or no longer holds)
            held = exists().where(incidents.c.id == key)  # NOT EXISTS: an index probe per row, not NOT IN
            orphans = await connection.execute(delete(table).where(and_(when < cutoff, ~held)))
            deleted[name] += orphans.rowcount
    gone = await connection.execute(delete(incidents).where(incidents.c.id.in_(expired)))
    newest = select(func.max(incident_changes.c.seq)).scalar_subquery()
    await connection.execute(delete(incident_changes).where(incident_changes.c.seq <= newest - CHANGES_KEPT))
    old_audit = await connection.execute(delete(audit).where(audit.c.at < now - timedelta(days=audit_retention_days)))
    return RetentionCounts(incidents=gone.rowcount, versions=deleted["versions"], decisions=deleted["decisions"],
                           notifications=deleted["notifications"], audit=old_audit.rowcount)
