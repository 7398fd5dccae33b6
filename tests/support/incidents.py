"""Builders of valid `Incident` objects for sink and runtime tests."""

from __future__ import annotations

from datetime import UTC, datetime

from aiops.incidents import Incident, Member

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def make_incident(incident_id: str = "inc-1", version: int = 1, status: str = "open") -> Incident:
    member = Member(
        fingerprint="fp-1",
        origin="alert",
        name="HighLatency",
        service="checkout",
        host="node-1",
        status="firing",
        severity="critical",
        first_seen=T0,
        last_seen=T0,
        summary="p99 latency above 2s",
    )
    return Incident.model_validate(
        {
            "id": incident_id,
            "version": version,
            "idempotency_key": f"{incident_id}:{version}",
            "status": status,
            "priority": "P2",
            "title": "checkout: HighLatency",
            "scope": "global",
            "services": ["checkout"],
            "hosts": ["node-1"],
            "first_seen": T0,
            "last_seen": T0,
            "members": [member],
        }
    )
