"""Incident merging: a new member within reach of several live incidents of its scope joins them into one.

Without it, the order in which members arrive can split one failure: A opens an incident, C (out of A's
reach) opens another, then B, within reach of both, could only join one of them. With
`correlation.merge_incidents` (default on), the engine hands every join the grouping rules found for a new
member (`Join`: rule rank, -score, -last_seen, incident id, rule, reason) to `merge_plan`:
- only live incidents (pending or open) take part; a resolved one, even within its reopen window, never
  merges (nor is it reopened by a member that merges others);
- when two or more distinct live incidents are within reach, the survivor is the earliest-opened one: an
  incident receivers know (its open was sent) before one they do not, then the one whose `open` was sent
  first (`opened_at`), then the earliest `first_seen`, then the id. The id on-call was paged with first,
  and that their ITSM tool already holds, stays; the other tickets close as merged into it. The new member
  joins the survivor (with its own join reason);
- each other incident is merged into the survivor in the same order: `absorb` moves its members (dedup by
  fingerprint: earliest first_seen, latest last_seen kept), its group keys, its grouping lines and its time
  span; the moved members are reported as added in the survivor's next version. Closing the merged
  incident (final `resolved` version with `merged_into`) and forgetting it are the lifecycle's job.
Merges do not cascade: an incident that now reaches another one merges with it only when a later member
bridges them. Pure: no I/O.
"""

from __future__ import annotations

from aiops.correlation.due import due_index
from aiops.correlation.index import index_of
from aiops.correlation.state import IncidentState, ScopeState

Join = tuple[int, float, float, str, str, str]
"""rule rank, -score, -last_seen, incident id, rule, reason."""


def survivor_key(incident: IncidentState) -> tuple[bool, float, float, str]:
    """Earliest-opened first: notified before not notified, then the earliest `open` sent (state saved
    before `opened_at` existed: its first_seen), then the earliest first_seen, then the id."""
    opened = incident.first_seen if incident.opened_at is None else incident.opened_at
    return (not incident.notified, opened, incident.first_seen, incident.id)


def merge_plan(state: ScopeState, found: list[Join]) -> tuple[Join, list[Join]] | None:
    """(the survivor's join, the joins of the incidents to merge into it), or None when at most one live
    incident is within reach. Each incident is represented by its best join (the rule and score that
    reached it)."""
    best: dict[str, Join] = {}
    for join in sorted(found):
        best.setdefault(join[3], join)
    live = [join for join in best.values() if state.incidents[join[3]].status != "resolved"]
    if len(live) < 2:
        return None
    live.sort(key=lambda join: survivor_key(state.incidents[join[3]]))
    return live[0], live[1:]


def absorb(state: ScopeState, survivor: IncidentState, merged: IncidentState, max_grouping: int) -> None:
    """Move `merged`'s members, keys, grouping lines and time span into `survivor` (see the docstring)."""
    due, index = due_index(state), index_of(state)
    for fingerprint, member in merged.members.items():
        kept = survivor.members.get(fingerprint)
        if kept is not None:
            kept.first_seen = min(kept.first_seen, member.first_seen)
            kept.last_seen = max(kept.last_seen, member.last_seen)
        else:
            kept = survivor.members[fingerprint] = member
            survivor.pending_added.append(fingerprint)
            index.add(survivor, member)
        due.mark(survivor, kept)
        state.index[fingerprint] = survivor.id
        state.touch(survivor.id, fingerprint)
    keys = [key for key in (merged.group_key, *merged.merged_keys)
            if key and key != survivor.group_key and key not in survivor.merged_keys]
    survivor.merged_keys.extend(dict.fromkeys(keys))
    index.add_keys(survivor)
    room = max(0, max_grouping - len(survivor.grouping))
    survivor.grouping.extend(f"{merged.id}: {line}" for line in merged.grouping[:room])
    survivor.first_seen = min(survivor.first_seen, merged.first_seen)
    survivor.last_seen = max(survivor.last_seen, merged.last_seen)
    survivor.last_resolve = max(survivor.last_resolve, merged.last_resolve)
    state.touch(survivor.id)
