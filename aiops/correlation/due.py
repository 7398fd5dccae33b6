"""Next-due times of a scope's incidents, so advancing event time touches only incidents with work due.

`next_due` returns the earliest event time at which `CorrelationEngine.advance` could change an incident
(flapping settles, a member goes stale, a pending incident opens or is dropped, a quiet resolve, an
`updated` or repeat notification, a resolved incident is forgotten). It errs early, never late: when an
incident's fate depends on something that may change at any time (an open incident not yet notified, i.e.
held by suppression, whose verdict depends on time and on dynamic silences), it is due on every advance.
Visiting an incident early is harmless (nothing is due, nothing changes); late would change outcomes.
`DueIndex` holds those times, visited in the scope's incident order exactly as a full scan would, and
each incident's live members (`DueIndex.live`), so timers, stale checks, flapping settles and suppression
read O(live members), not O(members). Derived state, rebuilt (every incident due once) after a load by
`state.due_index`, never stored. No rules are decided here.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping, Sequence

from aiops.correlation.config import CorrelationConfig
from aiops.correlation.incident_state import IncidentState, MemberState
from aiops.correlation.suppression.config import FlappingConfig

ALWAYS = -math.inf
NEVER = math.inf


def _is_live(member: MemberState) -> bool:
    return member.status == "firing" or member.flapping


def _member_due(incident: IncidentState, config: CorrelationConfig, flapping: FlappingConfig,
                live: Sequence[MemberState] | None) -> tuple[float, int]:
    """(earliest stale or flapping-settle time, active member count); `live`: its live members, if known."""
    due, active = NEVER, 0
    for member in incident.members.values() if live is None else live:
        if member.status == "firing":
            active += 1
            due = min(due, member.last_seen + config.stale_seconds)
        if member.flapping:
            due = min(due, member.transitions[-1] + flapping.calm_seconds if member.transitions else ALWAYS)
    return due, active


def next_due(incident: IncidentState, config: CorrelationConfig, flapping: FlappingConfig,
             live: Sequence[MemberState] | None = None) -> float:
    """Earliest event time at which advancing could change `incident` (see the module docstring); `live`
    are its live members when the caller knows them (else all members are scanned)."""
    due, active = _member_due(incident, config, flapping, live)
    if incident.status == "pending":
        if active >= config.min_active_members:
            return min(due, incident.first_seen + config.group_wait_seconds)
        return min(due, incident.last_seen + config.window_seconds) if active == 0 else due
    if incident.status == "resolved":
        if active > 0 or incident.resolved_at is None:
            return ALWAYS
        return min(due, incident.resolved_at + config.reopen_seconds)
    return ALWAYS if not incident.notified else min(due, _open_due(incident, config, live))


def _open_due(incident: IncidentState, config: CorrelationConfig, live: Sequence[MemberState] | None) -> float:
    """An open, notified incident: quiet resolve, `updated` after the group interval, repeat."""
    due = NEVER
    if not (live if live is not None else any(_is_live(m) for m in incident.members.values())):
        due = incident.last_resolve + config.resolve_quiet_seconds
    if incident.pending_added or incident.pending_resolved:
        due = min(due, incident.last_notified + config.group_interval_seconds)
    if config.repeat_interval_seconds > 0:
        due = min(due, incident.last_notified + config.repeat_interval_seconds)
    return due


class DueIndex:
    """Lazy min-heap of incident due times; stale heap entries are skipped when popped.

    Entries are (due time, incident id) plus each incident's insertion rank, so due incidents are visited
    in the scope's incident order, exactly as a full scan would."""

    def __init__(self) -> None:
        self.heap: list[tuple[float, str]] = []
        self.due_at: dict[str, float] = {}
        self.rank: dict[str, int] = {}
        self._next_rank = 0
        self._live: dict[str, tuple[dict[str, int], dict[str, MemberState]]] = {}
        """incident id -> (join order of its members, members that may be live)."""

    @classmethod
    def build(cls, incident_ids: Iterable[str]) -> DueIndex:
        """The index of a scope's incidents (after a load): every one due now, in the given order."""
        index = cls()
        for incident_id in incident_ids:
            index.added(incident_id)
        return index

    def _tracked(self, incident: IncidentState) -> tuple[dict[str, int], dict[str, MemberState]]:
        tracked = self._live.get(incident.id)
        if tracked is None:
            order = {fingerprint: i for i, fingerprint in enumerate(incident.members)}
            maybe = {fp: m for fp, m in incident.members.items() if _is_live(m)}
            tracked = self._live[incident.id] = (order, maybe)
        return tracked

    def mark(self, incident: IncidentState, member: MemberState) -> None:
        """`member` joined `incident` or received a signal: it may be live now."""
        order, maybe = self._tracked(incident)
        order.setdefault(member.fingerprint, len(order))
        maybe[member.fingerprint] = member

    def live(self, incident: IncidentState) -> list[MemberState]:
        """The incident's firing or flapping members, in join order.

        Kept per incident as a superset: the engine `mark`s a member whenever it joins or receives a signal
        (the only ways a member becomes firing or flapping); members found neither firing nor flapping are
        dropped here. Read in join order, exactly what a scan over all members filtered the same way gives."""
        order, maybe = self._tracked(incident)
        for fingerprint in [fp for fp, member in maybe.items() if not _is_live(member)]:
            del maybe[fingerprint]
        return sorted(maybe.values(), key=lambda member: order[member.fingerprint])

    def added(self, incident_id: str) -> None:
        """A new incident (appended to the scope's incidents): rank it last and make it due now."""
        self.rank[incident_id] = self._next_rank
        self._next_rank += 1
        self.schedule(incident_id, ALWAYS)

    def schedule(self, incident_id: str, at: float) -> None:
        if self.due_at.get(incident_id) == at:
            return
        self.due_at[incident_id] = at
        if at < NEVER:
            heapq.heappush(self.heap, (at, incident_id))

    def busy(self, now: float) -> bool:
        """Whether some incident may be due at `now` (stale heap entries may make this early-true)."""
        return bool(self.heap) and self.heap[0][0] <= now

    def pop_due(self, incidents: Mapping[str, IncidentState], now: float) -> list[IncidentState]:
        """The scope's `incidents` due at `now`, in the scope's incident order; forgotten ones are dropped."""
        ids: set[str] = set()
        while self.heap and self.heap[0][0] <= now:
            at, incident_id = heapq.heappop(self.heap)
            if self.due_at.get(incident_id) == at:
                del self.due_at[incident_id]
                ids.add(incident_id)
        out: list[IncidentState] = []
        for incident_id in sorted(ids, key=lambda i: self.rank.get(i, -1)):
            incident = incidents.get(incident_id)
            if incident is None:
                self.rank.pop(incident_id, None)
            else:
                out.append(incident)
        return out

    def reschedule(self, incident: IncidentState, config: CorrelationConfig, flapping: FlappingConfig) -> None:
        """Recompute the due time of an incident of the scope after it changed."""
        self.schedule(incident.id, next_due(incident, config, flapping, self.live(incident)))

    def forget(self, incident_id: str) -> None:
        """The incident left the scope: drop its timer and live members."""
        self.due_at.pop(incident_id, None)
        self.rank.pop(incident_id, None)
        self._live.pop(incident_id, None)
