"""Next-due times of a scope's incidents and members, so advancing event time touches only what is due.

`next_due` returns the earliest event time at which `CorrelationEngine.advance` could change an incident
(flapping settles, a pending incident opens or is dropped, a quiet resolve, an `updated` or repeat
notification, a resolved incident is forgotten). It errs early, never late: an incident whose fate depends on
something that may change at any time (open, not yet notified, i.e. held by suppression) is due on every
advance. Firing members expire on two lazy heaps (`DueIndex.pop_expired`): by `last_seen` + `stale_seconds`
(a refresh only moves `last_seen`; the entry is re-pushed when popped early, so a refresh costs no heap work),
or, when their latest signal carried an endsAt, at `ends_at` (a later one is found when the entry pops; only
an earlier one pushes a new entry, the older one is then skipped). `Tally` counts an
incident's firing members and holds its flapping ones, kept up to date by the engine on every status change,
so timers and lifecycle checks cost O(1) per incident whatever its size. All derived, rebuilt (every incident
due once) after a load by `state.due_index`, never stored. No rules are decided here.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Mapping

from aiops.correlation.config import CorrelationConfig
from aiops.correlation.incident_state import IncidentState, MemberState
from aiops.correlation.suppression.config import FlappingConfig

ALWAYS = -math.inf
NEVER = math.inf


class Tally:
    """An incident's firing-member count, its flapping members (few) and its live (firing or flapping)
    members, kept by the engine on every status change."""

    __slots__ = ("firing", "flapping", "members")

    def __init__(self, incident: IncidentState) -> None:
        members = incident.members.values()
        self.firing = sum(1 for member in members if member.status == "firing")
        self.flapping: dict[str, MemberState] = {m.fingerprint: m for m in members if m.flapping}
        self.members: dict[str, MemberState] = {m.fingerprint: m for m in members if _is_live(m)}

    @property
    def live(self) -> int:
        """Firing or flapping members."""
        return len(self.members)

    @property
    def all_flapping(self) -> bool:
        """Some member is live and every live member flaps."""
        return bool(self.flapping) and len(self.members) == len(self.flapping)

    def apply(self, member: MemberState, was_firing: bool, was_flapping: bool) -> None:
        """`member` changed from (was_firing, was_flapping) to its current status (a new member: False, False)."""
        self.firing += (member.status == "firing") - was_firing
        if member.flapping and not was_flapping:
            self.flapping[member.fingerprint] = member
        elif was_flapping and not member.flapping:
            self.flapping.pop(member.fingerprint, None)
        if _is_live(member):
            self.members[member.fingerprint] = member
        else:
            self.members.pop(member.fingerprint, None)


def _is_live(member: MemberState) -> bool:
    return member.status == "firing" or member.flapping


def next_due(incident: IncidentState, config: CorrelationConfig, flapping: FlappingConfig, tally: Tally,
             storm: bool = False) -> float:
    """Earliest event time at which advancing could change `incident` (see the module docstring)."""
    due = NEVER
    for member in tally.flapping.values():
        due = min(due, member.transitions[-1] + flapping.calm_seconds if member.transitions else ALWAYS)
    active = tally.firing
    if incident.status == "pending":
        if active >= config.min_active_members:
            return min(due, incident.first_seen + config.group_wait_seconds)
        return min(due, incident.last_seen + config.window_seconds) if active == 0 else due
    if incident.status == "resolved":
        if (active > 0 and (not incident.resolved_by or incident.pending.added)) or incident.resolved_at is None:
            return ALWAYS
        return min(due, incident.resolved_at + config.reopen_seconds)
    if not incident.notified:
        return ALWAYS
    if tally.live == 0 and not incident.held_open:
        due = min(due, incident.last_resolve + config.resolve_quiet_seconds)
    snoozed = incident.snoozed_until if incident.snoozed_until is not None else ALWAYS
    pending = incident.pending
    if pending.added or pending.resolved:
        due = min(due, max(snoozed, incident.last_notified + update_interval(incident, config, storm)))
    if config.repeat_interval_seconds > 0:
        due = min(due, max(snoozed, incident.last_notified + config.repeat_interval_seconds))
    return due


def update_interval(incident: IncidentState, config: CorrelationConfig, storm: bool) -> float:
    """How long after its previous notification an open incident's pending changes go out: the group
    interval; during a storm, at least `storm_added_interval_seconds` when members were added (joined or
    firing again: shown while they fire), else (resolves only) the storm summary interval."""
    if not storm:
        return config.group_interval_seconds
    summary = config.storm_summary_interval_seconds
    held = min(config.storm_added_interval_seconds, summary) if incident.pending.added else summary
    return max(config.group_interval_seconds, held)


class DueIndex:
    """Lazy min-heaps of incident due times and member expiries; outdated entries are skipped when popped.

    Incident entries are (due time, incident id) plus each incident's insertion rank, so due incidents are
    visited in the scope's incident order, exactly as a full scan would."""

    def __init__(self) -> None:
        self.heap: list[tuple[float, str]] = []
        self.due_at: dict[str, float] = {}
        self.rank: dict[str, int] = {}
        self._next_rank = 0
        self.tallies: dict[str, Tally] = {}
        self.stale: list[tuple[float, int, MemberState]] = []
        """(last_seen when queued, tie-break, member) of firing members: at most one entry per member."""
        self.ending: list[tuple[float, int, MemberState]] = []
        """(ends_at when queued, tie-break, member) of firing members with an `ends_at`; the valid entry of a
        member is the one at its `ending` time (others were replaced by an earlier ends_at)."""
        self._counter = itertools.count()

    @classmethod
    def build(cls, incidents: Mapping[str, IncidentState]) -> DueIndex:
        """The index of a scope's incidents (after a load): every one due now, in the given order."""
        index = cls()
        for incident in incidents.values():
            index.added(incident.id)
            for member in incident.members.values():
                if member.status == "firing":
                    index.queue(member, force=True)
        return index

    def tally(self, incident: IncidentState) -> Tally:
        """The incident's tally (counted from its members on first use after a load)."""
        tally = self.tallies.get(incident.id)
        if tally is None:
            tally = self.tallies[incident.id] = Tally(incident)
        return tally

    def queue(self, member: MemberState, force: bool = False) -> None:
        """A firing member (new, firing again, or refreshed): make sure it has an entry on the heap of its
        expiry rule at or before its expiry (`force`: a new index, whatever the member says)."""
        if member.ends_at is not None:
            if force or member.ending is None or member.ending > member.ends_at:
                member.ending = member.ends_at
                heapq.heappush(self.ending, (member.ends_at, next(self._counter), member))
        elif force or not member.queued:
            member.queued = True
            heapq.heappush(self.stale, (member.last_seen, next(self._counter), member))

    def pop_expired(self, now: float, stale_seconds: float) -> list[MemberState]:
        """Firing members expired at `now` (the caller checks they still belong to the scope): with an
        `ends_at`, once `now` reaches it; without, when their last refresh is more than `stale_seconds` before
        `now`. Entries of refreshed members are re-queued at their new time."""
        out: list[MemberState] = []
        heap = self.stale
        horizon = now - stale_seconds
        while heap and heap[0][0] < horizon:
            _, _, member = heapq.heappop(heap)
            member.queued = False
            if member.status != "firing" or member.ends_at is not None:
                continue  # resolved, or expires by its ends_at (it has an entry on that heap)
            if member.last_seen < horizon:
                out.append(member)
            else:
                self.queue(member)
        ending = self.ending
        while ending and ending[0][0] <= now:
            at, _, member = heapq.heappop(ending)
            if member.ending != at:
                continue  # replaced by an entry at an earlier ends_at (already popped, or still queued)
            member.ending = None
            if member.status != "firing":
                continue
            if member.ends_at is None:
                self.queue(member)  # back on the stale rule (queued there when its ends_at was cleared)
            elif member.ends_at <= now:
                out.append(member)
            else:
                self.queue(member)
        return out

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

    def busy(self, now: float, stale_seconds: float) -> bool:
        """Whether some incident or member may be due at `now` (outdated heap entries may make this early-true)."""
        if self.heap and self.heap[0][0] <= now:
            return True
        if self.ending and self.ending[0][0] <= now:
            return True
        return bool(self.stale) and self.stale[0][0] < now - stale_seconds

    def next_time(self, stale_seconds: float) -> float:
        """The earliest event time `busy` may hold at (-inf: at once; inf: never); outdated entries may make it
        early, never late. A stale expiry needs `now` strictly past its time: the next float after it."""
        times = [NEVER]
        if self.heap:
            times.append(self.heap[0][0])
        if self.ending:
            times.append(self.ending[0][0])
        if self.stale:
            times.append(math.nextafter(self.stale[0][0] + stale_seconds, NEVER))
        return min(times)

    def pop_due(self, incidents: Mapping[str, IncidentState], now: float,
                extra: set[str] | None = None) -> list[IncidentState]:
        """The scope's `incidents` due at `now` (and those in `extra`), in the scope's incident order;
        forgotten ones are dropped."""
        ids: set[str] = set(extra or ())
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

    def reschedule(self, incident: IncidentState, config: CorrelationConfig, flapping: FlappingConfig,
                   storm: bool = False) -> None:
        """Recompute the due time of an incident of the scope after it changed."""
        self.schedule(incident.id, next_due(incident, config, flapping, self.tally(incident), storm))

    def forget(self, incident_id: str) -> None:
        """The incident left the scope: drop its timer and tally (its expiry entries are dropped when popped)."""
        self.due_at.pop(incident_id, None)
        self.rank.pop(incident_id, None)
        self.tallies.pop(incident_id, None)
