"""Correlation stage: applies signals and watermarks to per-scope state held in a `StateStore`.

A signal received is held (`hold.SignalHold`, the store's) until event time passes it; a watermark moves
event time in whole-second steps (`advance`), each releasing the held signals before it in their
content-derived order, then advancing the scopes due by then. Applying one loads
the scope's state, lets the `Correlator` apply the signal or operator action (or advance event time), and
saves the state back. A watermark that changes nothing but the scope's
event-time clock saves the scope at most once per `CLOCK_SAVE_INTERVAL_SECONDS` of event time: with
thousands of quiet scopes, a table write per scope per watermark would dominate the stage (a restarted
worker's clock may lag by that much until the next watermark, which only moves it forward). The same class
runs in replay (dict store) and in the correlation worker (one `PartitionScopes` store per signals
partition). No rules here: they live in the correlator.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable

from aiops.actions import Action
from aiops.correlation.base import Correlator
from aiops.correlation.hold import HeldSignal
from aiops.correlation.state import ScopeState, StateStore
from aiops.incidents import Incident
from aiops.signals import Signal

CLOCK_SAVE_INTERVAL_SECONDS = 60.0
HeldError = Callable[[HeldSignal, Exception], None]
"""What to do with a held signal whose application raised (the worker dead-letters it)."""


class CorrelationStage:
    """Applies signals and watermarks to per-scope state held in a `StateStore`."""

    def __init__(self, correlator: Correlator, store: StateStore) -> None:
        self.correlator = correlator
        self.store = store
        self._received = 0
        self._indexed = False
        self._due: dict[str, float] = {}
        self._dues: list[tuple[float, str]] = []

    def receive(self, signal: Signal, raw: bytes | None = None, ident: int | None = None) -> list[Incident]:
        """Hold `signal` until a watermark passes it (its JSON `raw`, default re-encoded; `ident`: its signals
        offset, default a sequence number); a late one is applied now, its incident changes returned."""
        hold = self.store.hold
        if hold.hold(signal, signal.model_dump_json().encode() if raw is None else raw,
                     self._sequence() if ident is None else ident):
            return []
        return self.process(signal)

    def _sequence(self) -> int:
        self._received += 1
        return self._received

    def process(self, signal: Signal) -> list[Incident]:
        """Apply one signal now (see `receive`, which holds it until its turn)."""
        scope = self.correlator.scope_of(signal)
        state = self.store.load(scope) or ScopeState(scope=scope)
        out = self.correlator.process(state, signal)
        self.store.save(state)
        state.saved_clock = state.clock
        self._note(state)
        return out

    def act(self, action: Action) -> list[Incident]:
        """Apply an operator action at its scope's event-time clock (see `correlation.operator`)."""
        state = self.store.load(action.scope)
        out = self.correlator.act(state, action)
        if state is not None:
            self.store.save(state)
            state.saved_clock = state.clock
            self._note(state)
        return out

    def advance(self, now: float, on_error: HeldError | None = None, out: list[Incident] | None = None
                ) -> list[Incident]:
        """Event time reached `now`: step through the whole seconds up to it at which something happens (a held
        signal's turn, a scope's due time), at each releasing the held signals before it in their order, then
        advancing the scopes due by then (every scope at the last step). So the outcome depends on the signals
        and `now`, not on which watermarks came in between (a worker catching up jumps; replay ticks per
        event). `on_error(held, error)`: a held signal that raised (default: re-raise). `out`: the list the
        changes are appended to (and returned), so a caller keeps those of the steps taken when one raises."""
        target = float(math.floor(now))
        out = [] if out is None else out
        while (step := self._next_step(target)) is not None:
            self._step(step, step == target, on_error, out)
        return out

    def _next_step(self, target: float) -> float | None:
        """The next whole second to step to (None: `target` is reached)."""
        hold = self.store.hold
        done = hold.released_to
        if done >= target:
            return None
        earliest = hold.earliest()  # released once a step is past it
        wake = math.ceil(math.nextafter(earliest, math.inf)) if earliest < math.inf else math.inf
        due = self._earliest_due()
        if due < wake:
            wake = due if due == -math.inf else math.ceil(due)
        first = done + 1 if done > -math.inf else -math.inf
        step = max(float(wake), first)
        return min(step, target) if step > -math.inf else target

    def _step(self, step: float, last: bool, on_error: HeldError | None, out: list[Incident]) -> None:
        for held in self.store.hold.release(step):
            try:
                out.extend(self.process(held.signal))
            except Exception as error:
                if on_error is None:
                    raise
                on_error(held, error)
        if last:
            out.extend(self.advance_scopes(step))
            return
        for scope in self._pop_due(step):
            state = self.store.load(scope)
            if state is not None:
                out.extend(self._advance_scope(state, step))

    def advance_scopes(self, now: float) -> list[Incident]:
        """Advance every scope to `now` (the held signals before it released first: see `advance`)."""
        out: list[Incident] = []
        for scope in self.store.scopes():
            state = self.store.load(scope)
            if state is not None:
                out.extend(self._advance_scope(state, now))
        return out

    def _advance_scope(self, state: ScopeState, now: float) -> list[Incident]:
        due = self._due.get(state.scope, -math.inf) <= now or not self._indexed
        changes = self.correlator.advance(state, now)
        if changes or state.dirty.data() or abs(state.clock - state.saved_clock) >= CLOCK_SAVE_INTERVAL_SECONDS:
            self.store.save(state)
            state.saved_clock = state.clock
        if due or changes:  # a scope not due only moved its clock: its next due time stands
            self._note(state)
        return changes

    # --- when each scope is next due (a lazy heap, so a step visits only the scopes due by then) ---------

    def _note(self, state: ScopeState) -> None:
        if not self._indexed:
            return
        due = self.correlator.next_due(state)
        if self._due.get(state.scope) != due:
            self._due[state.scope] = due
            heapq.heappush(self._dues, (due, state.scope))

    def _earliest_due(self) -> float:
        if not self._indexed:
            self._indexed = True
            for scope in self.store.scopes():
                state = self.store.load(scope)
                if state is not None:
                    self._note(state)
        dues, due = self._dues, self._due
        while dues and due.get(dues[0][1]) != dues[0][0]:
            heapq.heappop(dues)
        return dues[0][0] if dues else math.inf

    def _pop_due(self, step: float) -> list[str]:
        """The scopes due at `step`, by name (their entries leave the heap; `_note` re-adds them)."""
        dues, due, found = self._dues, self._due, set[str]()
        while dues and dues[0][0] <= step:
            at, scope = heapq.heappop(dues)
            if due.get(scope) == at:
                del due[scope]
                found.add(scope)
        return sorted(found)
