"""Incremental digest of a large incident: what ranking, priority and the title need, without its members.

Root-cause ranking and priority read, per service, only: the earliest onset of each member type, the
strongest and the most severe member, the earliest member with a host and the set of member
types; the title reads the earliest member of each service. `IncidentDigest` keeps exactly those
*representative* members, folding in only the members that joined since its last refresh (members are
never removed from a live incident; the only field it reads that can change after a join is the evidence,
which the engine reports through `note_evidence`). `view()` is an `IncidentState` with only the
representatives, in join order, and the incident's first/last seen: `rank_root_causes` and
`assess_priority` give on it exactly what they give on the whole incident, at O(services x types) cost.

Not here: which incidents use a digest and what a version carries (`builder`), persistence (a digest is
derived state: rebuilt from the incident after a restore, found stale by identity).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice

from aiops.correlation.incident_state import IncidentState, MemberState
from aiops.correlation.root_cause import member_strength
from aiops.incidents import RootCauseCandidate
from aiops.signals import severity_rank

Role = tuple[str, str, str]  # (role, service, member type or "")
Better = Callable[[MemberState, MemberState], bool]


def _earlier(new: MemberState, old: MemberState) -> bool:
    """Earlier first seen, the least fingerprint on ties (never the join order: see `symptoms_of`)."""
    return (new.first_seen, new.fingerprint) < (old.first_seen, old.fingerprint)


class IncidentDigest:
    """Representative members of one incident (see the module docstring); refreshed incrementally."""

    def __init__(self, incident: IncidentState) -> None:
        self.incident = incident
        self.folded = 0
        self.generation = 0
        """Bumped whenever a representative changes (the ranking inputs other than time changed)."""
        self.reps: dict[Role, tuple[int, MemberState]] = {}
        self.hosts: set[str] = set()
        self.services: set[str] = set()
        self.order: dict[str, int] = {}
        self.ranked: tuple[int, list[RootCauseCandidate]] | None = None
        """(generation, root causes) of the last ranking, for builders that re-rank on change only."""

    def refresh(self) -> IncidentDigest:
        """Fold the members that joined since the last refresh."""
        members = self.incident.members
        if len(members) > self.folded:
            for index, member in enumerate(islice(members.values(), self.folded, None), start=self.folded):
                self._fold(index, member)
            self.folded = len(members)
        return self

    def _fold(self, index: int, member: MemberState) -> None:
        service = member.service
        self.order[member.fingerprint] = index
        self.services.add(service)
        if member.host:
            self.hosts.add(member.host)
            self._offer(("host", service, ""), index, member, _earlier)
        self._offer(("onset", service, member.member_type), index, member, _earlier)
        self._offer(("lead", service, ""), index, member, _earlier)
        self._offer(("strong", service, ""), index, member,
                    lambda new, old: member_strength(new) > member_strength(old))
        self._offer(("severe", service, ""), index, member,
                    lambda new, old: severity_rank(new.severity) > severity_rank(old.severity))

    def _offer(self, role: Role, index: int, member: MemberState, better: Better) -> None:
        current = self.reps.get(role)
        if current is None or (current[1] is not member and better(member, current[1])):
            self.reps[role] = (index, member)
            self.generation += 1

    def note_evidence(self, member: MemberState) -> None:
        """`member`'s evidence changed: it may now be its service's strongest member."""
        index = self.order.get(member.fingerprint)
        if index is None:
            return  # not folded yet: the next refresh sees its current evidence
        role: Role = ("strong", member.service, "")
        current = self.reps.get(role)
        if current is not None and current[1] is member:
            self._restrongest(member.service)
        elif current is None or member_strength(member) > member_strength(current[1]):
            self.reps[role] = (index, member)
        else:
            return
        self.generation += 1

    def _restrongest(self, service: str) -> None:
        """The strongest member's own evidence changed (it may have weakened): rescan that service once."""
        best: tuple[int, MemberState] | None = None
        for index, member in enumerate(self.incident.members.values()):
            if member.service == service and (best is None or member_strength(member) > member_strength(best[1])):
                best = (index, member)
        if best is not None:
            self.reps[("strong", service, "")] = best

    def leads(self) -> list[MemberState]:
        """The earliest member (first seen, fingerprint) of each service, earliest first."""
        found = [member for (role, _, _), (_, member) in self.reps.items() if role == "lead"]
        return sorted(found, key=lambda m: (m.first_seen, m.fingerprint))

    def view(self) -> IncidentState:
        """The incident with only its representative members, in join order (see the module docstring)."""
        unique = {id(member): (index, member) for index, member in self.reps.values()}
        ordered = sorted(unique.values(), key=lambda item: item[0])
        incident = self.incident
        return IncidentState.model_construct(
            id=incident.id, scope=incident.scope, status=incident.status, first_seen=incident.first_seen,
            last_seen=incident.last_seen, members={member.fingerprint: member for _, member in ordered},
        )
