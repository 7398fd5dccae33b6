"""Incident building: turn a scope's working incident state into the outbound `Incident` message.

Adds what the on-call engineer reads: a title, services and hosts, members with evidence, ranked root
causes, priority with its factors, grouping reasons, owner/runbook context from the service catalogue,
and what changed since the previous version. Pure; it bumps the incident's version, nothing else.

Large incidents (more than `max_members` members, default `MAX_MEMBERS`) are built from an incremental
`IncidentDigest` so a version costs O(services x types + changes), not O(members): ranking and priority
read the digest's representative members (same result as on all members); root causes are re-ranked only
when a representative changed (a new service or member type, an earlier onset, a stronger or more severe
member), so in between the onset normalisation to the growing span and the learned precedence are those of
the last ranking; the version carries the earliest member of each service (up to half the bound) and the
members added or resolved since the previous version (the rest of the bound, latest first), and
`members_truncated` says how many members it leaves out. The incident state itself keeps every member.
Incidents within the bound are built exactly as before (every member, ranked on every version).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from aiops.correlation.digest import IncidentDigest
from aiops.correlation.incident_state import IncidentState, MemberState
from aiops.correlation.learned import ModelFactory
from aiops.correlation.priority import assess_priority
from aiops.correlation.root_cause import Precedence, rank_root_causes
from aiops.correlation.state import ScopeState, model_of
from aiops.correlation.topology import ServiceGraph
from aiops.incidents import Change, Explanation, Incident, IncidentContext, Member, RootCauseCandidate
from aiops.signals import dt_from_epoch

MAX_MEMBERS = 100
"""Members an incident version carries in full; a larger incident is built from its digest (see above)."""


def _member(member: MemberState) -> Member:
    """The outbound (frozen) member; reused while its mutable fields (status, last_seen, evidence) are unchanged.

    Only for large incidents (built from a digest): a small one's members are built afresh on each version,
    which costs about what the cache saves and keeps ~1.6 KB less per member (`bench/correlation.py`)."""
    key = (member.status, member.last_seen, id(member.evidence))
    cached = member.built
    if cached is not None and cached[0] == key and cached[2] is member.evidence:
        return cached[1]
    built = _new_member(member)
    member.built = (key, built, member.evidence)
    return built


def _new_member(member: MemberState) -> Member:
    return Member(
        fingerprint=member.fingerprint, origin=member.origin, name=member.name, service=member.service,
        host=member.host, labels=member.labels, status=member.status, severity=member.severity,
        first_seen=dt_from_epoch(member.first_seen), last_seen=dt_from_epoch(member.last_seen),
        summary=member.summary, annotations=member.annotations, evidence=member.evidence,
        joined_because=member.joined_because,
    )


def _context(service: str | None, graph: ServiceGraph) -> IncidentContext:
    config = graph.services.get(service) if service else None
    if config is None:
        return IncidentContext()
    return IncidentContext(owner=config.owner, runbook=config.runbook, tier=config.tier)


@dataclass(frozen=True)
class ScopeFacts:
    """What building needs beyond the incident: the graph, learned precedence, member types seen, and the
    member bound with the digests of large incidents (None: no bound)."""

    graph: ServiceGraph
    precedence: Precedence | None = None
    seen_types: dict[str, float] | None = None
    max_members: int | None = None
    digests: dict[str, IncidentDigest] | None = None

    def novelty(self, incident: IncidentState) -> float:
        types = {m.member_type for m in incident.members.values() if m.member_type}
        if not types or self.seen_types is None:
            return 0.0
        novel = [t for t in types if self.seen_types.get(t, incident.first_seen) >= incident.first_seen]
        return len(novel) / len(types)

    def digest(self, incident: IncidentState) -> IncidentDigest | None:
        """The incident's refreshed digest when it is over the bound, else None (built in full)."""
        if self.max_members is None or self.digests is None or len(incident.members) <= self.max_members:
            return None
        digest = self.digests.get(incident.id)
        if digest is None or digest.incident is not incident:
            digest = self.digests[incident.id] = IncidentDigest(incident)
        return digest.refresh()


@dataclass(frozen=True)
class BuildContext:
    graph: ServiceGraph
    model_factory: ModelFactory | None = None
    max_members: int = MAX_MEMBERS
    digests: dict[str, IncidentDigest] = field(default_factory=dict, compare=False, repr=False)

    def for_scope(self, state: ScopeState) -> ScopeFacts:
        model = model_of(state, self.model_factory)
        precedence: Precedence | None = None
        if model is not None:
            def precedence(a: str, b: str) -> float | None:
                edge = model.related(a, b)
                return None if edge is None else float(edge.precedence)
        return ScopeFacts(self.graph, precedence, state.seen_types, self.max_members, self.digests)

    def forget(self, incident_id: str) -> None:
        """The incident left its scope: drop its digest."""
        self.digests.pop(incident_id, None)

    def note_evidence(self, incident: IncidentState, member: MemberState) -> None:
        """A member's evidence changed (the only member field a digest reads that can change)."""
        digest = self.digests.get(incident.id)
        if digest is not None and digest.incident is incident:
            digest.note_evidence(member)


@dataclass
class _Parts:
    """What a version shows, from all members or from a digest."""

    root_cause: list[RootCauseCandidate]
    ranked: IncidentState
    members: list[MemberState]
    """Shown members, earliest first."""
    leads: list[MemberState]
    """Candidates for the title's lead member, earliest first."""
    count: int
    services: list[str]
    hosts: list[str]


def _full_parts(incident: IncidentState, facts: ScopeFacts) -> _Parts:
    root_cause = rank_root_causes(incident, facts.graph, facts.precedence)
    members = sorted(incident.members.values(), key=lambda m: (m.first_seen, m.fingerprint))
    return _Parts(root_cause, incident, members, members, len(members), incident.services,
                  sorted({m.host for m in members if m.host}))


def _digest_parts(incident: IncidentState, facts: ScopeFacts, digest: IncidentDigest,
                  bound: int) -> _Parts:
    view = digest.view()
    if digest.ranked is not None and digest.ranked[0] == digest.generation:
        root_cause = digest.ranked[1]
    else:
        root_cause = rank_root_causes(view, facts.graph, facts.precedence)
        digest.ranked = (digest.generation, root_cause)
    leads = digest.leads()
    shown = {m.fingerprint: m for m in leads[: max(1, bound // 2)]}
    budget = bound - len(shown)
    pending = incident.pending
    changed = dict.fromkeys(reversed([*pending.added, *pending.resolved]))
    for fingerprint in changed:
        if budget <= 0:
            break
        member = incident.members.get(fingerprint)
        if member is not None and fingerprint not in shown:
            shown[fingerprint] = member
            budget -= 1
    members = sorted(shown.values(), key=lambda m: (m.first_seen, m.fingerprint))
    return _Parts(root_cause, view, members, leads, len(incident.members), sorted(digest.services),
                  sorted(digest.hosts))


def build_incident(
    incident: IncidentState, facts: ScopeFacts | ServiceGraph, status: Literal["open", "updated", "resolved"],
    reason: str,
) -> Incident:
    """Emit the next version of `incident` and clear its pending change lists."""
    if isinstance(facts, ServiceGraph):
        facts = ScopeFacts(facts)
    graph = facts.graph
    incident.version += 1
    digest = facts.digest(incident)
    parts = (_full_parts(incident, facts) if digest is None or facts.max_members is None
             else _digest_parts(incident, facts, digest, facts.max_members))
    root_cause, leads = parts.root_cause, parts.leads
    priority, factors = assess_priority(parts.ranked, graph, facts.novelty(parts.ranked))
    top_service = root_cause[0].service if root_cause else (leads[0].service if leads else None)
    lead = next((m for m in leads if m.service == top_service), leads[0] if leads else None)
    extra = parts.count - 1
    title = f"[{top_service}] {lead.summary or lead.name}" if lead else "incident"
    if extra > 0:
        title += f" (+{extra} related)"
    services = parts.services
    summary = (
        f"{parts.count} member(s) on {len(services)} service(s); probable root cause {top_service}; "
        f"priority {priority} ({', '.join(f.factor for f in factors if f.weight > 0)})"
    )
    pending = incident.pending
    change = Change(added=list(pending.added), resolved=list(pending.resolved), reason=reason)
    incident.clear_pending()
    return Incident(
        id=incident.id, version=incident.version, idempotency_key=f"{incident.id}:{incident.version}",
        status=status, priority=priority, title=title, scope=incident.scope, services=services,
        hosts=parts.hosts, first_seen=dt_from_epoch(incident.first_seen), last_seen=dt_from_epoch(incident.last_seen),
        resolved_at=dt_from_epoch(incident.resolved_at) if incident.resolved_at is not None else None,
        members=[(_new_member if digest is None else _member)(m) for m in parts.members],
        members_truncated=parts.count - len(parts.members),
        root_cause=root_cause,
        explanation=Explanation(grouping=[*incident.grouping, *incident.notes], priority=factors, summary=summary),
        context=_assigned(_context(top_service, graph), incident), change=change,
        acknowledged_by=incident.acknowledged_by or None, acknowledged_at=_when(incident.acknowledged_at),
        resolved_by=incident.resolved_by or None, snoozed_until=_when(incident.snoozed_until),
        notes=list(incident.operator_notes),
    )


def _assigned(context: IncidentContext, incident: IncidentState) -> IncidentContext:
    """The catalogue's context with an operator's `assign` (owner, team) over it."""
    if incident.owner is None and incident.team is None:
        return context
    return context.model_copy(update={"owner": incident.owner or context.owner, "team": incident.team})


def _when(epoch: float | None) -> datetime | None:
    return dt_from_epoch(epoch) if epoch is not None else None
