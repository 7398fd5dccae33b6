"""The incident store's read path: the filtered, cursor-paginated list and the one-incident detail.

`list_page` orders by (``last_seen`` desc, id desc) and continues after a cursor's row with a keyset
condition, so every page costs the same whatever its depth. With a service filter it walks
`incident_services` (its (service, last_seen) index, or (service, status, priority, last_seen) when status or
priority are filtered: the service rows carry both) and joins the incidents; otherwise `incidents` and its
(status|priority, last_seen) indexes. Text search is a case-insensitive substring (`aiops.store.search`:
LIKE, narrowed by the database's trigram index when it has one). `detail` reads the latest document, the
timeline, decisions and notifications; `changes_after` the change feed (the live stream). Callers own the
connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from aiops.decisions import Decision
from aiops.incidents import Change, Incident
from aiops.sinks.notifications import NotificationRecord
from aiops.store.models import (
    MAX_PAGE_SIZE,
    IncidentDetail,
    IncidentFilter,
    IncidentPage,
    IncidentSummary,
    TimelineEntry,
    decode_cursor,
    encode_cursor,
)
from aiops.store.schema import (
    decisions,
    incident_changes,
    incident_services,
    incident_versions,
    incidents,
    notifications,
)
from aiops.store.search import SearchIndex, fts5_candidates, text_condition

_SUMMARY = (incidents.c.id, incidents.c.scope, incidents.c.version, incidents.c.status, incidents.c.priority,
            incidents.c.title, incidents.c.services, incidents.c.owner, incidents.c.team, incidents.c.first_seen,
            incidents.c.last_seen, incidents.c.resolved_at, incidents.c.merged_into, incidents.c.members,
            incidents.c.root_cause, incidents.c.acknowledged_by)


def _conditions(filters: IncidentFilter, candidates: Sequence[str] | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    by_service = filters.service is not None  # the service rows carry status and priority (an index on them)
    if filters.status:
        conditions.append((incident_services.c.status if by_service else incidents.c.status).in_(filters.status))
    if filters.priority:
        column = incident_services.c.priority if by_service else incidents.c.priority
        conditions.append(column.in_(filters.priority))
    if filters.team is not None:
        conditions.append(incidents.c.team == filters.team)
    if filters.owner is not None:
        conditions.append(incidents.c.owner == filters.owner)
    if filters.since is not None:
        conditions.append(incidents.c.last_seen >= filters.since)
    if filters.until is not None:
        conditions.append(incidents.c.first_seen <= filters.until)
    if filters.text:
        conditions.append(text_condition(filters.text, candidates))
    return conditions


def _summary(row: Any) -> IncidentSummary:
    return IncidentSummary(
        id=row.id, scope=row.scope, version=row.version, status=row.status, priority=row.priority, title=row.title,
        services=[service for service in row.services.split("|") if service], owner=row.owner, team=row.team,
        first_seen=row.first_seen, last_seen=row.last_seen, resolved_at=row.resolved_at,
        merged_into=row.merged_into, members=row.members, root_cause=row.root_cause,
        acknowledged_by=row.acknowledged_by)


def list_query(filters: IncidentFilter, cursor: str | None, limit: int,
               candidates: Sequence[str] | None = None) -> Select[Any]:
    """The SELECT of one page (`limit` + 1 rows, so the caller knows whether another page follows);
    `candidates`: the text search's candidate ids from the FTS5 table (`fts5_candidates`), if any."""
    query = select(*_SUMMARY)
    if filters.service is not None:
        query = query.select_from(incident_services.join(incidents, incidents.c.id == incident_services.c.incident_id))
        query = query.where(incident_services.c.service == filters.service)
        last_seen, key = incident_services.c.last_seen, incident_services.c.incident_id
    else:
        last_seen, key = incidents.c.last_seen, incidents.c.id
    conditions = _conditions(filters, candidates)
    if cursor is not None:
        after_seen, after_id = decode_cursor(cursor)
        # The redundant `last_seen <= after` keeps the condition an index range (an OR alone made SQLite scan).
        conditions += [last_seen <= after_seen,
                       or_(last_seen < after_seen, and_(last_seen == after_seen, key < after_id))]
    if conditions:
        query = query.where(*conditions)
    return query.order_by(last_seen.desc(), key.desc()).limit(limit + 1)


async def list_page(connection: AsyncConnection, filters: IncidentFilter, cursor: str | None,
                    limit: int, search: SearchIndex = "none") -> IncidentPage:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"limit must be 1..{MAX_PAGE_SIZE}, got {limit}")
    candidates = await fts5_candidates(connection, filters.text, search) if filters.text else None
    rows = (await connection.execute(list_query(filters, cursor, limit, candidates))).all()
    items = [_summary(row) for row in rows[:limit]]
    more = len(rows) > limit
    return IncidentPage(items=items, next_cursor=encode_cursor(items[-1].last_seen, items[-1].id) if more else None)


async def detail(connection: AsyncConnection, incident_id: str) -> IncidentDetail | None:
    document = (await connection.execute(
        select(incidents.c.document).where(incidents.c.id == incident_id))).scalar_one_or_none()
    if document is None:
        return None
    v = incident_versions.c
    timeline = [
        TimelineEntry(version=row.version, status=row.status, priority=row.priority, last_seen=row.last_seen,
                      resolved_at=row.resolved_at, published_at=row.published_at, members=row.members,
                      change=Change.model_validate(row.change))
        for row in await connection.execute(
            select(v.version, v.status, v.priority, v.last_seen, v.resolved_at, v.published_at, v.members, v.change)
            .where(v.incident_id == incident_id).order_by(v.version))
    ]
    decided = await connection.execute(select(decisions.c.document).where(decisions.c.incident_id == incident_id)
                                       .order_by(decisions.c.ts, decisions.c.id))
    notified = await connection.execute(
        select(notifications.c.document).where(notifications.c.incident_id == incident_id)
        .order_by(notifications.c.at, notifications.c.id))
    return IncidentDetail(
        incident=Incident.model_validate(document), timeline=timeline,
        decisions=[Decision.model_validate(doc) for doc in decided.scalars()],
        notifications=[NotificationRecord.model_validate(doc) for doc in notified.scalars()])


async def version(connection: AsyncConnection, incident_id: str, number: int) -> Incident | None:
    document = (await connection.execute(select(incident_versions.c.document).where(
        incident_versions.c.incident_id == incident_id, incident_versions.c.version == number))).scalar_one_or_none()
    return None if document is None else Incident.model_validate(document)



async def changes_after(connection: AsyncConnection, after: int, limit: int) -> list[tuple[int, Incident]]:
    """Versions written after change number `after`, in commit order, at most `limit` (a version retention
    deleted since is skipped)."""
    query = (select(incident_changes.c.seq, incident_versions.c.document)
             .join(incident_versions, and_(incident_versions.c.incident_id == incident_changes.c.incident_id,
                                           incident_versions.c.version == incident_changes.c.version))
             .where(incident_changes.c.seq > after).order_by(incident_changes.c.seq).limit(limit))
    rows = await connection.execute(query)
    return [(seq, Incident.model_validate(document)) for seq, document in rows.tuples()]


async def last_change(connection: AsyncConnection) -> int:
    """The newest change number (0: none yet)."""
    newest = (await connection.execute(select(func.max(incident_changes.c.seq)))).scalar_one_or_none()
    return int(newest or 0)
