"""The correlation engine: dedup, grouping (rule, topology, learned co-occurrence) and lifecycle driving.

All on event time, with state held outside (`ScopeState`):
- dedup: a signal whose dedup key (`dedup_by`, default the source fingerprint) is a member updates it;
- grouping: a new member joins a live incident of its scope by `group_by` key, topology (`topology_hops`)
  or learned co-occurrence, first match wins in that order (`_joins`), within `window_seconds` of its
  activity (or `reopen_seconds` of its resolve: reopens it), else starts one; every join is a `Decision`;
- merging (`correlation.merge_incidents`): a new member that directly links two or more live incidents
  joins the earliest-opened one and the others merge into it (`merge`, `_merge`);
- re-sends (same member and status, no stronger evidence, within `refresh_seconds` of its `last_seen`) are
  absorbed: nothing changes but a moved endsAt (`_move_expiry`: the member alone is written); a first signal
  older than what a closed incident reflected (`closed_memory_seconds`) is ignored; both are counted;
- expiry: a firing member resolves when event time reaches its newest signal's endsAt (an `expired`
  decision) or, without one, `stale_seconds` after its `last_seen` (`due.DueIndex.pop_expired`).
Status changes feed flapping, new members the storm guard and the learned model; notifications: `Lifecycle`.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from aiops.actions import Action
from aiops.correlation.attrs import attributes, dedup_key, group_key
from aiops.correlation.builder import BuildContext
from aiops.correlation.config import CorrelationConfig
from aiops.correlation.incident_state import IncidentState, MemberState
from aiops.correlation.learned import ModelFactory, TypeFn, default_factory, export_edges
from aiops.correlation.ledger import Ledger
from aiops.correlation.lifecycle import Lifecycle
from aiops.correlation.merge import Join, absorb, bridge_links, merge_plan
from aiops.correlation.operator import OperatorActions
from aiops.correlation.state import (
    ScopeState,
    closed_index,
    due_index,
    expire_closed,
    index_of,
    model_of,
    observed,
    persist,
)
from aiops.correlation.suppression.config import SuppressionConfig
from aiops.correlation.suppression.flapping import record_transition
from aiops.correlation.suppression.guards import count_new_member, storm_over
from aiops.correlation.suppression.rules import SuppressionPolicy
from aiops.correlation.topology import ServiceGraph, scope_of
from aiops.decisions import Decision
from aiops.incidents import Incident
from aiops.signals import Signal, dt_from_epoch

MAX_GROUPING_LINES = 20
MAX_SEEN_TYPES = 20_000
MERGE_HOPS = 1
"""Topology reach of a merge: a member merges only incidents it is adjacent to (see `merge`)."""


class CorrelationEngine:
    """Groups signals into incidents; owns no scope state, only its decision outbox."""

    def __init__(self, config: CorrelationConfig, graph: ServiceGraph, *, model_factory: ModelFactory | None = None,
                 member_type: TypeFn | None = None, learned: bool = True,
                 suppression: SuppressionConfig | None = None) -> None:
        self.config = config
        self.suppression = suppression or SuppressionConfig()
        self.graph = graph
        factory, type_fn = default_factory(config.learned)
        self.model_factory = model_factory if model_factory is not None else (factory if learned else None)
        self.member_type: TypeFn = member_type or type_fn
        self.ledger = Ledger()
        self.counters: Counter[str] = Counter()
        """`refreshes_absorbed` (re-sends that changed nothing but, for `expiries_moved` of them, their
        member's endsAt), `replayed_closed` (signals ignored because a closed incident already reflected them)."""
        self.lifecycle = Lifecycle(config, BuildContext(graph, self.model_factory), self.ledger, self.suppression)
        self.policy = self.suppression.policy()
        self.operator = OperatorActions(self)

    @property
    def policy(self) -> SuppressionPolicy | None:
        return self.lifecycle.policy

    @policy.setter
    def policy(self, policy: SuppressionPolicy | None) -> None:
        self.lifecycle.policy = policy

    def scope_of(self, signal: Signal) -> str:
        return scope_of(signal, self.config.scope, self.graph)

    def drain_decisions(self) -> list[Decision]:
        return self.ledger.drain()

    def process(self, state: ScopeState, signal: Signal) -> list[Incident]:
        """Apply one signal to its scope's state; return incident changes it causes now."""
        key = dedup_key(signal, self.config.dedup_by)
        incident_id = state.index.get(key)
        if incident_id is not None and incident_id in state.incidents:
            incident = state.incidents[incident_id]
            if not self._update_member(state, incident, key, signal):
                return []
            out: list[Incident] = []
        elif signal.status == "resolved" or self._replayed(state, key, signal.epoch):
            return []  # nothing to resolve, or a closed incident already reflected it
        else:
            incident, out = self._join_or_create(state, key, signal)
        out.extend(self.lifecycle.emit_due(state, incident, max(state.clock, signal.epoch)))
        self._reschedule(state, incident)
        return out

    def act(self, state: ScopeState | None, action: Action) -> list[Incident]:
        return self.operator.apply(state, action)  # see `operator`

    def next_due(self, state: ScopeState) -> float:
        if state.storm.active or state.derived.learn_pending:
            return -math.inf  # the storm guard checks every advance; a learned model is copied at the next one
        return due_index(state).next_time(self.config.stale_seconds)

    def advance(self, state: ScopeState, now: float) -> list[Incident]:
        """Event time reached `now`: group waits, flapping settles, expired (endsAt, stale) and quiet resolves,
        repeats.

        Visits only the incidents whose next-due time (`due.next_due`) has come, in the scope's incident
        order, so an advance costs O(due incidents), not O(incidents); the outcome is that of a full scan."""
        state.clock = max(state.clock, now)
        index = due_index(state)
        expire_closed(state, self.config.closed_memory_seconds)
        if not (index.busy(state.clock, self.config.stale_seconds) or state.storm.active
                or state.derived.learn_pending):
            return []  # idle scope: only its clock moved
        state.dirty.meta = True
        if storm_over(state, state.clock, self.suppression.storm):
            self._storm_decision(state, "storm over: notifications back to group_interval")
            for incident in list(state.incidents.values()):  # once per storm: intervals shrink
                if incident.change_seq > incident.shown_seq:
                    self._reschedule(state, incident)
        persist(state)
        out = []
        expired = self._expired_members(state)
        for incident in index.pop_due(state.incidents, state.clock, set(expired)):
            self.lifecycle.settle(state, incident, state.clock)
            self._expire(state, incident, expired.get(incident.id, ()), state.clock)
            out.extend(self.lifecycle.emit_due(state, incident, state.clock))
            self._reschedule(state, incident)
        return out

    def export_relations(self, state: ScopeState, min_confidence: float | None = None) -> list[dict[str, Any]]:
        threshold = self.config.learned.min_confidence if min_confidence is None else min_confidence
        return export_edges(model_of(state, self.model_factory), state.scope, threshold)

    def _reschedule(self, state: ScopeState, incident: IncidentState) -> None:
        """Recompute the incident's due time after it changed; drop its timer when it was forgotten."""
        if incident.id in state.incidents:
            due_index(state).reschedule(incident, self.config, self.suppression.flapping, state.storm.active)
        else:
            due_index(state).forget(incident.id)

    def _replayed(self, state: ScopeState, key: str, epoch: float) -> bool:
        """A closed incident (forgotten, still remembered) already reflected this member at `epoch`: a
        re-processed signal after a restart, or one later than the incident's whole reopen window."""
        closed = closed_index(state).get(key)
        if closed is None or epoch > closed[0]:
            return False
        self.counters["replayed_closed"] += 1
        return True

    def _update_member(self, state: ScopeState, incident: IncidentState, key: str, signal: Signal) -> bool:
        """Apply a signal of an existing member; False when it was absorbed as a re-send (nothing changed)."""
        member = incident.members[key]
        epoch = signal.epoch
        previous = member.last_seen
        evidence = signal.evidence
        stronger = evidence is not None and (member.evidence is None or evidence.score >= member.evidence.score)
        if signal.status == member.status and not stronger and epoch < previous + self.config.refresh_seconds:
            self.counters["refreshes_absorbed"] += 1
            if epoch >= previous:
                self._move_expiry(state, incident, member, signal)
            return False
        member.last_seen = max(previous, epoch)
        incident.last_seen = max(incident.last_seen, epoch)
        state.touch(incident.id, key)
        if epoch >= previous:
            member.ends_at = _ends_at(signal)  # the newest signal's endsAt replaces the member's (or clears it)
        if stronger:
            member.evidence = evidence
            self.lifecycle.context.note_evidence(incident, member)
        if signal.status == member.status or epoch < previous:
            if member.status == "firing":
                due_index(state).queue(member)  # an earlier ends_at (or none) needs a new heap entry
            return True  # same status, or older than what the member already reflects (a replay after a
            # restart or rebalance, or a late duplicate): a stale `firing` must not reopen, nor `resolved` resolve
        due = due_index(state)
        tally, was_firing, was_flapping = due.tally(incident), member.status == "firing", member.flapping
        member.status = signal.status
        if record_transition(member, epoch, self.suppression.flapping):
            self.ledger.record(incident, "flapping", "flapping", epoch, f"{member.name}@{member.service} changed "
                               f"state {len(member.transitions)} times; its changes are held", member=key)
        tally.apply(member, was_firing, was_flapping)
        if signal.status == "resolved":
            incident.last_resolve = max(incident.last_resolve, epoch)
        else:
            due.queue(member)
        if not member.flapping:
            (incident.note_resolved if signal.status == "resolved" else incident.note_added)(member)
        return True

    def _move_expiry(self, state: ScopeState, incident: IncidentState, member: MemberState, signal: Signal) -> None:
        """An absorbed re-send of a firing member that carries another endsAt (or none where the member had
        one) still replaces its expiry: only the member is written (its checkpoint must keep the expiry the
        signal, whose offset it commits, set), nothing else changes."""
        ends_at = _ends_at(signal)
        if member.status != "firing" or ends_at == member.ends_at:
            return
        member.ends_at = ends_at
        due_index(state).queue(member)
        state.touch_member(incident.id, member.fingerprint)
        self.counters["expiries_moved"] += 1

    def _join_or_create(self, state: ScopeState, key: str, signal: Signal) -> tuple[IncidentState, list[Incident]]:
        """The incident the new member joins (or starts), and the closes of the incidents it merged."""
        epoch = signal.epoch
        attrs = attributes(signal)
        gkey = group_key(attrs, self.config.group_by)
        mtype = self.member_type(signal)
        found = self._joins(state, signal, attrs, gkey, mtype, key)
        plan = self._merge_plan(state, signal, found) if self.config.merge_incidents else None
        best = plan[0] if plan is not None else min(found, key=Join.order) if found else None
        if best is None:
            incident = self._create(state, signal, gkey)
            reason, rule, score = "first member", "new incident", 1.0
        else:
            incident = state.incidents[best.incident_id]
            rule, reason, score = best.rule, best.reason, best.score
            if len(incident.grouping) < MAX_GROUPING_LINES:
                incident.grouping.append(f"{signal.name}@{signal.service}: {reason}")
        member = MemberState(  # (model_construct is slower: it inspects each default factory's signature)
            fingerprint=key, origin=signal.origin, name=signal.name, service=signal.service,
            host=signal.host, labels=signal.labels, status=signal.status, severity=signal.severity,
            first_seen=signal.started_at.timestamp(), last_seen=epoch, ends_at=_ends_at(signal), summary=signal.summary,
            annotations=signal.annotations, evidence=signal.evidence, joined_because=reason, member_type=mtype,
        )
        due = due_index(state)
        tally = due.tally(incident)
        incident.members[key] = member
        tally.apply(member, False, False)
        due.queue(member)
        incident.note_added(member)
        incident.first_seen = min(incident.first_seen, member.first_seen)
        incident.last_seen = max(incident.last_seen, epoch)
        state.index[key] = incident.id
        index_of(state).add(incident, member)
        state.touch(incident.id, key)
        self.ledger.record(incident, "joined", rule, epoch, reason, member=key, score=score)
        self._observe(state, mtype, epoch)
        return incident, self._merge(state, incident, plan[1], member) if plan is not None else []

    def _merge_plan(self, state: ScopeState, signal: Signal, found: list[Join]) -> tuple[Join, list[Join]] | None:
        if len({join.incident_id for join in found}) < 2:
            return None
        hops = min(MERGE_HOPS, self.config.topology_hops)
        links = bridge_links(self.graph, sorted({signal.service, signal.host} - {""}), hops)
        return merge_plan(state, found, links)

    def _merge(self, state: ScopeState, survivor: IncidentState, joins: list[Join],
               bridge: MemberState) -> list[Incident]:
        """Merge the incidents `joins` reached into `survivor`, which `bridge` just joined (see `merge`).

        Each merged incident closes (`resolved` with `merged_into`) and the survivor records a `merged`
        decision with the bridging rule and score."""
        now = max(state.clock, bridge.last_seen)
        out: list[Incident] = []
        for join in joins:
            merged = state.incidents[join.incident_id]
            reason = (f"merged {merged.id} ({len(merged.members)} member(s)) into {survivor.id}: "
                      f"{bridge.name}@{bridge.service} reaches both ({join.reason})")
            out.extend(self.lifecycle.close_merged(state, merged, survivor, now, reason))
            absorb(state, survivor, merged, MAX_GROUPING_LINES, self.config.stale_seconds)
            self.lifecycle.forget(state, merged)
            self._reschedule(state, merged)
            self.ledger.record(survivor, "merged", join.rule, now, reason, member=bridge.fingerprint,
                               score=join.score, ref=merged.id)
        self.lifecycle.context.forget(survivor.id)  # its digest is rebuilt from all members
        return out

    def _observe(self, state: ScopeState, mtype: str, epoch: float) -> None:
        if mtype not in state.seen_types:
            if len(state.seen_types) >= MAX_SEEN_TYPES:
                del state.seen_types[min(state.seen_types, key=state.seen_types.__getitem__)]
            state.seen_types[mtype] = epoch
            state.dirty.types = True
        model = model_of(state, self.model_factory)
        if model is not None:
            model.observe(mtype, epoch)
            observed(state)
        state.dirty.meta = True
        if count_new_member(state, epoch, self.suppression.storm):
            self._storm_decision(state, f"storm: {state.storm.rate:.0f} new members this bucket vs baseline "
                                        f"{state.storm.baseline:.1f}; updates summarised every "
                                        f"{self.config.storm_summary_interval_seconds:.0f}s")

    def _storm_decision(self, state: ScopeState, reason: str) -> None:
        for incident in state.incidents.values():
            if incident.status == "open":
                self.ledger.record(incident, "storm", "storm", state.storm.since, reason,
                                   score=state.storm.rate, ref=state.scope)

    def _joinable(self, incident: IncidentState, epoch: float) -> bool:
        window = self.config.window_seconds
        if incident.status == "resolved":
            return incident.resolved_at is not None and epoch <= incident.resolved_at + self.config.reopen_seconds
        return incident.first_seen - window <= epoch <= incident.last_seen + window

    def _joins(self, state: ScopeState, signal: Signal, attrs: dict[str, str], gkey: str, mtype: str,
               key: str) -> list[Join]:
        """Every (incident, rule) the new member may join; the best join is the least.

        Rules: `group_by` (its `group_by` key equals the incident's), `topology` (one of its topology nodes,
        service or host, is within `topology_hops` of the incident's nodes; score 1/(1+hops)) and, only when
        neither found one, `co-occurrence` (the learned model relates its member type to one of the
        incident's; score = confidence). Never an incident an operator unlinked `key` from."""
        index = index_of(state)
        found: list[Join] = []
        epoch = signal.epoch
        within = f"within {self.config.window_seconds:.0f}s"

        def consider(ids: set[str], rank: int, score: float, rule: str, why: str) -> None:
            for incident_id in ids:
                incident = state.incidents.get(incident_id)
                if incident is not None and self._joinable(incident, epoch) and key not in incident.unlinked:
                    found.append(Join(rank, score, incident.last_seen, incident_id, rule, why))

        if gkey:
            same = " ".join(f"{name} {attrs.get(name, '')}" for name in self.config.group_by)
            consider(index.by_key.get(gkey, set()), 0, 1.0, "group_by", f"same {same} {within}")
        for node in sorted({signal.service, signal.host} - {""}):
            for near, hops in self.graph.within(node, self.config.topology_hops).items():
                ids = index.by_node.get(near)
                if ids:
                    why = (f"same service {near} {within}" if hops == 0 and near == signal.service else
                           f"same host {near} {within}" if hops == 0 else
                           f"topology: {node} is {hops} depends_on hop(s) from {near} {within}")
                    consider(ids, 1, 1.0 / (1 + hops), "topology", why)
        if not found:
            self._learned_candidates(state, mtype, consider)
        return found

    def _learned_candidates(self, state: ScopeState, mtype: str,
                            consider: Callable[[set[str], int, float, str, str], None]) -> None:
        model = model_of(state, self.model_factory)
        if model is None:
            return
        by_type = index_of(state).by_type
        for other in sorted(model.partners(mtype) & by_type.keys()):  # types it was ever counted with
            ids = by_type[other]
            edge = model.related(mtype, other)
            if edge is not None and edge.confidence >= self.config.learned.min_confidence:
                consider(ids, 2, float(edge.confidence), "co-occurrence",
                         f"co-occurrence with {other}, confidence {edge.confidence:.2f}")

    def _create(self, state: ScopeState, signal: Signal, gkey: str) -> IncidentState:
        seed = f"{state.scope}|{signal.fingerprint}|{signal.epoch:.3f}"
        incident_id = "inc-" + hashlib.sha256(seed.encode()).hexdigest()[:16]
        incident = IncidentState(id=incident_id, scope=state.scope, group_key=gkey,
                                 first_seen=signal.started_at.timestamp(), last_seen=signal.epoch)
        incident.grouping.append(f"opened by {signal.name}@{signal.service} ({signal.origin})")
        state.incidents[incident_id] = incident
        due_index(state).added(incident_id)
        return incident

    def _expired_members(self, state: ScopeState) -> dict[str, list[MemberState]]:
        """Incident id -> its firing members expired (endsAt reached, or not refreshed for `stale_seconds`), by
        fingerprint."""
        found: dict[str, list[MemberState]] = {}
        for member in due_index(state).pop_expired(state.clock, self.config.stale_seconds):
            incident_id = state.index.get(member.fingerprint)
            incident = state.incidents.get(incident_id) if incident_id is not None else None
            if incident is not None and incident.members.get(member.fingerprint) is member:
                found.setdefault(incident.id, []).append(member)
        for members in found.values():
            members.sort(key=lambda member: member.fingerprint)
        return found

    def _expire(self, state: ScopeState, incident: IncidentState, expired: Iterable[MemberState], now: float) -> None:
        """Resolve the incident's expired members; one whose endsAt passed gets an `expired` decision."""
        tally = due_index(state).tally(incident)
        for member in expired:
            if member.status == "firing":
                was_flapping = member.flapping
                member.status = "resolved"
                member.flapping = False
                tally.apply(member, True, was_flapping)
                incident.note_resolved(member)
                incident.last_resolve = max(incident.last_resolve, now)
                state.touch(incident.id, member.fingerprint)
                if member.ends_at is not None:
                    ends = dt_from_epoch(member.ends_at).isoformat().replace("+00:00", "Z")
                    self.ledger.record(incident, "expired", "ends_at", now, f"{member.name}@{member.service}: "
                                       f"endsAt {ends} passed without a re-send", member=member.fingerprint)


def _ends_at(signal: Signal) -> float | None:
    """The expiry a signal sets: its endsAt while firing (None: the stale rule)."""
    return signal.ends_at.timestamp() if signal.ends_at is not None and signal.status == "firing" else None
