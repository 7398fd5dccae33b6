"""Decision ledger of one engine: collects `Decision` records and mirrors them into incident notes.

The engine appends a decision for every join, open, reopen, resolve, suppression, inhibition, flapping
member and storm summary; the runtime drains them onto the decisions topic, replay keeps them in memory.
Each decision's one-line summary also goes into the incident's notes (capped), which the builder puts in
the incident's explanation. No rules here.
"""

from __future__ import annotations

from aiops.correlation.incident_state import IncidentState
from aiops.decisions import Decision, DecisionKind, decision_id
from aiops.signals import dt_from_epoch

MAX_NOTES = 30


class Ledger:
    def __init__(self) -> None:
        self.pending: list[Decision] = []

    def record(self, incident: IncidentState, kind: DecisionKind, rule: str, at: float, reason: str, *,
               member: str = "", score: float | None = None, ref: str = "") -> Decision:
        decision = Decision(
            id=decision_id(incident.id, member, kind, at, ref), ts=dt_from_epoch(at), scope=incident.scope,
            incident_id=incident.id, member=member, kind=kind, rule=rule,
            score=round(score, 4) if score is not None else None, ref=ref, reason=reason,
        )
        self.pending.append(decision)
        if kind not in ("joined", "notified"):
            _note(incident, f"{kind} ({rule}{': ' + ref if ref else ''}): {reason}")
        return decision

    def record_action(self, decision: Decision, incident: IncidentState | None) -> None:
        """An operator action's decision (built by `operator`), noted on its incident when there is one."""
        self.pending.append(decision)
        if incident is not None:
            _note(incident, f"{decision.rule} by {decision.actor} ({decision.outcome}): {decision.reason}")

    def drain(self) -> list[Decision]:
        out, self.pending = self.pending, []
        return out


def _note(incident: IncidentState, note: str) -> None:
    if len(incident.notes) < MAX_NOTES:
        incident.notes.append(note)
    else:
        incident.notes[-1] = note
