"""The incident store's tables (SQLAlchemy Core), as the latest migration creates them.

`incidents` holds the latest version of each incident with its queryable columns and the full document;
`incident_services` one row per (service, incident) with the incident's ``last_seen``, status and priority
(so a service filter walks its own index, newest first); `incident_versions` every version, key (id,
version); `decisions`, `notifications` (key: a content hash, `aiops.store.models.notification_id`),
`audit`, and `incident_changes` (the change feed: each newly written version numbered in commit order). No
foreign keys: records of one incident may arrive in any order. `UtcDateTime` stores aware UTC datetimes on
both backends (SQLite keeps naive UTC text) and gives them back aware. The migrations in
`migrations/versions/` must create exactly this (a test compares them), plus the backend's free-text
search index (an FTS5 table on SQLite, a pg_trgm index on PostgreSQL: `aiops.store.search`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Dialect, Index, Integer, MetaData, String, Table, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

metadata = MetaData()


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the incident store")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Document: Any = JSON().with_variant(JSONB(), "postgresql")

incidents = Table(
    "incidents", metadata,
    Column("id", String(), primary_key=True),
    Column("scope", String(), nullable=False),
    Column("version", Integer, nullable=False),
    Column("status", String(), nullable=False),
    Column("priority", String(), nullable=False),
    Column("title", Text, nullable=False),
    Column("services", Text, nullable=False, doc="Services joined by '|', also '|' before and after."),
    Column("owner", String()),
    Column("team", String()),
    Column("first_seen", UtcDateTime, nullable=False),
    Column("last_seen", UtcDateTime, nullable=False),
    Column("resolved_at", UtcDateTime),
    Column("merged_into", String()),
    Column("members", Integer, nullable=False),
    Column("search_text", Text, nullable=False),
    Column("document", Document, nullable=False),
    Column("root_cause", String(), doc="The top root-cause candidate, service or service/host (migration 0003)."),
    Column("acknowledged_by", String()),
    Index("ix_incidents_last_seen", "last_seen", "id"),
    Index("ix_incidents_status_last_seen", "status", "last_seen", "id"),
    Index("ix_incidents_priority_last_seen", "priority", "last_seen", "id"),
    Index("ix_incidents_team_last_seen", "team", "last_seen"),
    Index("ix_incidents_owner_last_seen", "owner", "last_seen"),
    Index("ix_incidents_resolved_at", "resolved_at"),
)

incident_services = Table(
    "incident_services", metadata,
    Column("service", String(), primary_key=True),
    Column("incident_id", String(), primary_key=True),
    Column("last_seen", UtcDateTime, nullable=False),
    Column("status", String(), nullable=False),
    Column("priority", String(), nullable=False),
    Index("ix_incident_services_service_last_seen", "service", "last_seen", "incident_id"),
    Index("ix_incident_services_service_status", "service", "status", "priority", "last_seen", "incident_id"),
    Index("ix_incident_services_incident", "incident_id"),
)

incident_versions = Table(
    "incident_versions", metadata,
    Column("incident_id", String(), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("status", String(), nullable=False),
    Column("priority", String(), nullable=False),
    Column("last_seen", UtcDateTime, nullable=False),
    Column("resolved_at", UtcDateTime),
    Column("published_at", UtcDateTime),
    Column("members", Integer, nullable=False),
    Column("change", Document, nullable=False),
    Column("document", Document, nullable=False),
)

decisions = Table(
    "decisions", metadata,
    Column("id", String(), primary_key=True),
    Column("incident_id", String(), nullable=False),
    Column("kind", String(), nullable=False),
    Column("ts", UtcDateTime, nullable=False),
    Column("document", Document, nullable=False),
    Index("ix_decisions_incident_ts", "incident_id", "ts"),
    Index("ix_decisions_ts", "ts"),
)

notifications = Table(
    "notifications", metadata,
    Column("id", String(), primary_key=True),
    Column("incident_id", String(), nullable=False),
    Column("version", Integer, nullable=False),
    Column("receiver", String(), nullable=False),
    Column("outcome", String(), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("document", Document, nullable=False),
    Index("ix_notifications_incident_at", "incident_id", "at"),
    Index("ix_notifications_at", "at"),
)

audit = Table(
    "audit", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(), nullable=False),
    Column("role", String(), nullable=False),
    Column("remote", String(), nullable=False),
    Column("method", String(), nullable=False),
    Column("path", Text, nullable=False),
    Column("status", Integer, nullable=False),
    Column("outcome", String(), nullable=False),
    Column("target", String(), nullable=False),
    Column("action_id", String(), nullable=False),
    Column("detail", Text, nullable=False),
    Index("ix_audit_at", "at"),
    Index("ix_audit_target_at", "target", "at"),
)

incident_changes = Table(
    "incident_changes", metadata,
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True,
           doc="Commit order of the versions written (migration 0004); never reused."),
    Column("incident_id", String(), nullable=False),
    Column("version", Integer, nullable=False),
    sqlite_autoincrement=True,
)

ALL_TABLES = (incidents, incident_services, incident_versions, decisions, notifications, audit, incident_changes)
