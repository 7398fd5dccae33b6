"""`StateStore` over the Faust changelog table with O(1)-sized values per signal.

Layout (one table, co-partitioned with the signals topic; every value carries its partition `p`):
- ``s/<scope>``: the scope's small fields (clock, storm guard);
- ``t/<scope>``: member types seen (written only when a new type appears);
- ``r/<scope>``: the learned relation model's snapshot (written on watermarks, not per signal);
- ``i/<incident id>``: one incident without its members;
- ``m/<incident id>/<member key>``: one member.
A signal writes its member, its incident header and the scope's small fields; a forgotten incident
deletes its keys (tombstones). Decoded scopes are cached per worker: the first access to a partition
rebuilds its scopes from the table once; a rebalance clears the cache. No rules here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aiops.correlation.incident_state import IncidentState, MemberState
from aiops.correlation.state import ScopeState


class ScopeCache:
    """Decoded scope states per partition, shared by the agent's stores; cleared on rebalance."""

    def __init__(self) -> None:
        self.partitions: dict[int, dict[str, ScopeState]] = {}

    def clear(self) -> None:
        self.partitions.clear()


def _rebuild(table: Any, partition: int) -> dict[str, ScopeState]:
    scopes: dict[str, ScopeState] = {}
    incidents: dict[str, IncidentState] = {}
    members: list[tuple[str, MemberState]] = []
    for key, value in list(table.items()):
        if not isinstance(key, str) or not isinstance(value, dict) or value.get("p") != partition:
            continue
        kind, _, name = key.partition("/")
        if kind == "s":
            scopes[name] = ScopeState.model_validate({**value["v"], "scope": name})
        elif kind == "i":
            incidents[name] = IncidentState.model_validate(value["v"])
        elif kind == "m":
            members.append((value["i"], MemberState.model_validate(value["v"])))
    for scope, state in scopes.items():
        types, relations = table.get(f"t/{scope}"), table.get(f"r/{scope}")
        state.seen_types = dict(types["v"]) if isinstance(types, dict) else {}
        state.relations = relations["v"] if isinstance(relations, dict) else None
    for incident_id, member in members:
        if incident_id in incidents:
            incidents[incident_id].members[member.fingerprint] = member
    for incident in incidents.values():
        state = scopes.setdefault(incident.scope, ScopeState(scope=incident.scope))
        state.incidents[incident.id] = incident
        for fingerprint in incident.members:
            state.index[fingerprint] = incident.id
    return scopes


class PartitionTableStore:
    """`StateStore` over the Faust table, restricted to the scopes of one signals partition."""

    def __init__(self, table: Any, partition: int, cache: ScopeCache) -> None:
        self.table = table
        self.partition = partition
        if partition not in cache.partitions:
            cache.partitions[partition] = _rebuild(table, partition)
        self.states = cache.partitions[partition]
        self.saves = 0

    def load(self, scope: str) -> ScopeState | None:
        return self.states.get(scope)

    def save(self, state: ScopeState) -> None:
        self.states[state.scope] = state
        self.saves += 1
        dirty = state.dirty
        p = self.partition
        self.table[f"s/{state.scope}"] = {"p": p, "v": state.meta_fields()}
        if dirty.types:
            self.table[f"t/{state.scope}"] = {"p": p, "v": state.seen_types}
        if dirty.relations and state.relations is not None:
            self.table[f"r/{state.scope}"] = {"p": p, "v": state.relations}
        for incident_id in dirty.incidents:
            incident = state.incidents.get(incident_id)
            if incident is not None:
                header = incident.model_dump(mode="json", exclude={"members"})
                self.table[f"i/{incident_id}"] = {"p": p, "v": header}
        for incident_id, fingerprint in dirty.members:
            incident = state.incidents.get(incident_id)
            if incident is not None and fingerprint in incident.members:
                member = incident.members[fingerprint].model_dump(mode="json")
                self.table[f"m/{incident_id}/{fingerprint}"] = {"p": p, "i": incident_id, "v": member}
        for incident_id, fingerprints in dirty.removed.items():
            for key in (f"i/{incident_id}", *(f"m/{incident_id}/{fp}" for fp in fingerprints)):
                if key in self.table:
                    del self.table[key]
        dirty.clear()

    def scopes(self) -> Iterator[str]:
        return iter(list(self.states))
