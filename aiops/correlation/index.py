"""Derived lookup indexes of one scope: group key, topology node and member type -> incident ids.

They make finding the incidents a new member may join independent of how many incidents the scope holds.
Built from the scope's incidents on first use after a load (`state.index_of`; never stored) and kept up to
date by the engine as members join, incidents merge and incidents are forgotten. No rules here.
"""

from __future__ import annotations

from collections.abc import Iterable

from aiops.correlation.incident_state import IncidentState, MemberState


class ScopeIndex:
    def __init__(self) -> None:
        self.by_key: dict[str, set[str]] = {}
        self.by_node: dict[str, set[str]] = {}
        self.by_type: dict[str, set[str]] = {}

    @classmethod
    def build(cls, incidents: Iterable[IncidentState]) -> ScopeIndex:
        """The index of `incidents` (a scope's, after a load)."""
        index = cls()
        for incident in incidents:
            index.add_keys(incident)
            for member in incident.members.values():
                index.add(incident, member)
        return index

    def add(self, incident: IncidentState, member: MemberState) -> None:
        self.add_keys(incident)
        self.by_node.setdefault(member.service, set()).add(incident.id)
        if member.host:
            self.by_node.setdefault(member.host, set()).add(incident.id)
        if member.member_type:
            self.by_type.setdefault(member.member_type, set()).add(incident.id)

    def add_keys(self, incident: IncidentState) -> None:
        """The incident's group keys: its own and those of the incidents merged into it."""
        for key in (incident.group_key, *incident.merged_keys):
            if key:
                self.by_key.setdefault(key, set()).add(incident.id)

    def remove(self, incident: IncidentState) -> None:
        keys = [(self.by_key, key) for key in (incident.group_key, *incident.merged_keys)]
        for member in incident.members.values():
            keys += [(self.by_node, member.service), (self.by_node, member.host), (self.by_type, member.member_type)]
        for table, key in keys:
            ids = table.get(key)
            if ids is not None:
                ids.discard(incident.id)
                if not ids:
                    del table[key]

