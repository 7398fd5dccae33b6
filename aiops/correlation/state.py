"""Correlation state: the serialisable working set of one correlation scope.

`ScopeState` holds the live incidents of one scope (and a fingerprint index for dedup). It is what the
runtime stores per key in its changelog-backed table and what replay keeps in a dict. Plain data with
JSON round-trip; the rules that change it live in the correlator.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal, Protocol

from pydantic import BaseModel, Field

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
    members: dict[str, MemberState] = Field(default_factory=dict)
    pending_added: list[str] = Field(default_factory=list)
    pending_resolved: list[str] = Field(default_factory=list)
    grouping: list[str] = Field(default_factory=list)

    @property
    def active_members(self) -> int:
        return sum(1 for member in self.members.values() if member.status == "firing")

    @property
    def services(self) -> list[str]:
        return sorted({member.service for member in self.members.values()})


class ScopeState(BaseModel):
    scope: str
    clock: float = 0.0
    incidents: dict[str, IncidentState] = Field(default_factory=dict)
    index: dict[str, str] = Field(default_factory=dict, description="member fingerprint -> incident id")


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
        self._states[state.scope] = state

    def scopes(self) -> Iterator[str]:
        return iter(list(self._states))
