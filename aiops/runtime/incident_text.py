"""One human line per incident version, saying in words what changed since the previous version.

Used by `aiops tail` and `aiops demo`. A line is ``<event time> <STATUS> <priority> <id> v<version>``, then
what happened, the members and the probable root cause, e.g. (ids shortened)::

    03:43:40 OPEN     P3 inc-46 v1  [postgres] latency_p99_ms above baseline; 1 member (postgres); root cause postgres
    03:44:10 UPDATED  P1 inc-46 v2  priority P3 -> P1; +2 members: payments error_rate, payments latency_p99_ms;
                                    3 members (payments, postgres); root cause postgres
    03:45:20 UPDATED  P1 inc-46 v4  2 of 8 members resolved; 8 members (...); root cause postgres
    03:52:00 RESOLVED P1 inc-46 v12  resolved after 2m quiet, 8m 20s after it began; 10 members (...); ...

A version carries what changed in members (`change.added`, `change.resolved`) but not the previous
priority or root cause: `IncidentNarrator` remembers the last version of each incident to say those.
Pure formatting; no I/O.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime

from aiops.incidents import Incident, Member

MAX_NAMED_MEMBERS = 3
"""Added members named on one line; the rest are counted."""


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 member``, ``3 members`` (`many`: the plural when it is not `word` + s)."""
    return f"{count} {word}" if count == 1 else f"{count} {many or word + 's'}"


def span(seconds: float) -> str:
    """A duration in words: ``45s``, ``2m``, ``8m 20s``, ``1h 05m``."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s" if secs else f"{minutes}m"
    return f"{secs}s"


def _member_name(member: Member) -> str:
    return f"{member.service} {member.name}"


def _added(incident: Incident) -> str:
    by_fingerprint = {member.fingerprint: member for member in incident.members}
    named = [_member_name(by_fingerprint[fp]) for fp in incident.change.added if fp in by_fingerprint]
    count = len(incident.change.added)
    shown = named[:MAX_NAMED_MEMBERS]
    if not shown:
        return f"+{plural(count, 'member')}"
    more = f" and {count - len(shown)} more" if count > len(shown) else ""
    return f"+{plural(count, 'member')}: {', '.join(shown)}{more}"


def _resolved_members(incident: Incident) -> str:
    if incident.members_truncated:  # the version lists only some members: count the change only
        return f"{plural(len(incident.change.resolved), 'more member')} resolved"
    resolved = sum(member.status == "resolved" for member in incident.members)
    return f"{resolved} of {plural(len(incident.members), 'member')} resolved"


def _root_cause(incident: Incident) -> str:
    return incident.root_cause[0].service if incident.root_cause else "-"


def _members(incident: Incident) -> str:
    total = len(incident.members) + incident.members_truncated
    return f"{plural(total, 'member')} ({', '.join(incident.services)})"


def _root_cause_text(incident: Incident, previous: Incident | None) -> str:
    cause = _root_cause(incident)
    if previous is not None and _root_cause(previous) != cause:
        return f"root cause {cause} (was {_root_cause(previous)})"
    return f"root cause {cause}"


def _what_changed(incident: Incident, previous: Incident | None) -> list[str]:
    if incident.status == "resolved":
        if incident.merged_into is not None:
            return [f"merged into {incident.merged_into}"]
        ended = incident.resolved_at or incident.last_seen
        quiet = (ended - incident.last_seen).total_seconds()
        return [f"resolved after {span(quiet)} quiet, {span((ended - incident.first_seen).total_seconds())} "
                "after it began"]
    changes: list[str] = []
    if incident.status == "open":
        changes.append("reopened" if incident.version > 1 else incident.title)
    if previous is not None and previous.priority != incident.priority:
        changes.append(f"priority {previous.priority} -> {incident.priority}")
    if incident.change.added and not (incident.status == "open" and incident.version == 1):
        changes.append(_added(incident))
    if incident.change.resolved:
        changes.append(_resolved_members(incident))
    if not changes:
        reason = incident.change.reason
        changes.append(f"no member change ({reason})" if reason else "no member change")
    return changes


def describe(incident: Incident, previous: Incident | None = None) -> str:
    """The line of one incident version; `previous` (its last version seen, if any) adds priority and
    root-cause changes."""
    ended = incident.resolved_at if incident.status == "resolved" else None
    when: datetime = ended or incident.last_seen
    head = f"{when:%H:%M:%S} {incident.status.upper():8} {incident.priority} {incident.id} v{incident.version}"
    parts = [*_what_changed(incident, previous), _members(incident), _root_cause_text(incident, previous)]
    return f"{head}  {'; '.join(parts)}"


class IncidentNarrator:
    """`describe` with memory: the last version of each incident seen (bounded LRU, `max_incidents`)."""

    def __init__(self, max_incidents: int = 10_000) -> None:
        self.max_incidents = max_incidents
        self._last: OrderedDict[str, Incident] = OrderedDict()

    def line(self, incident: Incident) -> str:
        previous = self._last.get(incident.id)
        if previous is not None and previous.version >= incident.version:
            previous = None  # a re-read or older copy: describe it on its own
        else:
            self._last[incident.id] = incident
            self._last.move_to_end(incident.id)
            while len(self._last) > self.max_incidents:
                self._last.popitem(last=False)
        return describe(incident, previous)
