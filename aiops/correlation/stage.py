"""Correlation stage: applies signals and watermarks to per-scope state held in a `StateStore`.

Loads the scope's state, lets the `Correlator` apply the signal or operator action (or advance event time
for every scope of the store), and saves the state back. A watermark that changes nothing but the scope's
event-time clock saves the scope at most once per `CLOCK_SAVE_INTERVAL_SECONDS` of event time: with
thousands of quiet scopes, a table write per scope per watermark would dominate the stage (a restarted
worker's clock may lag by that much until the next watermark, which only moves it forward). The same class
runs in replay (dict store) and in the correlation worker (one `PartitionScopes` store per signals
partition). No rules here: they live in the correlator.
"""

from __future__ import annotations

from aiops.actions import Action
from aiops.correlation.base import Correlator
from aiops.correlation.state import ScopeState, StateStore
from aiops.incidents import Incident
from aiops.signals import Signal

CLOCK_SAVE_INTERVAL_SECONDS = 60.0


class CorrelationStage:
    """Applies signals and watermarks to per-scope state held in a `StateStore`."""

    def __init__(self, correlator: Correlator, store: StateStore) -> None:
        self.correlator = correlator
        self.store = store

    def process(self, signal: Signal) -> list[Incident]:
        scope = self.correlator.scope_of(signal)
        state = self.store.load(scope) or ScopeState(scope=scope)
        out = self.correlator.process(state, signal)
        self.store.save(state)
        state.saved_clock = state.clock
        return out

    def act(self, action: Action) -> list[Incident]:
        """Apply an operator action at its scope's event-time clock (see `correlation.operator`)."""
        state = self.store.load(action.scope)
        out = self.correlator.act(state, action)
        if state is not None:
            self.store.save(state)
            state.saved_clock = state.clock
        return out

    def advance(self, now: float) -> list[Incident]:
        out: list[Incident] = []
        for scope in self.store.scopes():
            state = self.store.load(scope)
            if state is None:
                continue
            changes = self.correlator.advance(state, now)
            if changes or state.dirty.data() or abs(state.clock - state.saved_clock) >= CLOCK_SAVE_INTERVAL_SECONDS:
                self.store.save(state)
                state.saved_clock = state.clock
            out.extend(changes)
        return out
