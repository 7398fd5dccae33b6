"""Operator actions applied by correlation, the single writer of incident state (`aiops.actions.Action`).

`OperatorActions.apply` applies one action to its scope's state at the scope's event-time clock and returns
the incident versions it causes; every action gets exactly one `action` decision (applied or rejected, with
why), and an id already handled in the scope is ignored (`ScopeState.actions`, the latest
`MAX_REMEMBERED_ACTIONS`). A version is emitted at once, even while suppressed or snoozed, when receivers know
the incident (else the next version carries the effect), with `change.action`/`action_id`/`actor`.
Effects: acknowledge/unacknowledge; resolve by hand (members stay as they are; only a member firing again or a
new member reopens it, `lifecycle`); reopen (a resolved incident still in its reopen window; it stays open
until resolved or a member fires and all resolve again); assign (owner/team); note (the latest
`MAX_OPERATOR_NOTES`); snooze (notifications but resolves held until `until`, event time); merge (the merge
machinery: `merge.absorb`, `Lifecycle.close_merged`); split (the member moves to a new incident, never
merged back automatically); unlink (the member leaves; it never joins that incident again, its next signal
joins or opens another). Rejected, changing nothing: unknown or forgotten incident, wrong status, unknown
member, an incident's only member. Members moving: `operator_members`. Applying only, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from aiops.actions import Action
from aiops.correlation.builder import build_incident
from aiops.correlation.incident_state import IncidentState
from aiops.correlation.operator_members import MemberMoves, Rejection, stamp
from aiops.correlation.state import ScopeState, due_index
from aiops.decisions import Decision, decision_id
from aiops.incidents import Incident, OperatorNote
from aiops.signals import dt_from_epoch

if TYPE_CHECKING:
    from aiops.correlation.engine import CorrelationEngine

MAX_REMEMBERED_ACTIONS = 1000
MAX_OPERATOR_NOTES = 20
LIVE_ONLY = frozenset({"acknowledge", "unacknowledge", "resolve", "snooze", "merge", "split", "unlink"})
"""Kinds that need a live (pending or open) incident; `reopen` needs a resolved one."""


class OperatorActions:
    """Applies operator actions to scope states with an engine's configuration, lifecycle and ledger."""

    def __init__(self, engine: CorrelationEngine) -> None:
        self.engine = engine
        self.lifecycle = engine.lifecycle
        self.moves = MemberMoves(engine, self.version)

    def apply(self, state: ScopeState | None, action: Action) -> list[Incident]:
        """Apply `action` to its scope's state (None: a scope this worker never saw); see the module."""
        if state is not None and action.id in state.actions:
            return []  # re-delivered: handled once already
        now = state.clock if state is not None else action.requested_at.timestamp()
        incident = state.incidents.get(action.incident_id) if state is not None else None
        try:
            if state is None or incident is None:
                raise Rejection(_unknown(state, action))
            out = self._dispatch(state, incident, action, now)
        except Rejection as rejection:
            self._decide(action, now, incident, "rejected", str(rejection))
            out = []
        else:
            self._decide(action, now, incident, "applied", _reason(action))
            self._reschedule(state, incident)
        if state is not None:
            _remember(state, action.id, now)
        return out

    def _dispatch(self, state: ScopeState, incident: IncidentState, action: Action, now: float) -> list[Incident]:
        if action.kind in LIVE_ONLY and incident.status == "resolved":
            raise Rejection(f"incident {incident.id} is resolved")
        handlers: dict[str, Callable[[ScopeState, IncidentState, Action, float], list[Incident]]] = {
            "acknowledge": self._acknowledge, "unacknowledge": self._unacknowledge, "resolve": self._resolve,
            "reopen": self._reopen, "assign": self._assign, "note": self._note, "snooze": self._snooze,
            "merge": self.moves.merge, "split": self.moves.split, "unlink": self.moves.unlink,
        }
        return handlers[action.kind](state, incident, action, now)

    def _acknowledge(self, state: ScopeState, incident: IncidentState, action: Action, now: float) -> list[Incident]:
        incident.acknowledged_by, incident.acknowledged_at = action.actor, now
        return self.version(state, incident, action)

    def _unacknowledge(self, state: ScopeState, incident: IncidentState, action: Action,
                       now: float) -> list[Incident]:
        if not incident.acknowledged_by:
            raise Rejection(f"incident {incident.id} is not acknowledged")
        incident.acknowledged_by, incident.acknowledged_at = "", None
        return self.version(state, incident, action)

    def _resolve(self, state: ScopeState, incident: IncidentState, action: Action, now: float) -> list[Incident]:
        """Resolved now; members stay as they are (a still-firing one does not reopen it, see the module)."""
        known = incident.notified
        incident.status, incident.resolved_at, incident.resolved_by = "resolved", now, action.actor
        incident.notified = incident.held_open = False
        out = self.version(state, incident, action, known=known, status="resolved")
        incident.clear_pending()  # what fires or joins from now on reopens it
        if self.engine.config.reopen_seconds <= 0:
            self.lifecycle.forget(state, incident, remember=True)
        return out

    def _reopen(self, state: ScopeState, incident: IncidentState, action: Action, now: float) -> list[Incident]:
        if incident.status != "resolved":
            raise Rejection(f"incident {incident.id} is not resolved")
        incident.status, incident.resolved_at, incident.resolved_by = "open", None, ""
        incident.acknowledged_by, incident.acknowledged_at = "", None
        incident.reopened += 1
        incident.held_open = incident.notified = True
        incident.last_notified = now
        return self.version(state, incident, action, known=True, status="open")

    def _assign(self, state: ScopeState, incident: IncidentState, action: Action, now: float) -> list[Incident]:
        incident.owner = action.owner or incident.owner
        incident.team = action.team or incident.team
        return self.version(state, incident, action)

    def _note(self, state: ScopeState, incident: IncidentState, action: Action, now: float) -> list[Incident]:
        note = OperatorNote(actor=action.actor, at=dt_from_epoch(now), text=action.comment, action_id=action.id)
        incident.operator_notes = [*incident.operator_notes, note][-MAX_OPERATOR_NOTES:]
        return self.version(state, incident, action)

    def _snooze(self, state: ScopeState, incident: IncidentState, action: Action, now: float) -> list[Incident]:
        assert action.until is not None  # the contract requires it
        until = action.until.timestamp()
        if until <= now:
            raise Rejection(f"snooze until {action.until.isoformat()} is not after the scope's event time "
                            f"{dt_from_epoch(now).isoformat()}")
        incident.snoozed_until = until
        return self.version(state, incident, action)

    def version(self, state: ScopeState, incident: IncidentState, action: Action, *, known: bool | None = None,
                status: Literal["open", "updated", "resolved"] | None = None,
                removed: tuple[str, ...] = ()) -> list[Incident]:
        """The incident's next version recording `action`, when receivers know the incident (`known`; default:
        it was notified, or is resolved after a version); else nothing (its next version will carry it)."""
        state.touch(incident.id)
        if known is None:
            known = incident.notified or (incident.status == "resolved" and incident.version > 0)
        if not known:
            return []
        if status is None:
            status = "resolved" if incident.status == "resolved" else "updated"
        built = build_incident(incident, self.lifecycle.context.for_scope(state), status, _reason(action))
        return [stamp(built, action, removed)]

    def _decide(self, action: Action, now: float, incident: IncidentState | None,
                outcome: Literal["applied", "rejected"], reason: str) -> None:
        decision = Decision(
            id=decision_id(action.incident_id, action.member or "", "action", now, action.id), ts=dt_from_epoch(now),
            scope=action.scope, incident_id=action.incident_id, member=action.member or "", kind="action",
            rule=action.kind, ref=action.id, reason=reason, actor=action.actor, comment=action.comment,
            outcome=outcome,
        )
        self.engine.ledger.record_action(decision, incident)

    def _reschedule(self, state: ScopeState, incident: IncidentState) -> None:
        due = due_index(state)
        for touched in (incident, *self.moves.touched):
            if touched.id in state.incidents:
                due.reschedule(touched, self.engine.config, self.engine.suppression.flapping, state.storm.active)
            else:
                due.forget(touched.id)
        self.moves.touched.clear()


def _reason(action: Action) -> str:
    target = {"merge": f" into {action.into}", "split": f" member {action.member}",
              "unlink": f" member {action.member}", "snooze": f" until {action.until}"}.get(action.kind, "")
    return f"{action.kind}{target} by {action.actor}" + (f": {action.comment}" if action.comment else "")


def _unknown(state: ScopeState | None, action: Action) -> str:
    if state is None:
        return f"unknown scope {action.scope!r} (no incident there)"
    if action.incident_id in state.closed:
        return f"incident {action.incident_id} is closed (past its reopen window)"
    return f"unknown incident {action.incident_id} in scope {action.scope!r}"


def _remember(state: ScopeState, action_id: str, now: float) -> None:
    state.actions[action_id] = now
    while len(state.actions) > MAX_REMEMBERED_ACTIONS:
        del state.actions[next(iter(state.actions))]
    state.dirty.actions = True
