"""Correlation state: the serialisable working set of one correlation scope.

`ScopeState` holds the live (and recently resolved, reopenable) incidents of one scope, a fingerprint
index for dedup, the member types seen (novelty), the learned relation model's snapshot and the storm
guard's rate. It records which incidents and members changed (`dirty`), so a store can write only those
(O(1)-sized values per signal) and derived lookup indexes (`derived`) that are rebuilt, never stored.
Plain data with JSON round-trip; the rules that change it live in the correlator.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field, PrivateAttr

from aiops.signals import Evidence


class MemberState(BaseModel):
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
    _built: Any = PrivateAttr(default=None)


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


class StormState(BaseModel):
    active: bool = False
    since: float = 0.0
    last_active: float = 0.0
    rate: float = 0.0
    baseline: float = 0.0
    snapshot: dict[str, Any] | None = Field(None, description="The scope's StormGuard snapshot.")


@dataclass
class Dirty:
    """What changed since the store last saved this state (not serialised)."""

    incidents: set[str] = field(default_factory=set)
    members: dict[tuple[str, str], None] = field(default_factory=dict)
    """(incident id, member key) in the order first touched: a store writes new members in join order."""
    removed: dict[str, list[str]] = field(default_factory=dict)
    meta: bool = False
    types: bool = False
    relations: bool = False

    def data(self) -> bool:
        """Whether anything beyond the scope's small fields (clock) changed."""
        return bool(self.incidents or self.members or self.removed or self.types or self.relations)

    def clear(self) -> None:
        self.incidents.clear()
        self.members.clear()
        self.removed.clear()
        self.meta = self.types = self.relations = False


class ScopeState(BaseModel):
    scope: str
    clock: float = 0.0
    incidents: dict[str, IncidentState] = Field(default_factory=dict)
    index: dict[str, str] = Field(default_factory=dict, description="member fingerprint -> incident id")
    seen_types: dict[str, float] = Field(default_factory=dict, description="member type -> first seen")
    relations: dict[str, Any] | None = Field(None, description="Learned relation model snapshot.")
    storm: StormState = Field(default_factory=StormState)
    _dirty: Dirty = PrivateAttr(default_factory=Dirty)
    _derived: Any = PrivateAttr(default=None)
    _model: Any = PrivateAttr(default=None)
    _storm: Any = PrivateAttr(default=None)
    _due: Any = PrivateAttr(default=None)
    _learn_pending: bool = PrivateAttr(default=False)
    _saved_clock: float | None = PrivateAttr(default=None)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ScopeState):
            return NotImplemented
        return self.model_dump() == other.model_dump()

    __hash__ = None  # type: ignore[assignment]

    @property
    def saved_clock(self) -> float:
        """The clock value last written to the store (the loaded one until the first save)."""
        return self.clock if self._saved_clock is None else self._saved_clock

    @saved_clock.setter
    def saved_clock(self, value: float) -> None:
        self._saved_clock = value

    @property
    def dirty(self) -> Dirty:
        return self._dirty

    def touch(self, incident_id: str, fingerprint: str | None = None) -> None:
        self._dirty.incidents.add(incident_id)
        if fingerprint is not None:
            self._dirty.members[(incident_id, fingerprint)] = None

    def meta_fields(self) -> dict[str, Any]:
        """The scope's own small fields (clock, storm), stored under the scope key."""
        return self.model_dump(mode="json", exclude={"incidents", "index", "seen_types", "relations"})


class StateStore(Protocol):
    """Where scope states live: a dict in replay and tests, a Faust table in the worker."""

    def load(self, scope: str) -> ScopeState | None: ...

    def save(self, state: ScopeState) -> None: ...

    def scopes(self) -> Iterator[str]: ...


class InMemoryStore:
    """A dict-backed `StateStore` (replay, eval, unit tests)."""

    def __init__(self) -> None:
        self._states: dict[str, ScopeState] = {}

    def load(self, scope: str) -> ScopeState | None:
        return self._states.get(scope)

    def save(self, state: ScopeState) -> None:
        state.dirty.clear()
        self._states[state.scope] = state

    def scopes(self) -> Iterator[str]:
        return iter(list(self._states))
