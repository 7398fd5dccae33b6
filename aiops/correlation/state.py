"""Correlation state: the serialisable working set of one correlation scope, and what is derived from it.

`ScopeState` holds the live (and recently resolved, reopenable) incidents of one scope, a fingerprint
index for dedup, the member types seen (novelty), the learned relation model's snapshot, the storm guard's
rate, the memory of closed incidents (`ClosedIncident`, `closed_memory_seconds`) and of the operator
actions handled. It records what changed (`dirty`), so a store writes only that (O(1)-sized values per
signal). Its `Derived` companion (lookup index, due index, live relation model, storm guard, closed-member
index) is rebuilt after a load, never stored; this module alone creates and fills it, each part on first
use. `dirty`, `derived` and the saved clock sit in plain slots, not pydantic private attributes (a read of
those costs microseconds).
The rules that change the state live in the engine, the lifecycle and the guards; stores live here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, Field

from aiops.correlation.cooccurrence import RelationModel
from aiops.correlation.due import DueIndex
from aiops.correlation.hold import SignalHold
from aiops.correlation.incident_state import IncidentState
from aiops.correlation.index import ScopeIndex
from aiops.correlation.learned import ModelFactory
from aiops.correlation.suppression.config import StormConfig
from aiops.correlation.suppression.storm import StormGuard


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
    actions: bool = False
    """`ScopeState.actions` changed (an operator action was applied or rejected)."""
    closed: set[str] = field(default_factory=set)
    """Ids of `ScopeState.closed` records added or expired: write the record when present, else delete it."""

    def data(self) -> bool:
        """Whether anything beyond the scope's small fields (clock) changed."""
        return bool(self.incidents or self.members or self.removed or self.types or self.relations or self.closed
                    or self.actions)

    def clear(self) -> None:
        self.incidents.clear()
        self.members.clear()
        self.removed.clear()
        self.closed.clear()
        self.meta = self.types = self.relations = self.actions = False


@dataclass(slots=True)
class Derived:
    """What a scope's state implies, kept beside it: rebuilt after a load, never stored (see the module)."""

    index: ScopeIndex | None = None
    """Group key / node / member type -> incident ids."""
    due: DueIndex | None = None
    """Each incident's next-due time and live members."""
    model: RelationModel | None = None
    """The live learned relation model, restored from `ScopeState.relations`."""
    learn_pending: bool = False
    """The model learned something since its snapshot was last copied into the state."""
    storm: StormGuard | None = None
    """The storm guard, restored from `ScopeState.storm.snapshot`."""
    closed: dict[str, tuple[float, str]] | None = None
    """Member fingerprint -> (event time up to which a closed incident reflected it, that incident's id)."""


class ClosedIncident(BaseModel):
    """What a forgotten (resolved, past its reopen window) incident reflected of each member."""

    id: str
    closed_at: float = Field(description="Event time it was forgotten.")
    members: dict[str, float] = Field(
        description="Member fingerprint -> event time up to which the incident reflected it (its last_seen, "
        "or the incident's resolve when later)."
    )


class ScopeState(BaseModel):
    __slots__ = ("_derived", "_dirty", "_saved_clock")
    if TYPE_CHECKING:
        _derived: Derived
        _dirty: Dirty
        _saved_clock: float | None

    scope: str
    clock: float = 0.0
    incidents: dict[str, IncidentState] = Field(default_factory=dict)
    index: dict[str, str] = Field(default_factory=dict, description="member fingerprint -> incident id")
    seen_types: dict[str, float] = Field(default_factory=dict, description="member type -> first seen")
    relations: dict[str, Any] | None = Field(None, description="Learned relation model snapshot.")
    storm: StormState = Field(default_factory=StormState)
    closed: dict[str, ClosedIncident] = Field(
        default_factory=dict, description="Closed incidents remembered for correlation.closed_memory_seconds."
    )
    actions: dict[str, float] = Field(
        default_factory=dict, description="Ids of the operator actions handled (applied or rejected) -> the "
        "event time they were, the latest `MAX_REMEMBERED_ACTIONS`: a re-delivered action is not applied twice.")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ScopeState):
            return NotImplemented
        return self.model_dump() == other.model_dump()

    __hash__ = None  # type: ignore[assignment]

    @property
    def saved_clock(self) -> float:
        """The clock value last written to the store (the loaded one until the first save)."""
        try:
            saved = self._saved_clock
        except AttributeError:  # the slots start empty (and a copy starts without them)
            saved = None
        return self.clock if saved is None else saved

    @saved_clock.setter
    def saved_clock(self, value: float) -> None:
        object.__setattr__(self, "_saved_clock", value)

    @property
    def dirty(self) -> Dirty:
        try:
            return self._dirty
        except AttributeError:
            dirty = Dirty()
            object.__setattr__(self, "_dirty", dirty)
            return dirty

    @property
    def derived(self) -> Derived:
        try:
            return self._derived
        except AttributeError:
            derived = Derived()
            object.__setattr__(self, "_derived", derived)
            return derived

    def touch(self, incident_id: str, fingerprint: str | None = None) -> None:
        dirty = self.dirty
        dirty.incidents.add(incident_id)
        if fingerprint is not None:
            dirty.members[(incident_id, fingerprint)] = None

    def touch_member(self, incident_id: str, fingerprint: str) -> None:
        """Only the member changed (not its incident's record)."""
        self.dirty.members[(incident_id, fingerprint)] = None

    def meta_fields(self) -> dict[str, Any]:
        """The scope's own small fields (clock, storm), stored under the scope key."""
        return self.model_dump(mode="json",
                               exclude={"incidents", "index", "seen_types", "relations", "closed", "actions"})


def index_of(state: ScopeState) -> ScopeIndex:
    """The scope's lookup index, built from its incidents on first use."""
    derived = state.derived
    if derived.index is None:
        derived.index = ScopeIndex.build(state.incidents.values())
    return derived.index


def due_index(state: ScopeState) -> DueIndex:
    """The scope's due index, built with every incident due once on first use."""
    derived = state.derived
    if derived.due is None:
        derived.due = DueIndex.build(state.incidents)
    return derived.due


def closed_index(state: ScopeState) -> dict[str, tuple[float, str]]:
    """Fingerprint -> (reflected until, closed incident id), built from the closed records on first use."""
    derived = state.derived
    if derived.closed is None:
        found: dict[str, tuple[float, str]] = {}
        ordered = sorted(state.closed.values(), key=lambda c: (c.closed_at, c.id))
        state.closed = {record.id: record for record in ordered}  # close order: expiry pops from the front
        for record in ordered:
            _index_closed(found, record.id, record.members)
        derived.closed = found
    return derived.closed


def remember_closed(state: ScopeState, incident: IncidentState) -> None:
    """Remember what a closed incident reflected of its members, so a re-processed signal cannot bring it
    back (a new episode, with a later signal, still opens a new incident)."""
    index = closed_index(state)
    resolved = incident.resolved_at if incident.resolved_at is not None else incident.last_seen
    members = {fp: max(member.last_seen, resolved) for fp, member in incident.members.items()}
    state.closed.pop(incident.id, None)
    state.closed[incident.id] = ClosedIncident(id=incident.id, closed_at=state.clock, members=members)
    state.dirty.closed.add(incident.id)
    _index_closed(index, incident.id, members)


def _index_closed(index: dict[str, tuple[float, str]], incident_id: str, members: dict[str, float]) -> None:
    """Each member -> (reflected until, `incident_id`) unless another closed incident reflected it later."""
    for fingerprint, until in members.items():
        if fingerprint not in index or until >= index[fingerprint][0]:
            index[fingerprint] = (until, incident_id)


def expire_closed(state: ScopeState, memory_seconds: float) -> None:
    """Forget closed incidents closed more than `memory_seconds` before the scope's clock (oldest first)."""
    if not state.closed:
        return
    index = closed_index(state)
    horizon = state.clock - memory_seconds
    while state.closed:
        record = next(iter(state.closed.values()))
        if record.closed_at >= horizon:
            return
        del state.closed[record.id]
        state.dirty.closed.add(record.id)
        for fingerprint in record.members:
            if index.get(fingerprint, (0.0, ""))[1] == record.id:
                del index[fingerprint]


def latest_ends_at(store: StateStore) -> float | None:
    """The latest `ends_at` of a firing member in any scope of `store` (None: none has one); O(members)."""
    found = [member.ends_at for scope in store.scopes() if (state := store.load(scope)) is not None
             for incident in state.incidents.values() for member in incident.members.values()
             if member.status == "firing" and member.ends_at is not None]
    return max(found, default=None)


def model_of(state: ScopeState, factory: ModelFactory | None) -> RelationModel | None:
    """The scope's live relation model (None: learning is off), restored from its snapshot on first use; a
    restored model keeps the parameters it was built with."""
    if factory is None:
        return None
    derived = state.derived
    if derived.model is None:
        derived.model = factory() if state.relations is None else RelationModel.restore(state.relations)
    return derived.model


def observed(state: ScopeState) -> None:
    """The live model learned something since its last snapshot."""
    state.derived.learn_pending = True


def persist(state: ScopeState) -> None:
    """Copy the live model's snapshot into the state, only when it learned something since the last copy.

    Done on event-time advance, not per signal. The model changes only when it observes a new member, so
    skipping unchanged snapshots stores exactly what copying on every advance stored."""
    derived = state.derived
    if derived.model is not None and derived.learn_pending:
        derived.learn_pending = False
        state.relations = derived.model.snapshot()
        state.dirty.relations = True


def storm_guard(state: ScopeState, config: StormConfig) -> StormGuard | None:
    """The scope's storm guard (None: storm detection is off), restored from its snapshot on first use."""
    derived = state.derived
    if derived.storm is None:
        derived.storm = config.build()
        if derived.storm is not None and state.storm.snapshot:
            derived.storm.restore(state.storm.snapshot)
    return derived.storm


class StateStore(Protocol):
    """Where scope states live: a dict in replay and tests, `PartitionScopes` in the worker; with the signals
    held for their turn (`hold`)."""

    hold: SignalHold

    def load(self, scope: str) -> ScopeState | None: ...

    def save(self, state: ScopeState) -> None: ...

    def scopes(self) -> Iterator[str]: ...


class InMemoryStore:
    """A dict-backed `StateStore` (replay, eval, unit tests)."""

    def __init__(self) -> None:
        self._states: dict[str, ScopeState] = {}
        self.hold = SignalHold()

    def load(self, scope: str) -> ScopeState | None:
        return self._states.get(scope)

    def save(self, state: ScopeState) -> None:
        state.dirty.clear()
        self._states[state.scope] = state

    def scopes(self) -> Iterator[str]:
        return iter(list(self._states))
