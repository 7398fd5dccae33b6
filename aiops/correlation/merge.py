"""Incident merging: a new member within reach of several live incidents of its scope joins them into one.

Without it, the order in which members arrive can split one failure: A opens an incident, C (out of A's
reach) opens another, then B, within reach of both, could only join one of them. With
`correlation.merge_incidents` (default on), the engine hands every join the grouping rules found for a new
member (`Join`: rule rank, score, the incident's last_seen, its id, rule, reason) to `merge_plan`:
- only live incidents (pending or open) take part; a resolved one, even within its reopen window, never
  merges (nor is it reopened by a member that merges others);
- only incidents the member links directly and causally: one reached by group key or learned
  co-occurrence, or by topology at most `MERGE_HOPS` (1) hop away along a path a failure can travel
  (`bridge_links`). Merging closes tickets people may be working on, so it needs stronger evidence than a
  join: with `topology_hops: 2` on PetShop, 2-hop merges pulled concurrently firing Step Functions
  artefacts into the judged incident (docs/benchmarks.md). A member that calls into two failing parts (both
  are its dependencies) is their common symptom, not evidence that they are one failure: with no "linked"
  incident nothing merges (the member joins its best incident, as without merging). A chain (A depends on
  the member, which depends on C) or a shared dependency (the member is a dependency of both) merges;
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

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from aiops.correlation.incident_state import IncidentState
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
    return group[0], group[1:]


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
