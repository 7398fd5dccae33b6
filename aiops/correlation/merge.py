"""Incident merging: a new member within reach of several live incidents of its scope joins them into one.

Without it, the order in which members arrive can split one failure: A opens an incident, C (out of A's
reach) opens another, then B, within reach of both, could only join one of them. With
`correlation.merge_incidents` (default on) the engine hands every join the grouping rules found for a new
member (`Join`) to `merge_plan`, which picks the survivor (`survivor_key`: the earliest-opened, the id
on-call was paged with) and the incidents to merge into it; `absorb` moves each one's members, keys and
time span. Only live incidents merge (a resolved one never, even within its reopen window), and only
those the member links directly and causally (group key, learned co-occurrence, or topology at most
`MERGE_HOPS` along a path a failure travels, `bridge_links`): merging closes tickets people may be working
on, so it takes stronger evidence than a join. Merges do not cascade; incidents an operator split apart
never merge. Not done here: closing and forgetting the merged incident (the lifecycle's job), I/O. The
rules and their why: docs/ARCHITECTURE.md ("Merging").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from aiops.correlation.incident_state import IncidentState, MemberState
from aiops.correlation.state import ScopeState, due_index, index_of
from aiops.correlation.topology import ServiceGraph


@dataclass(frozen=True, slots=True)
class Join:
    """An incident a new member may join by one grouping rule; the best join has the least `order`."""

    rank: int
    """Rule rank: 0 group_by, 1 topology, 2 co-occurrence."""
    score: float
    last_seen: float
    """The incident's."""
    incident_id: str
    rule: str
    reason: str

    def order(self) -> tuple[int, float, float, str, str, str]:
        """Rule rank, then the highest score, then the most recently active incident (then id, rule, reason)."""
        return (self.rank, -self.score, -self.last_seen, self.incident_id, self.rule, self.reason)


Link = Literal["linked", "effect"]
_RANK = {"linked": 2, "effect": 1}


def bridge_links(graph: ServiceGraph, nodes: Iterable[str], limit: int) -> dict[str, Link]:
    """Nodes the bridge's `nodes` reach within `limit` hops by a path a failure can travel, and how.

    A failure travels from a dependency to its dependents, so a path is open when it has no collider: from
    the bridge, some steps to dependencies then some steps to dependents (a node two callers share is a
    collider; a shared dependency is a common cause). "linked": reached by an open path that does not start
    towards a dependency (the bridge itself, or a dependency of the node: it may cause or share the
    failure); "effect": reached only by open paths that start towards a dependency (the bridge may be
    their effect). Two incidents the bridge reaches only as "effect" are two causes of one symptom (it
    calls into both): they do not merge."""
    found: dict[str, Link] = {}
    seen: set[tuple[str, str, bool]] = set()
    frontier = [(node, "", False) for node in nodes]  # (node, first step "D"/"U", turned towards dependents)
    for distance in range(limit + 1):
        following: list[tuple[str, str, bool]] = []
        for node, first, turned in frontier:
            if (node, first, turned) in seen:
                continue
            seen.add((node, first, turned))
            link: Link = "effect" if first == "D" else "linked"
            if _RANK[link] > _RANK.get(found.get(node, ""), 0):
                found[node] = link
            if distance == limit:
                continue
            following += [(up, first or "U", True) for up in graph.dependents.get(node, ())]
            if not turned:
                following += [(down, first or "D", False) for down in graph.depends_on.get(node, ())]
        frontier = following
    return found


def survivor_key(incident: IncidentState) -> tuple[bool, float, float, str]:
    """Earliest-opened first: notified before not notified, then the earliest `open` sent (state saved
    before `opened_at` existed: its first_seen), then the earliest first_seen, then the id."""
    opened = incident.first_seen if incident.opened_at is None else incident.opened_at
    return (not incident.notified, opened, incident.first_seen, incident.id)


def merge_plan(state: ScopeState, found: list[Join], links: dict[str, Link]) -> tuple[Join, list[Join]] | None:
    """(the survivor's join, the joins of the incidents to merge into it), or None when fewer than two live
    incidents are within reach or none is "linked" (`bridge_links`; a group key or learned co-occurrence
    links, topology per the bridge's `links`). Each incident is represented by its best join."""
    best: dict[str, Join] = {}
    for join in sorted(found, key=Join.order):
        best.setdefault(join.incident_id, join)
    live = {i: j for i, j in best.items() if state.incidents[i].status != "resolved"}
    if len(live) < 2:
        return None
    kind = {i: "linked" for i, join in live.items() if join.rule != "topology"}
    by_node = index_of(state).by_node
    for node, link in links.items():
        for incident_id in by_node.get(node, ()):
            if incident_id in live and _RANK[link] > _RANK.get(kind.get(incident_id, ""), 0):
                kind[incident_id] = link
    group = [join for i, join in live.items() if i in kind]
    if len(group) < 2 or "linked" not in kind.values():
        return None
    group.sort(key=lambda join: survivor_key(state.incidents[join.incident_id]))
    kept: list[Join] = []
    for join in group:  # incidents an operator split apart are never merged again
        if not any(join.incident_id in state.incidents[other.incident_id].apart for other in kept):
            kept.append(join)
    return (kept[0], kept[1:]) if len(kept) >= 2 else None


def absorb(state: ScopeState, survivor: IncidentState, merged: IncidentState, max_grouping: int,
           stale_seconds: float) -> None:
    """Move `merged`'s members (dedup by fingerprint: earliest first_seen, latest last_seen and later expiry
    kept), group keys, grouping lines and time span into `survivor`; the moved members are reported as added
    in the survivor's next version."""
    due, index = due_index(state), index_of(state)
    tally = due.tally(survivor)
    for fingerprint, member in merged.members.items():
        kept = survivor.members.get(fingerprint)
        if kept is not None:
            if _expiry(member, stale_seconds) > _expiry(kept, stale_seconds):
                kept.ends_at = member.ends_at
            kept.first_seen = min(kept.first_seen, member.first_seen)
            kept.last_seen = max(kept.last_seen, member.last_seen)
            if kept.status == "firing":
                due.queue(kept)
        else:
            survivor.members[fingerprint] = member
            member.resolved_seq = 0  # its change numbers were the merged incident's
            survivor.note_added(member)
            tally.apply(member, False, False)
            index.add(survivor, member)
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


def _expiry(member: MemberState, stale_seconds: float) -> float:
    """When the member, firing, expires: its ends_at, else `stale_seconds` after its last refresh."""
    return member.ends_at if member.ends_at is not None else member.last_seen + stale_seconds
