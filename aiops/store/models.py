"""What the incident store takes and gives: projection input, query filters, pages, details, counts.

Frozen models at the store's boundary, shared by every `IncidentStore` implementation and its callers (the
REST API, the CLI, the projector). Also the pure helpers the implementation needs: the opaque list cursor
(``last_seen`` and id of the last row, base64url JSON), an incident's list row (`summary_of`), the
lower-cased search text of an incident and the content-derived id of a notification record (the
notifications topic carries none, so a re-read record gets the same id). No database access here.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
from pydantic import BaseModel, ConfigDict, Field

from aiops.decisions import Decision
from aiops.errors import UsageError
from aiops.events import UtcDatetime
from aiops.incidents import Change, Incident, IncidentStatus, Priority
from aiops.sinks.notifications import NotificationRecord

MAX_PAGE_SIZE = 500
MAX_SEARCH_TEXT = 8000
"""Characters of an incident's search text kept (title, services, hosts and members come first)."""


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    """One incident version read from the incidents topic, with its record's broker timestamp if known."""

    incident: Incident
    published_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ProjectionBatch:
    """Records to write in one transaction; any order, duplicates allowed (writes are idempotent)."""

    incidents: Sequence[IncidentRecord] = ()
    decisions: Sequence[Decision] = ()
    notifications: Sequence[NotificationRecord] = ()

    def __len__(self) -> int:
        return len(self.incidents) + len(self.decisions) + len(self.notifications)


@dataclass(frozen=True, slots=True)
class ProjectionCounts:
    """Records handed to `project`, per kind (duplicates included: they change no row)."""

    versions: int = 0
    decisions: int = 0
    notifications: int = 0


class IncidentFilter(BaseModel):
    """List filters, all optional and combined with AND. `since`/`until` select incidents active in the
    window (``last_seen >= since`` and ``first_seen <= until``); `text` is a case-insensitive substring of the
    id, title, services, hosts, owner or member names and fingerprints (SQL LIKE, no ranking)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: tuple[IncidentStatus, ...] = ()
    priority: tuple[Priority, ...] = ()
    service: str | None = None
    team: str | None = None
    owner: str | None = None
    since: UtcDatetime | None = None
    until: UtcDatetime | None = None
    text: str | None = None


class IncidentSummary(BaseModel):
    """One row of a list page: the queryable columns of an incident's latest version."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    scope: str
    version: int
    status: IncidentStatus
    priority: Priority
    title: str
    services: list[str]
    owner: str | None = None
    team: str | None = None
    first_seen: UtcDatetime
    last_seen: UtcDatetime
    resolved_at: UtcDatetime | None = None
    merged_into: str | None = None
    members: int = Field(description="Members in the latest version (plus those it left out).")
    root_cause: str | None = Field(None, description="The top root-cause candidate: service or service/host.")
    acknowledged_by: str | None = Field(None, description="Who acknowledged it; null: not acknowledged.")


class IncidentPage(BaseModel):
    """A page of incidents, newest `last_seen` first; `next_cursor` is None on the last page."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    items: list[IncidentSummary]
    next_cursor: str | None = None


class TimelineEntry(BaseModel):
    """One version of an incident: what changed and its state then (the full version: `get_version`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int
    status: IncidentStatus
    priority: Priority
    last_seen: UtcDatetime
    resolved_at: UtcDatetime | None = None
    published_at: UtcDatetime | None = Field(None, description="Broker timestamp of its incidents-topic record.")
    members: int
    change: Change


class IncidentDetail(BaseModel):
    """An incident's latest version, its timeline (oldest first), decisions and notifications (by time)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    incident: Incident
    timeline: list[TimelineEntry]
    decisions: list[Decision]
    notifications: list[NotificationRecord]


@dataclass(frozen=True, slots=True)
class RetentionCounts:
    """Rows deleted by one retention pass."""

    incidents: int = 0
    versions: int = 0
    decisions: int = 0
    notifications: int = 0
    audit: int = 0


@dataclass(frozen=True, slots=True)
class StoreStats:
    """Row counts; `active` = incidents not resolved."""

    incidents: int = 0
    active: int = 0
    versions: int = 0
    decisions: int = 0
    notifications: int = 0
    audit: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


def encode_cursor(last_seen: datetime, incident_id: str) -> str:
    """The opaque cursor after the row (`last_seen`, `incident_id`)."""
    raw = orjson.dumps([last_seen.astimezone(UTC).isoformat(), incident_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """(`last_seen`, id) of a cursor made by `encode_cursor`; `UsageError` for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        when, incident_id = orjson.loads(raw)
        last_seen = datetime.fromisoformat(when)
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise UsageError("invalid cursor (pass back a next_cursor unchanged)") from None
    if last_seen.tzinfo is None or not isinstance(incident_id, str):
        raise UsageError("invalid cursor (pass back a next_cursor unchanged)")
    return last_seen.astimezone(UTC), incident_id


def search_text(incident: Incident) -> str:
    """Lower-cased words a text search matches: id, title, services, hosts, owner, members."""
    parts = [incident.id, incident.title, *incident.services, *incident.hosts, incident.context.owner or ""]
    for member in incident.members:
        parts += [member.name, member.fingerprint]
    return " ".join(part for part in parts if part).lower()[:MAX_SEARCH_TEXT]


def matches_text(incident: Incident, text: str) -> bool:
    """Whether `list_incidents` with ``IncidentFilter(text=text)`` finds this version: the lower-cased term
    is a substring of its search text (the SQL is ``search_text LIKE '%term%'``, escaped; tests compare)."""
    return text.lower() in search_text(incident)


def summary_of(incident: Incident) -> IncidentSummary:
    """The list row of one version, as `list_incidents` gives it once the version is stored (the live
    stream's event body)."""
    return IncidentSummary(
        id=incident.id, scope=incident.scope, version=incident.version, status=incident.status,
        priority=incident.priority, title=incident.title, services=list(incident.services),
        owner=incident.context.owner, team=team_of(incident), first_seen=incident.first_seen,
        last_seen=incident.last_seen, resolved_at=incident.resolved_at, merged_into=incident.merged_into,
        members=len(incident.members) + incident.members_truncated, root_cause=root_cause_of(incident),
        acknowledged_by=incident.acknowledged_by)


def root_cause_of(incident: Incident) -> str | None:
    """The top root-cause candidate as ``service`` or ``service/host``; None without candidates."""
    if not incident.root_cause:
        return None
    top = incident.root_cause[0]
    return f"{top.service}/{top.host}" if top.host else top.service


def team_of(incident: Incident) -> str | None:
    """The incident's team, when its context carries one (a later contract may add it)."""
    team = getattr(incident.context, "team", None)
    return team if isinstance(team, str) else None


def notification_id(record: NotificationRecord) -> str:
    """A content-derived key: the same record read twice gets the same id."""
    seed = "|".join((record.receiver, record.idempotency_key, str(record.attempt), record.outcome,
                     record.at.isoformat(), record.route, str(record.status_code)))
    return "ntf-" + hashlib.sha256(seed.encode()).hexdigest()[:24]
