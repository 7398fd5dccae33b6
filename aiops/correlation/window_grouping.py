"""Time-window grouping correlator (the vertical slice's correlator).

Rules, all on event time:
- dedup: a signal whose fingerprint is already a member updates that member, never adds one;
- grouping: a new member joins a live incident of its scope when it is on the same service or on a
  service within `topology_hops` `depends_on` hops of one of the incident's services, and its time is
  within `window_seconds` of the incident's last activity; otherwise it starts a new (pending) incident;
- lifecycle: a pending incident opens once `group_wait_seconds` have passed since its first member and it
  has `min_active_members` firing members; an open incident emits `updated` at most once per
  `group_interval_seconds` when members changed (each message says what changed since the previous one),
  and `resolved` once all members are resolved and `resolve_quiet_seconds` have passed since the last one;
  firing members silent for `stale_seconds` are resolved as stale; a pending incident that never opened is
  dropped silently (nothing was notified, so nothing needs resolving).
Scope: a service's connected component in the dependency graph (or the service, or one global scope).
"""

from __future__ import annotations

import hashlib
from typing import Literal

from aiops.config import CorrelationConfig
from aiops.correlation.builder import build_incident
from aiops.correlation.state import IncidentState, MemberState, ScopeState
from aiops.correlation.topology import ServiceGraph
from aiops.incidents import Incident
from aiops.signals import Signal


class WindowGroupingCorrelator:
    """Groups signals by service/topology within a time window; owns no state of its own."""

    def __init__(self, config: CorrelationConfig, graph: ServiceGraph) -> None:
        self.config = config
        self.graph = graph

    def scope_of(self, signal: Signal) -> str:
        if self.config.scope == "global":
            return "global"
        if self.config.scope == "service":
            return signal.service
        return self.graph.component_of(signal.service)

    def process(self, state: ScopeState, signal: Signal) -> list[Incident]:
        """Apply one signal to its scope's state; return incident changes it causes now."""
        incident_id = state.index.get(signal.fingerprint)
        if incident_id is not None and incident_id in state.incidents:
            incident = state.incidents[incident_id]
            self._update_member(incident, signal)
        elif signal.status == "resolved":
            return []
        else:
            incident = self._join_or_create(state, signal)
        now = max(state.clock, signal.epoch)
        return self._emit_due(state, incident, now)

    def advance(self, state: ScopeState, now: float) -> list[Incident]:
        """Event time reached `now` in this scope: fire group waits, stale resolves and quiet resolves."""
        state.clock = max(state.clock, now)
        out: list[Incident] = []
        for incident in list(state.incidents.values()):
            self._expire_stale(incident, state.clock)
            out.extend(self._emit_due(state, incident, state.clock))
        return out

    def _update_member(self, incident: IncidentState, signal: Signal) -> None:
        member = incident.members[signal.fingerprint]
        epoch = signal.epoch
        member.last_seen = max(member.last_seen, epoch)
        incident.last_seen = max(incident.last_seen, epoch)
        if signal.evidence is not None and (member.evidence is None or signal.evidence.score >= member.evidence.score):
            member.evidence = signal.evidence
        if signal.status == member.status:
            return
        member.status = signal.status
        if signal.status == "resolved":
            incident.pending_resolved.append(member.fingerprint)
            incident.last_resolve = max(incident.last_resolve, epoch)
        else:
            incident.pending_added.append(member.fingerprint)

    def _join_or_create(self, state: ScopeState, signal: Signal) -> IncidentState:
        epoch = signal.epoch
        best: tuple[int, float, IncidentState] | None = None
        for incident in state.incidents.values():
            if incident.status == "resolved" or epoch < incident.first_seen - self.config.window_seconds:
                continue
            if epoch > incident.last_seen + self.config.window_seconds:
                continue
            hops = self.graph.hops(signal.service, incident.services, self.config.topology_hops)
            if hops is not None and (best is None or (hops, -incident.last_seen) < (best[0], best[1])):
                best = (hops, -incident.last_seen, incident)
        if best is None:
            incident = self._create(state, signal)
            reason = "first member"
        else:
            hops, _, incident = best
            reason = self._join_reason(signal, incident, hops)
            incident.grouping.append(f"{signal.name}@{signal.service}: {reason}")
        member = MemberState(
            fingerprint=signal.fingerprint, origin=signal.origin, name=signal.name, service=signal.service,
            host=signal.host, labels=signal.labels, status=signal.status, severity=signal.severity,
            first_seen=signal.started_at.timestamp(), last_seen=epoch, summary=signal.summary,
            annotations=signal.annotations, evidence=signal.evidence, joined_because=reason,
        )
        incident.members[signal.fingerprint] = member
        incident.pending_added.append(signal.fingerprint)
        incident.first_seen = min(incident.first_seen, member.first_seen)
        incident.last_seen = max(incident.last_seen, epoch)
        state.index[signal.fingerprint] = incident.id
        return incident

    def _join_reason(self, signal: Signal, incident: IncidentState, hops: int) -> str:
        window = f"within {self.config.window_seconds:.0f}s"
        if hops == 0:
            return f"same service {signal.service} {window}"
        near = self.graph.hops(signal.service, incident.services, hops)
        return f"topology: {signal.service} is {near} depends_on hop(s) from {', '.join(incident.services)} {window}"

    def _create(self, state: ScopeState, signal: Signal) -> IncidentState:
        seed = f"{state.scope}|{signal.fingerprint}|{signal.epoch:.3f}"
        incident_id = "inc-" + hashlib.sha256(seed.encode()).hexdigest()[:16]
        incident = IncidentState(
            id=incident_id, scope=state.scope, first_seen=signal.started_at.timestamp(), last_seen=signal.epoch
        )
        incident.grouping.append(f"opened by {signal.name}@{signal.service} ({signal.origin})")
        state.incidents[incident_id] = incident
        return incident

    def _expire_stale(self, incident: IncidentState, now: float) -> None:
        for member in incident.members.values():
            if member.status == "firing" and member.last_seen < now - self.config.stale_seconds:
                member.status = "resolved"
                incident.pending_resolved.append(member.fingerprint)
                incident.last_resolve = max(incident.last_resolve, now)

    def _emit_due(self, state: ScopeState, incident: IncidentState, now: float) -> list[Incident]:
        if incident.status == "pending":
            return self._maybe_open(state, incident, now)
        if incident.active_members == 0 and now >= incident.last_resolve + self.config.resolve_quiet_seconds:
            incident.status = "resolved"
            incident.resolved_at = now
            self._forget(state, incident)
            return [self._build(incident, "resolved", "all members resolved and quiet")]
        due = now >= incident.last_notified + self.config.group_interval_seconds
        if due and (incident.pending_added or incident.pending_resolved):
            incident.last_notified = now
            return [self._build(incident, "updated", "members changed")]
        return []

    def _maybe_open(self, state: ScopeState, incident: IncidentState, now: float) -> list[Incident]:
        waited = now >= incident.first_seen + self.config.group_wait_seconds
        if waited and incident.active_members >= self.config.min_active_members:
            incident.status = "open"
            incident.last_notified = now
            return [self._build(incident, "open", "new incident")]
        if incident.active_members == 0 and now > incident.last_seen + self.config.window_seconds:
            self._forget(state, incident)
        return []

    def _forget(self, state: ScopeState, incident: IncidentState) -> None:
        state.incidents.pop(incident.id, None)
        for fingerprint in incident.members:
            if state.index.get(fingerprint) == incident.id:
                del state.index[fingerprint]

    def _build(self, incident: IncidentState, status: Literal["open", "updated", "resolved"], why: str) -> Incident:
        return build_incident(incident, self.graph, status, why)
