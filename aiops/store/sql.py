"""`SqlIncidentStore`: the `IncidentStore` over SQLAlchemy's async engine, for SQLite and PostgreSQL.

One class for ``sqlite+aiosqlite:///PATH`` and ``postgresql+psycopg://...`` URLs: `open` creates the engine
(SQLite in WAL mode with a busy timeout, so the projector writes while the API reads) and runs the
migrations (then notes the free-text search index they could make, `aiops.store.search`); each method
takes a connection from the pool. Writes and reads live in `aiops.store.writes` and `aiops.store.queries`.
A database that cannot be reached raises `StoreUnavailableError` naming the URL without its password. An
in-memory SQLite URL is not supported (each pooled connection would see its own database).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import delete, event, func, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from aiops.errors import ConfigError, StoreUnavailableError
from aiops.incidents import Incident
from aiops.operator.audit import AuditEntry
from aiops.store import queries
from aiops.store.migrate import migrate
from aiops.store.models import (
    IncidentDetail,
    IncidentFilter,
    IncidentPage,
    ProjectionBatch,
    ProjectionCounts,
    RetentionCounts,
    StoreStats,
)
from aiops.store.schema import ALL_TABLES, audit, incidents
from aiops.store.search import SearchIndex, detect_search_index
from aiops.store.writes import delete_expired, write_batch

SUPPORTED_DRIVERS = {"sqlite+aiosqlite", "postgresql+psycopg"}
SQLITE_BUSY_TIMEOUT_MS = 10_000
PROJECTED_TABLES = tuple(table for table in ALL_TABLES if table is not audit)
"""What `reset` empties: every table the topics can rebuild (the audit exists nowhere else)."""


def parse_url(url: str) -> URL:
    """The URL, checked to name a supported async driver; `ConfigError` (without the password) otherwise."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError("store.url is not a database URL (e.g. sqlite+aiosqlite:///aiops-store.db)") from None
    if parsed.drivername not in SUPPORTED_DRIVERS:
        raise ConfigError(f"store.url: driver {parsed.drivername!r} is not supported; use one of "
                          f"{sorted(SUPPORTED_DRIVERS)}")
    if parsed.drivername.startswith("sqlite") and parsed.database in (None, "", ":memory:"):
        raise ConfigError("store.url: an in-memory SQLite store is not supported; give a file path")
    return parsed


def shown_url(url: str | URL) -> str:
    """The URL with its password hidden, for logs and messages."""
    return (url if isinstance(url, URL) else make_url(url)).render_as_string(hide_password=True)


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def create_engine(url: str) -> AsyncEngine:
    """An async engine for a supported URL (SQLite gets its pragmas on every new connection)."""
    parsed = parse_url(url)
    engine = create_async_engine(parsed, json_serializer=_dumps, json_deserializer=orjson.loads,
                                 pool_pre_ping=not parsed.drivername.startswith("sqlite"))
    if parsed.drivername.startswith("sqlite"):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


class SqlIncidentStore:
    """The incident store on one database; see the module docstring and `aiops.store.protocol`."""

    def __init__(self, url: str, *, retention_days: float = 30.0, audit_retention_days: float = 365.0) -> None:
        self.url = url
        self.retention_days = retention_days
        self.audit_retention_days = audit_retention_days
        self._engine: AsyncEngine | None = None
        self._search: SearchIndex = "none"

    @property
    def shown_url(self) -> str:
        return shown_url(self.url)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @property
    def search_index(self) -> SearchIndex:
        """The free-text search index the database has (``none``: search scans with LIKE)."""
        return self._search

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise StoreUnavailableError("the incident store is not open (yet): its migration has not succeeded")
        return self._engine

    async def open(self) -> None:
        if self._engine is None:
            self._engine = create_engine(self.url)
        try:
            await migrate(self._engine)
            await self._detect_search_index()
        except (OperationalError, InterfaceError, OSError) as error:
            await self.close()
            raise StoreUnavailableError(f"cannot open the incident store at {self.shown_url}: "
                                        f"{_first_line(error)}") from None

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None

    async def reset(self) -> None:
        """Delete every row of `PROJECTED_TABLES` in one transaction (the search index follows `incidents`);
        the schema stays at the latest migration and `audit` keeps its rows."""
        await migrate(self.engine)
        async with self.engine.begin() as connection:
            for table in PROJECTED_TABLES:
                await connection.execute(delete(table))
        await self._detect_search_index()

    async def _detect_search_index(self) -> None:
        async with self.engine.connect() as connection:
            self._search = await connection.run_sync(detect_search_index)

    async def project(self, batch: ProjectionBatch) -> ProjectionCounts:
        if len(batch):
            async with self.engine.begin() as connection:
                await write_batch(connection, batch)
        return ProjectionCounts(versions=len(batch.incidents), decisions=len(batch.decisions),
                                notifications=len(batch.notifications))

    async def list_incidents(self, filters: IncidentFilter | None = None, *, cursor: str | None = None,
                             limit: int = 50) -> IncidentPage:
        async with self.engine.connect() as connection:
            return await queries.list_page(connection, filters or IncidentFilter(), cursor, limit, self._search)

    async def get_incident(self, incident_id: str) -> IncidentDetail | None:
        async with self.engine.connect() as connection:
            return await queries.detail(connection, incident_id)

    async def get_version(self, incident_id: str, version: int) -> Incident | None:
        async with self.engine.connect() as connection:
            return await queries.version(connection, incident_id, version)

    async def changes_after(self, after: int, limit: int = 500) -> list[tuple[int, Incident]]:
        async with self.engine.connect() as connection:
            return await queries.changes_after(connection, after, limit)

    async def last_change(self) -> int:
        async with self.engine.connect() as connection:
            return await queries.last_change(connection)

    async def incident_scope(self, incident_id: str) -> str | None:
        query = select(incidents.c.scope).where(incidents.c.id == incident_id)
        async with self.engine.connect() as connection:
            scope: str | None = (await connection.execute(query)).scalar_one_or_none()
            return scope

    async def open_incidents(self, limit: int = 1000) -> list[Incident]:
        query = (select(incidents.c.document).where(incidents.c.status.in_(("open", "updated")))
                 .order_by(incidents.c.last_seen.desc(), incidents.c.id.desc()).limit(limit))
        async with self.engine.connect() as connection:
            return [Incident.model_validate(document) for document in (await connection.execute(query)).scalars()]

    async def record_audit(self, entry: AuditEntry) -> None:
        await self.record_audits([entry])

    async def record_audits(self, entries: Sequence[AuditEntry]) -> None:
        if entries:
            async with self.engine.begin() as connection:
                await connection.execute(audit.insert(), [entry.model_dump() for entry in entries])

    async def record(self, entry: AuditEntry) -> None:
        """`aiops.operator.audit.AuditSink`: the same as `record_audit`."""
        await self.record_audit(entry)

    async def list_audit(self, *, since: datetime | None = None, target: str | None = None,
                         limit: int = 100) -> list[AuditEntry]:
        query = select(*(c for c in audit.columns if c.name != "seq")).order_by(audit.c.seq.desc()).limit(limit)
        if since is not None:
            query = query.where(audit.c.at >= since)
        if target is not None:
            query = query.where(audit.c.target == target)
        async with self.engine.connect() as connection:
            rows = await connection.execute(query)
            return [AuditEntry.model_validate(dict(row._mapping)) for row in rows]

    async def apply_retention(self, now: datetime) -> RetentionCounts:
        async with self.engine.begin() as connection:
            return await delete_expired(connection, now, self.retention_days, self.audit_retention_days)

    async def stats(self) -> StoreStats:
        async with self.engine.connect() as connection:
            counts = {table.name: (await connection.execute(select(func.count()).select_from(table))).scalar_one()
                      for table in ALL_TABLES}
            by_status: dict[str, int] = dict((await connection.execute(
                select(incidents.c.status, func.count()).group_by(incidents.c.status))).tuples().all())
        return StoreStats(
            incidents=counts["incidents"], active=sum(n for status, n in by_status.items() if status != "resolved"),
            versions=counts["incident_versions"], decisions=counts["decisions"],
            notifications=counts["notifications"], audit=counts["audit"], by_status=by_status)


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error)
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__
