"""`IncidentStore`: the interface the projector writes through and the API, CLI and benches read through.

One implementation exists (`aiops.store.sql.SqlIncidentStore`, SQLite or PostgreSQL); tests and callers
depend on this protocol only. Every method is a coroutine; none reads the clock (`apply_retention` takes
`now`). Writes are idempotent: projecting the same records twice, or older versions after newer ones,
leaves the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from aiops.incidents import Incident
from aiops.operator.audit import AuditEntry
from aiops.store.models import (
    IncidentDetail,
    IncidentFilter,
    IncidentPage,
    ProjectionBatch,
    ProjectionCounts,
    RetentionCounts,
    StoreStats,
)


class IncidentStore(Protocol):
    """Read model of incidents; see the module docstring and docs/ARCHITECTURE.md, "Incident store"."""

    async def open(self) -> None:
        """Connect and bring the schema to the latest migration (creating it on an empty database)."""

    async def close(self) -> None:
        """Release every connection."""

    async def reset(self) -> None:
        """Delete every projected row (incidents, versions, decisions, notifications) for a rebuild from the
        topics; the audit rows stay (they exist nowhere else) and the schema stays at the latest migration."""

    async def project(self, batch: ProjectionBatch) -> ProjectionCounts:
        """Write a batch in one transaction: versions and decisions/notifications inserted unless present,
        each incident's row replaced only by a newer version."""

    async def list_incidents(self, filters: IncidentFilter | None = None, *, cursor: str | None = None,
                             limit: int = 50) -> IncidentPage:
        """Incidents matching `filters`, newest ``last_seen`` first (ties: id descending), `limit` (1..500)
        per page; pass a page's `next_cursor` back for the next one (`UsageError` for a bad cursor)."""

    async def get_incident(self, incident_id: str) -> IncidentDetail | None:
        """The latest version with its timeline, decisions and notifications; None when unknown."""

    async def get_version(self, incident_id: str, version: int) -> Incident | None:
        """One full version of an incident; None when not stored."""

    async def changes_after(self, after: int, limit: int = 500) -> list[tuple[int, Incident]]:
        """(change number, version) of the versions newly written after change `after`, in commit order, at
        most `limit`: what every API instance's live stream follows, whichever projector wrote them."""

    async def last_change(self) -> int:
        """The newest change number (0: none yet); a follower starts there."""

    async def incident_scope(self, incident_id: str) -> str | None:
        """The correlation scope of the incident's latest version; None when unknown (the API's action route)."""

    async def open_incidents(self, limit: int = 1000) -> list[Incident]:
        """Latest versions of the incidents not resolved, newest ``last_seen`` first, at most `limit`
        (Alertmanager's /api/v2/alerts)."""

    async def record_audit(self, entry: AuditEntry) -> None:
        """Store one audit row."""

    async def record_audits(self, entries: Sequence[AuditEntry]) -> None:
        """Store audit rows in one transaction (the operator API's batching writer)."""

    async def record(self, entry: AuditEntry) -> None:
        """The same as `record_audit`: the store is the operator API's `aiops.operator.audit.AuditSink`."""

    async def list_audit(self, *, since: datetime | None = None, target: str | None = None,
                         limit: int = 100) -> list[AuditEntry]:
        """Audit rows, newest first; `target`: only those about this incident or silence id."""

    async def apply_retention(self, now: datetime) -> RetentionCounts:
        """Delete resolved incidents resolved before ``now - retention_days`` (with their versions, decisions,
        notifications), orphan decisions/notifications as old, and audit rows older than the audit retention."""

    async def stats(self) -> StoreStats:
        """Row counts."""
