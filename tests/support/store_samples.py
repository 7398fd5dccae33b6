"""Incidents, decisions and notification records for the incident store tests, and a table snapshot.

`incident(n, version, ...)` builds version `version` of incident ``inc-<n>`` (last seen `n` minutes after
`BASE` plus `version` seconds, so a newer version is seen later); `decision` and `notification_of` the records
the other two topics carry about it. `snapshot(store)` reads every row of every table (audit's sequence
number left out) in key order, to compare two stores or one store before and after.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from aiops.decisions import Decision, decision_id
from aiops.incidents import Incident, IncidentContext, Member
from aiops.sinks.notifications import NotificationRecord, notification
from aiops.store.schema import ALL_TABLES
from aiops.store.sql import SqlIncidentStore

BASE = datetime(2026, 3, 1, tzinfo=UTC)


def incident(n: int, version: int = 1, *, status: str = "open", priority: str = "P2",
             services: tuple[str, ...] = ("checkout", "payments"), minutes: float | None = None,
             owner: str | None = None, title: str | None = None, member: str = "HighLatency") -> Incident:
    seen = BASE + timedelta(minutes=n if minutes is None else minutes)
    last = seen + timedelta(seconds=version)
    members = [Member(fingerprint=f"fp-{n}-{service}", origin="alert", name=member, service=service,
                      status="resolved" if status == "resolved" else "firing", severity="critical",
                      first_seen=seen, last_seen=last) for service in services]
    return Incident(
        id=f"inc-{n}", version=version, idempotency_key=f"inc-{n}:{version}", status=status,  # type: ignore[arg-type]
        priority=priority, title=title or f"Latency on {services[0]} #{n}", scope="default",  # type: ignore[arg-type]
        services=list(services), hosts=[f"host-{n}"], first_seen=seen, last_seen=last,
        resolved_at=last if status == "resolved" else None, members=members,
        context=IncidentContext(owner=owner))


def decision(incident_: Incident, kind: str = "joined", seconds: float = 0.0) -> Decision:
    ts = incident_.first_seen + timedelta(seconds=seconds)
    return Decision(id=decision_id(incident_.id, "", kind, ts.timestamp()), ts=ts, scope=incident_.scope,
                    incident_id=incident_.id, kind=kind, rule="group_by")  # type: ignore[arg-type]


def notification_of(incident_: Incident, receiver: str = "pager", outcome: str = "delivered",
                    attempt: int = 1) -> NotificationRecord:
    at = incident_.last_seen + timedelta(seconds=2)
    return notification(incident_, receiver, "pagerduty", outcome, at, attempt=attempt)  # type: ignore[arg-type]


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


async def snapshot(store: SqlIncidentStore) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in key order (audit and the change feed: without their sequence numbers; the
    change feed's rows sorted, since its order is the commit order, which a rebuild need not reproduce)."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    async with store.engine.connect() as connection:
        for table in ALL_TABLES:
            columns = [c for c in table.columns if c.name != "seq"]
            keys = list(table.primary_key.columns) if table.name not in ("audit", "incident_changes") else columns
            result = await connection.execute(select(*columns).order_by(*keys))
            rows[table.name] = [tuple(_plain(v) for v in row) for row in result]
    return rows
