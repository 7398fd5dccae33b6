"""Correlation state of one signals partition: live objects in memory, checkpointed per batch.

`PartitionScopes` is the `StateStore` the correlation worker gives `CorrelationStage` for one partition.
`save` notes changed keys; `checkpoint` serialises each once per batch for the compacted correlation-state
topic, then an `__offset__` record (next signals and actions offsets, the partition's event time). Keys:
``s/<scope>`` clock and storm guard, ``t/<scope>`` member types, ``r/<scope>`` relation model, ``a/<scope>``
actions handled, ``i/<id>`` an incident without members, ``m/<id>/<member>`` a member, ``c/<id>`` a closed
incident remembered, ``h/<offset>`` a held signal, ``__inputs__`` input watermarks, ``__placed__`` where
unchecked actions were applied (written before a batch's outputs); forgotten keys become tombstones.
`restore` applies records up to the last `__offset__` (a cut batch is discarded and its keys returned for
rewriting), the latest placements, and moves each scope's clock to the partition's event time an idle
watermark reached. Serialisation only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from aiops.correlation.hold import SignalHold
from aiops.correlation.incident_state import IncidentState, MemberState
from aiops.correlation.state import ClosedIncident, ScopeState
from aiops.signals import Signal

OFFSET_KEY = b"__offset__"
INPUTS_KEY = b"__inputs__"
PLACED_KEY = b"__placed__"
StateRecord = tuple[bytes, bytes | None]
"""(key, JSON value) of one state record; None is a tombstone."""


class PartitionScopes:
    """`StateStore` over the in-memory scopes of one signals partition, with per-batch checkpoints."""

    def __init__(self, partition: int, states: dict[str, ScopeState] | None = None,
                 next_offset: int | None = None, inputs: InputClocks | None = None,
                 next_action_offset: int | None = None, placements: dict[int, int] | None = None,
                 event_time: float | None = None) -> None:
        self.partition = partition
        self.states: dict[str, ScopeState] = states or {}
        self.hold = SignalHold()
        self.inputs = inputs or InputClocks()
        self.next_offset = next_offset
        """The signals offset after the last one the checkpointed state reflects (None: nothing yet)."""
        self.next_action_offset = next_action_offset
        """The same for the partition of the actions topic with this number (None: no action yet)."""
        self.placements: dict[int, int] = placements or {}
        """Action offset -> signals position it was applied at, for actions the checkpoint does not cover."""
        self.event_time = event_time
        self.placements_changed = False
        """Whether the last batch placed actions (its `__placed__` record is due before its outputs)."""
        """The latest event time every scope of the partition was advanced to (None: never)."""
        self._changed: dict[str, tuple[str, str]] = {}
        """State key -> (scope, incident id or ""), in first-touched order."""

    def load(self, scope: str) -> ScopeState | None:
        return self.states.get(scope)

    def save(self, state: ScopeState) -> None:
        scope = state.scope
        self.states[scope] = state
        dirty, changed = state.dirty, self._changed
        changed.setdefault(f"s/{scope}", (scope, ""))
        if dirty.types:
            changed.setdefault(f"t/{scope}", (scope, ""))
        if dirty.relations and state.relations is not None:
            changed.setdefault(f"r/{scope}", (scope, ""))
        if dirty.actions:
            changed.setdefault(f"a/{scope}", (scope, ""))
        for incident_id in dirty.incidents:
            changed.setdefault(f"i/{incident_id}", (scope, incident_id))
        for incident_id, fingerprint in dirty.members:
            changed.setdefault(f"m/{incident_id}/{fingerprint}", (scope, incident_id))
        for incident_id, fingerprints in dirty.removed.items():
            changed.setdefault(f"i/{incident_id}", (scope, incident_id))
            for fingerprint in fingerprints:
                changed.setdefault(f"m/{incident_id}/{fingerprint}", (scope, incident_id))
        for incident_id in dirty.closed:
            changed.setdefault(f"c/{incident_id}", (scope, incident_id))
        dirty.clear()

    def scopes(self) -> Iterator[str]:
        return iter(list(self.states))

    @property
    def changed(self) -> bool:
        return bool(self._changed) or self.inputs.changed or self.hold.changed()

    def checkpoint(self, next_offset: int | None, next_action_offset: int | None = None) -> list[StateRecord]:
        """Records of every key changed since the last checkpoint, then the offset record (None: that input
        did not move); clears them."""
        records = [(key.encode(), self._value(key, scope, incident_id))
                   for key, (scope, incident_id) in self._changed.items()]
        self._changed = {}
        held, released = self.hold.take_changes()
        records.extend((f"h/{offset}".encode(), None) for offset in sorted(released))
        records.extend((f"h/{offset}".encode(), raw) for offset, raw in sorted(held.items()))
        if self.inputs.changed:
            records.append((INPUTS_KEY, orjson.dumps(self.inputs.clocks)))
            self.inputs.changed = False
        self.next_offset = self.next_offset if next_offset is None else next_offset
        if next_action_offset is not None:
            self.next_action_offset = next_action_offset
            self.placements = {a: at for a, at in self.placements.items() if a >= next_action_offset}
        offsets = {"next": self.next_offset, "actions": self.next_action_offset, "clock": self.event_time}
        records.append((OFFSET_KEY, orjson.dumps({k: v for k, v in offsets.items() if v is not None})))
        return records

    def advanced(self, now: float) -> None:
        """Every scope was advanced to `now` (kept so a restore can move clocks no checkpoint wrote)."""
        self.event_time = now if self.event_time is None else max(self.event_time, now)

    def placement_record(self) -> StateRecord:
        """The `__placed__` record of every placement the checkpoint does not cover yet."""
        return PLACED_KEY, orjson.dumps({str(offset): at for offset, at in sorted(self.placements.items())})

    def current(self, key: str) -> bytes | None:
        """The value `key` has in the live state (None: absent), e.g. to undo a discarded batch's record."""
        kind, _, rest = key.partition("/")
        if kind == "h":
            return self.hold.raw_of(int(rest))
        if kind in ("s", "t", "r", "a"):
            state = self.states.get(rest)
            return None if state is None else self._value(key, rest, "")
        incident_id = rest.split("/", 1)[0]
        for state in self.states.values():
            if incident_id in (state.closed if kind == "c" else state.incidents):
                return self._value(key, state.scope, incident_id)
        return None

    def _value(self, key: str, scope: str, incident_id: str) -> bytes | None:
        state = self.states.get(scope)
        if state is None:
            return None
        kind = key[0]
        if kind in "stra":
            scoped: Any = (state.meta_fields() if kind == "s" else state.seen_types if kind == "t"
                           else state.relations if kind == "r" else state.actions)
            return None if scoped is None else orjson.dumps(scoped)
        if kind == "c":
            record = state.closed.get(incident_id)
            return None if record is None else orjson.dumps({**record.model_dump(mode="json"), "scope": scope})
        incident = state.incidents.get(incident_id)
        if incident is None:
            return None
        if kind == "i":
            return orjson.dumps(incident.model_dump(mode="json", exclude={"members"}))
        member = incident.members.get(key.split("/", 2)[2])
        return None if member is None else orjson.dumps(member.model_dump(mode="json"))


@dataclass
class InputClocks:
    """The watermark of every input topic-partition as reported by the detection workers.

    Correlation advances to the lowest of them, and only once every input topic-partition was reported:
    a partition whose worker died keeps its last watermark until its new owner caught up, so event time
    cannot run ahead of input nobody has processed yet."""

    clocks: dict[str, float] = field(default_factory=dict)
    changed: bool = False
    advanced_to: float = float("-inf")

    def report(self, inputs: dict[str, float], input_count: int) -> float | None:
        """Merge one watermark's per-input clocks; the event time to advance to now, or None."""
        for name, clock in inputs.items():
            if clock > self.clocks.get(name, float("-inf")):
                self.clocks[name] = clock
                self.changed = True
        if len(self.clocks) < input_count:
            return None
        low = min(self.clocks.values())
        if low <= self.advanced_to:
            return None
        self.advanced_to = low
        return low


@dataclass
class Restored:
    """What `restore` found in one partition of the state topic."""

    scopes: PartitionScopes
    discarded_keys: list[str] = field(default_factory=list)
    """Keys written by a batch cut short (after the last offset record): rewrite them from `scopes`."""


def restore(partition: int, records: list[tuple[bytes | None, bytes | None, int]]) -> Restored:
    """Scopes from the records of one state partition (offset order), up to the last offset record."""
    last_offset_at = max((i for i, (key, _, _) in enumerate(records) if key == OFFSET_KEY), default=-1)
    latest: dict[str, bytes | None] = {}
    next_offset: int | None = None
    next_action_offset: int | None = None
    event_time: float | None = None
    inputs = InputClocks()
    for key, value, _ in records[:last_offset_at + 1]:
        if key is None or key == PLACED_KEY:
            continue
        if key == OFFSET_KEY:
            offsets = orjson.loads(value or b"{}")
            next_offset = offsets.get("next", next_offset)
            next_action_offset = offsets.get("actions", next_action_offset)
            event_time = offsets.get("clock", event_time)
        elif key == INPUTS_KEY:
            inputs.clocks = {name: float(clock) for name, clock in orjson.loads(value or b"{}").items()}
        else:
            latest[key.decode()] = value
    discarded = sorted({key.decode() for key, _, _ in records[last_offset_at + 1:]
                        if key is not None and key not in (OFFSET_KEY, INPUTS_KEY, PLACED_KEY)})
    held = {key: value for key, value in latest.items() if key.startswith("h/") and value is not None}
    states = _rebuild({key: orjson.loads(value) for key, value in latest.items()
                       if value is not None and not key.startswith("h/")})
    if inputs.clocks:
        inputs.advanced_to = min(inputs.clocks.values())
    if event_time is not None:  # a scope ever advanced was advanced to it, maybe without a write since
        for state in states.values():
            if state.clock:
                state.clock = max(state.clock, event_time)
    scopes = PartitionScopes(partition, states, next_offset, inputs, next_action_offset, {}, event_time)
    scopes.hold.restore([(int(key[2:]), value, Signal.model_validate_json(value))
                         for key, value in held.items()], event_time)
    placed = next((value for key, value, _ in reversed(records) if key == PLACED_KEY), None)
    placements = {int(offset): int(at) for offset, at in orjson.loads(placed or b"{}").items()
                  if next_action_offset is None or int(offset) >= next_action_offset}
    scopes.placements = placements
    return Restored(scopes, discarded)


def _rebuild(values: dict[str, Any]) -> dict[str, ScopeState]:
    scopes: dict[str, ScopeState] = {}
    incidents: dict[str, IncidentState] = {}
    members: list[tuple[str, MemberState]] = []
    closed: list[tuple[str, ClosedIncident]] = []
    for key, value in values.items():
        kind, _, name = key.partition("/")
        if kind == "s":
            scopes[name] = ScopeState.model_validate({**value, "scope": name})
        elif kind == "i":
            incidents[name] = IncidentState.model_validate(value)
        elif kind == "m":
            members.append((name.split("/", 1)[0], MemberState.model_validate(value)))
        elif kind == "c":
            closed.append((value.pop("scope"), ClosedIncident.model_validate(value)))
    for scope, state in scopes.items():
        types, relations, actions = values.get(f"t/{scope}"), values.get(f"r/{scope}"), values.get(f"a/{scope}")
        state.seen_types = dict(types) if isinstance(types, dict) else {}
        state.relations = relations
        state.actions = dict(actions) if isinstance(actions, dict) else {}
    for incident_id, member in members:
        if incident_id in incidents:
            incidents[incident_id].members[member.fingerprint] = member
    for incident in incidents.values():
        state = scopes.setdefault(incident.scope, ScopeState(scope=incident.scope))
        state.incidents[incident.id] = incident
        for fingerprint in incident.members:
            state.index[fingerprint] = incident.id
    for scope, record in closed:
        scopes.setdefault(scope, ScopeState(scope=scope)).closed[record.id] = record
    for state in scopes.values():
        state.saved_clock = state.clock
    return scopes
