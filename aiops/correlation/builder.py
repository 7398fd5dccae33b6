"""Incident building: turn a scope's working incident state into the outbound `Incident` message.

Adds what the on-call engineer reads: a title, services and hosts, members with evidence, ranked root
causes, priority with its factors, grouping reasons, owner/runbook context from the service catalogue,
and what changed since the previous version. Pure; it bumps the incident's version, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

from aiops.correlation.learned import ModelFactory, model_of
from aiops.correlation.root_cause import Precedence, rank_root_causes
from aiops.correlation.state import IncidentState, MemberState, ScopeState
from aiops.correlation.topology import ServiceGraph
from aiops.incidents import Change, Explanation, Incident, IncidentContext, Member
from aiops.priority import assess_priority
from aiops.signals import dt_from_epoch


def _member(member: MemberState) -> Member:
    """The outbound (frozen) member; reused while its mutable fields (status, last_seen, evidence) are unchanged."""
    key = (member.status, member.last_seen, id(member.evidence))
    cached = member._built
    if cached is not None and cached[0] == key and cached[2] is member.evidence:
        return cast(Member, cached[1])
    built = _new_member(member)
    member._built = (key, built, member.evidence)
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
    """What building needs beyond the incident: the graph, learned precedence, member types seen."""

    graph: ServiceGraph
    precedence: Precedence | None = None
    seen_types: dict[str, float] | None = None

    def novelty(self, incident: IncidentState) -> float:
        types = {m.member_type for m in incident.members.values() if m.member_type}
        if not types or self.seen_types is None:
            return 0.0
        novel = [t for t in types if self.seen_types.get(t, incident.first_seen) >= incident.first_seen]
        return len(novel) / len(types)


@dataclass(frozen=True)
class BuildContext:
    graph: ServiceGraph
    model_factory: ModelFactory | None = None

    def for_scope(self, state: ScopeState) -> ScopeFacts:
        model = model_of(state, self.model_factory)
        precedence: Precedence | None = None
        if model is not None:
            def precedence(a: str, b: str) -> float | None:
                edge = model.related(a, b)
                return None if edge is None else float(edge.precedence)
        return ScopeFacts(self.graph, precedence, state.seen_types)


def build_incident(
    incident: IncidentState, facts: ScopeFacts | ServiceGraph, status: Literal["open", "updated", "resolved"],
    reason: str,
) -> Incident:
    """Emit the next version of `incident` and clear its pending change lists."""
    if isinstance(facts, ServiceGraph):
        facts = ScopeFacts(facts)
    graph = facts.graph
    incident.version += 1
    root_cause = rank_root_causes(incident, graph, facts.precedence)
    priority, factors = assess_priority(incident, graph, facts.novelty(incident))
    members = sorted(incident.members.values(), key=lambda m: (m.first_seen, m.fingerprint))
    top_service = root_cause[0].service if root_cause else (members[0].service if members else None)
    lead = next((m for m in members if m.service == top_service), members[0] if members else None)
    extra = len(members) - 1
    title = f"[{top_service}] {lead.summary or lead.name}" if lead else "incident"
    if extra > 0:
        title += f" (+{extra} related)"
    services = incident.services
    summary = (
        f"{len(members)} member(s) on {len(services)} service(s); probable root cause {top_service}; "
        f"priority {priority} ({', '.join(f.factor for f in factors if f.weight > 0)})"
    )
    change = Change(added=list(incident.pending_added), resolved=list(incident.pending_resolved), reason=reason)
    incident.pending_added.clear()
    incident.pending_resolved.clear()
    return Incident(
        id=incident.id, version=incident.version, idempotency_key=f"{incident.id}:{incident.version}",
        status=status, priority=priority, title=title, scope=incident.scope, services=services,
        hosts=sorted({m.host for m in members if m.host}),
        first_seen=dt_from_epoch(incident.first_seen), last_seen=dt_from_epoch(incident.last_seen),
        resolved_at=dt_from_epoch(incident.resolved_at) if incident.resolved_at is not None else None,
        members=[_member(m) for m in members], root_cause=root_cause,
        explanation=Explanation(grouping=[*incident.grouping, *incident.notes], priority=factors, summary=summary),
        context=_context(top_service, graph), change=change,
    )
