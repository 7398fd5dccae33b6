"""Operator actions that move members between incidents: merge, split, unlink (see `operator`).

- merge: the incident resolves at once with `merged_into` and its members move to the target, exactly as an
  automatic merge (`Lifecycle.close_merged`, `merge.absorb`; decisions `resolved` rule `merge` on it and
  `merged` rule `operator` on the target); both must be live and in the same scope;
- split: the member leaves and opens a new incident (open at once when receivers knew the old one, else
  pending as usual); the two are never merged automatically (`IncidentState.apart`) and the member never
  joins the old one again (`IncidentState.unlinked`);
- unlink: the member leaves and is forgotten; it never joins that incident again: its next signal joins
  another incident by the usual rules or opens one.
The incident keeps at least one member (otherwise: resolve it). Versions as `operator.OperatorActions.version`.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Literal, Protocol

from aiops.actions import Action
from aiops.correlation.incident_state import IncidentState, MemberState
from aiops.correlation.merge import absorb
from aiops.correlation.state import ScopeState, due_index, index_of
from aiops.incidents import Incident

if TYPE_CHECKING:
    from aiops.correlation.engine import CorrelationEngine

MAX_UNLINKED = 100
MAX_GROUPING_LINES = 20


class Rejection(Exception):  # noqa: N818 - not an error: an action refused, never raised out of `operator`
    """The action cannot apply; its message is the reason on the `rejected` decision."""


class Versioner(Protocol):
    """`OperatorActions.version`: the incident's next version recording the action, if receivers know it."""

    def __call__(self, state: ScopeState, incident: IncidentState, action: Action, *, known: bool | None = None,
                 status: Literal["open", "updated", "resolved"] | None = None,
                 removed: tuple[str, ...] = ()) -> list[Incident]: ...


class MemberMoves:
    def __init__(self, engine: CorrelationEngine, version: Versioner) -> None:
        self.engine = engine
        self.lifecycle = engine.lifecycle
        self.version = version
        self.touched: list[IncidentState] = []
        """Incidents other than the action's that changed (their due times are recomputed)."""

    def merge(self, state: ScopeState, incident: IncidentState, action: Action, now: float) -> list[Incident]:
        survivor = state.incidents.get(action.into or "")
        if survivor is None:
            raise Rejection(f"unknown incident {action.into} in scope {state.scope!r} (merge target)")
        if survivor.status == "resolved":
            raise Rejection(f"merge target {survivor.id} is resolved")
        reason = f"merged {incident.id} ({len(incident.members)} member(s)) into {survivor.id} by {action.actor}"
        closed = self.lifecycle.close_merged(state, incident, survivor, now, reason)
        out = [stamp(version, action) for version in closed]
        absorb(state, survivor, incident, MAX_GROUPING_LINES, self.engine.config.stale_seconds)
        self.lifecycle.forget(state, incident)
        self.engine.ledger.record(survivor, "merged", "operator", now, reason, ref=incident.id)
        self.lifecycle.context.forget(survivor.id)
        self.touched.append(survivor)
        return out + self.version(state, survivor, action)

    def split(self, state: ScopeState, incident: IncidentState, action: Action, now: float) -> list[Incident]:
        member = self._take(state, incident, action)
        known = incident.notified
        out = self.version(state, incident, action, removed=(member.fingerprint,))
        seed = f"{state.scope}|{member.fingerprint}|{now:.3f}|split|{action.id}"
        new = IncidentState(id="inc-" + hashlib.sha256(seed.encode()).hexdigest()[:16], scope=state.scope,
                            first_seen=member.first_seen, last_seen=member.last_seen, apart=[incident.id])
        incident.apart.append(new.id)
        new.grouping.append(f"split out of {incident.id} by {action.actor}")
        member.joined_because = f"split out of {incident.id} by {action.actor}"
        member.added_seq = member.resolved_seq = 0  # its change numbers were the old incident's
        new.members[member.fingerprint] = member
        state.incidents[new.id] = new
        state.index[member.fingerprint] = new.id
        due_index(state).added(new.id)
        index_of(state).add(new, member)
        (new.note_added if member.status == "firing" else new.note_resolved)(member)
        state.touch(new.id, member.fingerprint)
        self.touched.append(new)
        self.engine.ledger.record(new, "opened", "operator", now, f"{action.kind} of {member.name}@"
                                  f"{member.service} out of {incident.id} by {action.actor}", member=member.fingerprint,
                                  ref=incident.id)
        if not known:
            return out  # pending: opens by the usual rules
        new.status, new.notified, new.opened_at, new.last_notified = "open", True, now, now
        if member.status == "resolved":
            new.last_resolve = now
        return out + self.version(state, new, action, known=True, status="open")

    def unlink(self, state: ScopeState, incident: IncidentState, action: Action, now: float) -> list[Incident]:
        member = self._take(state, incident, action)
        del state.index[member.fingerprint]
        return self.version(state, incident, action, removed=(member.fingerprint,))

    def _take(self, state: ScopeState, incident: IncidentState, action: Action) -> MemberState:
        """Remove the action's member from `incident` (kept out of it from now on); the member."""
        fingerprint = action.member or ""
        if fingerprint not in incident.members:
            raise Rejection(f"{fingerprint} is not a member of incident {incident.id}")
        if len(incident.members) == 1:
            raise Rejection(f"{fingerprint} is the only member of incident {incident.id} (resolve it instead)")
        index = index_of(state)
        index.remove(incident)
        member = incident.members.pop(fingerprint)
        index.add_keys(incident)
        for kept in incident.members.values():
            index.add(incident, kept)
        due_index(state).tallies.pop(incident.id, None)  # recounted on next use
        pending = incident.pending
        pending.added.pop(fingerprint, None)
        pending.resolved.pop(fingerprint, None)
        incident.unlinked = [*incident.unlinked, fingerprint][-MAX_UNLINKED:]
        state.dirty.removed.setdefault(incident.id, []).append(fingerprint)
        state.touch(incident.id)
        self.lifecycle.context.forget(incident.id)
        return member


def stamp(incident: Incident, action: Action, removed: tuple[str, ...] = ()) -> Incident:
    """`incident` with `action` recorded in its `change`."""
    change = incident.change.model_copy(update={"action": action.kind, "action_id": action.id,
                                                "actor": action.actor, "removed": list(removed)})
    return incident.model_copy(update={"change": change})
