"""Outbound incident contract: the versioned JSON published on the incidents topic and to receivers.

Each message is the full current state of one incident plus what changed (`change`), keyed by incident
id. `version` increases by one per change, and `idempotency_key` (``<id>:<version>``) lets receivers
drop duplicates delivered by at-least-once retries. Models only: building incidents is correlation's job.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from aiops.actions import ActionKind
from aiops.events import UtcDatetime
from aiops.signals import Evidence

INCIDENT_SCHEMA_VERSION = 1

Priority = Literal["P1", "P2", "P3", "P4", "P5"]
IncidentStatus = Literal["open", "updated", "resolved"]


class Member(BaseModel):
    """One alert or anomaly grouped into the incident, with its evidence."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fingerprint: str
    origin: Literal["metric_anomaly", "log_anomaly", "alert"]
    name: str
    service: str
    host: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    status: Literal["firing", "resolved"]
    severity: str
    first_seen: UtcDatetime
    last_seen: UtcDatetime
    summary: str = ""
    annotations: dict[str, str] = Field(default_factory=dict)
    evidence: Evidence | None = None
    joined_because: str = Field("", description="The rule that made this member join.")


class RootCauseCandidate(BaseModel):
    """A ranked probable root cause, with the share of each ranking factor."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    service: str
    host: str = ""
    score: float
    factors: dict[str, float] = Field(default_factory=dict)
    reason: str = ""


class PriorityFactor(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    factor: str
    value: str
    weight: float


class Explanation(BaseModel):
    """Why these members were grouped and why this priority."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    grouping: list[str] = Field(default_factory=list)
    priority: list[PriorityFactor] = Field(default_factory=list)
    summary: str = ""


class IncidentContext(BaseModel):
    """Ownership and runbook context from the service catalogue, when configured."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    owner: str | None = None
    team: str | None = Field(None, description="Set by an operator's `assign` action (as is `owner` then).")
    runbook: str | None = None
    tier: int | None = None
    links: dict[str, str] = Field(default_factory=dict)


class Change(BaseModel):
    """What changed since the previous version of the incident."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    added: list[str] = Field(default_factory=list, description="Fingerprints of members added.")
    resolved: list[str] = Field(default_factory=list, description="Fingerprints of members resolved.")
    removed: list[str] = Field(
        default_factory=list, description="Fingerprints of members that left (split out or unlinked by an operator).")
    reason: str = ""
    action: ActionKind | None = Field(None, description="The operator action this version records, if any.")
    action_id: str = Field("", description="That action's id (the API's 202 answer).")
    actor: str = Field("", description="Who asked for that action.")


class OperatorNote(BaseModel):
    """A note an operator added (`note` action), or the comment of another action."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    actor: str
    at: UtcDatetime = Field(description="Event time the action was applied.")
    text: str
    action_id: str


class Incident(BaseModel):
    """The full state of one incident at one version."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    schema_version: int = INCIDENT_SCHEMA_VERSION
    version: int = Field(ge=1, le=2**31 - 1, description="Starts at 1, one more per change; at most "
                         "2**31 - 1 (the incident store's integer column).")
    idempotency_key: str
    status: IncidentStatus
    priority: Priority
    title: str
    scope: str = Field(description="Correlation scope (partition key) the incident lives in.")
    services: list[str]
    hosts: list[str]
    first_seen: UtcDatetime
    last_seen: UtcDatetime
    resolved_at: UtcDatetime | None = None
    merged_into: str | None = Field(
        None, description="Set on the final `resolved` version of an incident merged into another one: the id "
        "of the incident that now holds its members (which goes on; see docs/events.md).")
    acknowledged_by: str | None = Field(None, description="Who acknowledged it (`acknowledge` action); null: not.")
    acknowledged_at: UtcDatetime | None = Field(None, description="Event time of that acknowledgement.")
    resolved_by: str | None = Field(None, description="Who resolved it by hand (`resolve` action); null otherwise.")
    snoozed_until: UtcDatetime | None = Field(
        None, description="Notifications held until then (event time; `snooze` action); resolves are still sent.")
    notes: list[OperatorNote] = Field(default_factory=list, description="Operator notes, the latest 20.")
    members: list[Member]
    members_truncated: int = Field(
        0, ge=0, description="Members of the incident this version leaves out (large incidents carry their "
        "earliest member per service and the members changed since the previous version).")
    root_cause: list[RootCauseCandidate] = Field(default_factory=list)
    explanation: Explanation = Field(default_factory=Explanation)
    context: IncidentContext = Field(default_factory=IncidentContext)
    change: Change = Field(default_factory=Change)
