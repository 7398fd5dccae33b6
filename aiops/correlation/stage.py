"""Correlation stage: applies signals and watermarks to per-scope state held in a `StateStore`.

Loads the scope's state, lets the `Correlator` apply the signal (or advance event time for every scope of
the store), and saves the state back. The same class runs in replay (dict store) and in the Faust agent
(table store restricted to one partition). No rules here: they live in the correlator.
"""

from __future__ import annotations

from aiops.correlation.base import Correlator
from aiops.correlation.state import ScopeState, StateStore
from aiops.incidents import Incident
from aiops.signals import Signal


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
        return out

    def advance(self, now: float) -> list[Incident]:
        out: list[Incident] = []
        for scope in self.store.scopes():
            state = self.store.load(scope)
            if state is None:
                continue
            changes = self.correlator.advance(state, now)
            if changes or state.dirty.data() or state.clock != now:
                self.store.save(state)
            out.extend(changes)
        return out
