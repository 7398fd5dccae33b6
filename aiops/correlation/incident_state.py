"""The working state of one incident and its members: plain, serialisable data (JSON round-trip).

`IncidentState` is what the engine keeps of an incident between signals (status, timers, members, what
changed since the last version, why members joined); `MemberState` one member with its status history.
The rules that change them live in the engine, the lifecycle and the guards; the scope they belong to is
`state.ScopeState`. A member also keeps the outbound `Member` last built from it (`builder`), a cache in a
plain slot: not serialised, not compared, dropped by a copy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from aiops.incidents import Member
from aiops.signals import Evidence

BuiltMember = tuple[tuple[str, float, int], Member, Evidence | None]
"""((status, last_seen, id(evidence)), the outbound member, the evidence it was built with)."""


class MemberState(BaseModel):
    __slots__ = ("_built",)
    if TYPE_CHECKING:
        _built: BuiltMember | None

    fingerprint: str
    origin: Literal["metric_anomaly", "log_anomaly", "alert"]
    name: str
    service: str
    host: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    status: Literal["firing", "resolved"]
    severity: str
    first_seen: float
    last_seen: float
    summary: str = ""
    annotations: dict[str, str] = Field(default_factory=dict)
    evidence: Evidence | None = None
    joined_because: str = ""
    member_type: str = ""
    transitions: list[float] = Field(default_factory=list, description="Recent status-change times.")
    flapping: bool = False
    suppressed_by: str = Field("", description="rule:ref of the suppression holding this member, if any.")

    @property
    def built(self) -> BuiltMember | None:
        """The outbound member last built from this one (see `builder`), if any."""
        try:
            return self._built
        except AttributeError:  # never built (the slot starts empty; a copy starts without it)
            return None

    @built.setter
    def built(self, value: BuiltMember) -> None:
        object.__setattr__(self, "_built", value)


class IncidentState(BaseModel):
    id: str
    scope: str
    status: Literal["pending", "open", "resolved"] = "pending"
    version: int = 0
    first_seen: float
    last_seen: float
    last_resolve: float = 0.0
    last_notified: float = 0.0
    resolved_at: float | None = None
    opened_at: float | None = Field(None, description="Event time its first `open` was sent (None: not yet).")
    members: dict[str, MemberState] = Field(default_factory=dict)
    pending_added: list[str] = Field(default_factory=list)
    pending_resolved: list[str] = Field(default_factory=list)
    grouping: list[str] = Field(default_factory=list)
    group_key: str = ""
    merged_keys: list[str] = Field(default_factory=list, description="Group keys of incidents merged into this one.")
    notified: bool = Field(False, description="Receivers know this incident (its open was sent).")
    held_by: str = Field("", description="Suppression currently holding its notifications (rule:ref).")
    reopened: int = 0
    notes: list[str] = Field(default_factory=list, description="Decision summaries for the explanation.")

    @property
    def active_members(self) -> int:
        return sum(1 for member in self.members.values() if member.status == "firing")

    @property
    def services(self) -> list[str]:
        return sorted({member.service for member in self.members.values()})

    @property
    def nodes(self) -> set[str]:
        """Topology nodes the incident touches: its services and hosts."""
        found = {member.service for member in self.members.values()}
        found.update(member.host for member in self.members.values() if member.host)
        return found
