"""The notifications-topic record and the per-receiver repeat throttle. Models and pure state only.

`NotificationRecord` is one line of the delivery audit trail on `delivery.notifications_topic`
(default ``aiops.notifications``), keyed by incident id: one record per attempt (`attempt_failed`,
`delivered`, `rejected`) plus final records (`expired`, `dead_lettered`, `fallback_delivered`) and
skips (`muted`, `suppressed`). ITSM tools consume it (docs/integrations.md). `RepeatThrottle` decides
whether an `updated` version may be sent under a route's ``repeat_interval_seconds`` (in-memory, per
worker; after a restart it errs on the side of sending). Publishing is `aiops.runtime.delivery`'s job.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from aiops.events import UtcDatetime
from aiops.incidents import Incident

NOTIFICATION_SCHEMA_VERSION = 1
NotificationOutcome = Literal[
    "delivered", "attempt_failed", "rejected", "expired", "dead_lettered", "fallback_delivered", "muted",
    "suppressed",
]


class NotificationRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = NOTIFICATION_SCHEMA_VERSION
    receiver: str
    receiver_kind: str
    incident_id: str
    version: int
    idempotency_key: str
    incident_status: str
    priority: str
    attempt: int = Field(description="1-based attempt number; 0 for records that are not attempts.")
    outcome: NotificationOutcome
    status_code: int | None = None
    latency_ms: float | None = Field(None, description="Duration of this attempt.")
    error: str | None = Field(None, description="Redacted error text (never URLs with secrets).")
    route: str = ""
    at: UtcDatetime


def notification(
    incident: Incident, receiver: str, kind: str, outcome: NotificationOutcome, at: datetime, *,
    attempt: int = 0, status_code: int | None = None, latency_s: float | None = None, error: str | None = None,
    route: str = "",
) -> NotificationRecord:
    return NotificationRecord(
        receiver=receiver, receiver_kind=kind, incident_id=incident.id, version=incident.version,
        idempotency_key=incident.idempotency_key, incident_status=incident.status, priority=incident.priority,
        attempt=attempt, outcome=outcome, status_code=status_code,
        latency_ms=None if latency_s is None else round(latency_s * 1000.0, 3),
        error=None if error is None else error[:500], route=route, at=at,
    )


class RepeatThrottle:
    """Last notified (event time, priority) per incident id, bounded LRU."""

    def __init__(self, max_incidents: int = 10_000) -> None:
        self.max_incidents = max_incidents
        self._last: OrderedDict[str, tuple[datetime, str]] = OrderedDict()

    def allows(self, incident: Incident, repeat_interval_seconds: float) -> bool:
        """`open`, `resolved`, an operator action's version, a raised priority and an elapsed interval always
        pass."""
        if repeat_interval_seconds <= 0 or incident.status != "updated" or incident.change.action is not None:
            return True
        last = self._last.get(incident.id)
        if last is None:
            return True
        when, priority = last
        if int(incident.priority[1:]) < int(priority[1:]):
            return True
        return (incident.last_seen - when).total_seconds() >= repeat_interval_seconds

    def sent(self, incident: Incident) -> None:
        self._last[incident.id] = (incident.last_seen, incident.priority)
        self._last.move_to_end(incident.id)
        while len(self._last) > self.max_incidents:
            self._last.popitem(last=False)
