"""The `Correlator` protocol: signals in, incident changes out, state held outside.

A correlator maps each signal to a scope (its partition key on the signals topic), applies it to that
scope's `ScopeState`, applies operator actions, and advances timers when event time moves. Keeping state
outside the correlator lets the runtime store it in a changelog-backed table and replay keep it in a dict,
with the same rules.
"""

from __future__ import annotations

from typing import Protocol

from aiops.actions import Action
from aiops.correlation.state import ScopeState
from aiops.incidents import Incident
from aiops.signals import Signal


class Correlator(Protocol):
    def scope_of(self, signal: Signal) -> str:
        """The correlation scope (partition key) the signal belongs to."""
        ...

    def process(self, state: ScopeState, signal: Signal) -> list[Incident]:
        """Apply one signal; return the incident changes it causes now."""
        ...

    def act(self, state: ScopeState | None, action: Action) -> list[Incident]:
        """Apply one operator action to its scope's state (None: unknown scope); the versions it causes."""
        ...

    def advance(self, state: ScopeState, now: float) -> list[Incident]:
        """Event time reached `now` in this scope; return the incident changes due."""
        ...

    def next_due(self, state: ScopeState) -> float:
        """The earliest event time at which `advance` may change this scope (-inf: any advance may; inf:
        none will until a signal or action arrives); early is allowed, late is not."""
        ...
