"""Incident merging with known ground truth: a member within reach of two live incidents merges them.

The shop chain frontend -> checkout -> payments -> postgres (frontend also calls search) with
`topology_hops` 1: frontend (A) and payments (C) are two hops apart, so each opens its own incident;
checkout (B) is one hop from both and bridges them. Covers the survivor rule, the merged close (`resolved`
+ `merged_into`), decisions, root cause recomputed, resolved incidents left alone, a common symptom that
does not merge, silences, the switch, timers/indexes and the state round trip (plain JSON and the
changelog table layout).
"""

from __future__ import annotations

from typing import Any

from support.builders import T0, correlation_config, graph, signal
from support.engine_run import EngineRun

from aiops.correlation.engine import CorrelationEngine
from aiops.correlation.merge import bridge_links
from aiops.correlation.state import ScopeState, due_index, index_of
from aiops.correlation.suppression.rules import Silence, SuppressionPolicy
from aiops.incidents import Incident
from aiops.runtime.correlation_store import PartitionScopes, restore
from aiops.signals import dt_from_epoch

SHOP = {"frontend": ["checkout", "search"], "checkout": ["payments"], "payments": ["postgres"], "postgres": [],
        "search": []}


class Run(EngineRun):
    def __init__(self, **config: Any) -> None:
        super().__init__(SHOP, **config)


def bridged(**config: Any) -> tuple[Run, str, str, list[Incident]]:
    """A at 0 and C at 10 open two incidents; B at 20 bridges them. (run, A's id, C's id, B's output)."""
    run = Run(group_interval_seconds=30, resolve_quiet_seconds=60, **config)
    first = run.send(signal("latency", "frontend", 0))
    second = run.send(signal("errors", "payments", 10, severity="critical", started=-30))
    assert [i.status for i in first + second] == ["open", "open"]
    return run, first[0].id, second[0].id, run.send(signal("timeouts", "checkout", 20))


def test_a_member_bridging_two_open_incidents_merges_them_into_the_earliest_opened() -> None:
    run, a, c, out = bridged()
    assert [(i.id, i.status, i.merged_into) for i in out] == [(c, "resolved", a)]
    close = out[0]
    assert close.change.reason.startswith(f"merged {c} (1 member(s)) into {a}: timeouts@checkout reaches both")
    assert close.resolved_at == dt_from_epoch(T0 + 20)
    assert [m.service for m in close.members] == ["payments"]  # what receivers knew, closed as merged
    run.tick(60)
    update = run.versions(a)[-1]
    assert update.status == "updated"
    assert {m.service for m in update.members} == {"frontend", "checkout", "payments"}
    assert set(update.change.added) == {"checkout/timeouts", "payments/errors"}
    assert update.first_seen == dt_from_epoch(T0 - 30)  # earliest start of all members
    assert update.root_cause[0].service == "payments"  # recomputed over all members: deepest dependency
    assert update.priority == "P2"  # critical member now in the survivor
    assert any(line.startswith(f"merged (topology: {c}): merged {c}") for line in update.explanation.grouping)
    merged = [d for d in run.decisions if d.kind == "merged"]
    assert [(d.incident_id, d.ref, d.rule, d.score, d.member) for d in merged] == [
        (a, c, "topology", 0.5, "checkout/timeouts")]
    assert [(d.rule, d.ref) for d in run.decisions if d.kind == "resolved" and d.incident_id == c] == [("merge", a)]
    assert set(run.state.incidents) == {a}


def test_after_a_merge_only_the_survivor_lives_on_and_resolves_once() -> None:
    run, a, c, _ = bridged()
    run.send(signal("errors", "payments", 40, severity="critical", status="resolved", started=-30))
    run.tick(60)
    assert run.versions(a)[-1].change.resolved == ["payments/errors"]  # the moved member updates the survivor
    for name, service in (("latency", "frontend"), ("timeouts", "checkout")):
        run.send(signal(name, service, 100, status="resolved"))
    run.tick(300)
    assert [i.status for i in run.versions(c)] == ["open", "resolved"]
    assert run.versions(a)[-1].status == "resolved"
    assert run.versions(a)[-1].merged_into is None
    run.tick(1000)  # forgotten after the reopen window; no timer of the merged incident fired meanwhile
    assert run.state.incidents == {}
    assert [i.status for i in run.versions(c)] == ["open", "resolved"]


def test_timers_and_lookup_indexes_forget_the_merged_incident() -> None:
    run, a, c, _ = bridged()
    due = due_index(run.state)
    assert c not in due.due_at
    assert c not in due.rank
    assert c not in due.tallies
    index = index_of(run.state)
    for table in (index.by_key, index.by_node, index.by_type):
        assert all(c not in ids for ids in table.values())
    assert run.state.incidents[a].merged_keys == ["service=payments"]
    assert index.by_key["service=payments"] == {a}  # the merged incident's group key now finds the survivor
    assert set(run.state.index.values()) == {a}
    run.send(signal("saturation", "payments", 30))  # same group key as the merged incident
    assert run.state.incidents[a].members["payments/saturation"].joined_because.startswith("same service")


def test_a_resolved_incident_in_its_reopen_window_is_never_merged_nor_reopened_by_a_bridge() -> None:
    run = Run(resolve_quiet_seconds=0, reopen_seconds=300)
    a = run.send(signal("latency", "frontend", 0))[0].id
    assert [i.status for i in run.send(signal("latency", "frontend", 10, status="resolved"))] == ["resolved"]
    c = run.send(signal("errors", "payments", 100))[0].id
    run.send(signal("timeouts", "checkout", 110))
    assert all(i.merged_into is None for i in run.out)
    assert [i.status for i in run.versions(a)] == ["open", "resolved"]
    assert set(run.state.incidents[c].members) == {"payments/errors", "checkout/timeouts"}
    assert not any(d.kind == "merged" for d in run.decisions)


def test_a_caller_of_two_failing_dependencies_is_their_common_symptom_and_merges_nothing() -> None:
    run = Run()
    checkout = run.send(signal("errors", "checkout", 0))[0].id
    search = run.send(signal("errors", "search", 10))[0].id
    run.send(signal("latency", "frontend", 20))  # depends on both: reaches each only as their effect
    assert all(i.merged_into is None for i in run.out)
    assert set(run.state.incidents) == {checkout, search}
    assert "frontend/latency" in run.state.incidents[search].members  # its best join, as without merging


def test_a_member_merges_only_incidents_one_hop_away_even_when_it_may_join_further() -> None:
    run = Run(topology_hops=2)
    a = run.send(signal("latency", "frontend", 0))[0].id
    d = run.send(signal("connections", "postgres", 5))[0].id  # 3 hops from frontend
    out = run.send(signal("errors", "checkout", 10))  # 1 hop from frontend, 2 from postgres
    assert [(i.id, i.status) for i in out] == [(a, "updated")]
    assert set(run.state.incidents) == {a, d}
    assert "checkout/errors" in run.state.incidents[a].members  # its best join (1 hop)
    out = run.send(signal("timeouts", "payments", 20))  # 1 hop from checkout (in a) and from postgres
    assert [(i.id, i.merged_into) for i in out if i.status == "resolved"] == [(d, a)]


def test_a_shared_dependency_merges_its_dependents_incidents() -> None:
    run = Run()
    edges = {"web": ["api", "batch"], "api": ["db"], "batch": ["db"], "db": []}
    run.engine = CorrelationEngine(correlation_config(topology_hops=1), graph(edges), learned=False)
    api = run.send(signal("errors", "api", 0))[0].id
    batch = run.send(signal("errors", "batch", 10))[0].id
    out = run.send(signal("connections", "db", 20))  # a dependency of both: their common cause
    assert [(i.id, i.merged_into) for i in out if i.status == "resolved"] == [(batch, api)]
    assert set(run.state.incidents[api].members) == {"api/errors", "batch/errors", "db/connections"}


def test_bridge_links_follow_paths_a_failure_can_travel() -> None:
    chain = graph({"a": ["b"], "b": ["c"], "c": [], "x": ["b"], "s": ["c"]})
    assert bridge_links(chain, ["b"], 1) == {"b": "linked", "a": "linked", "x": "linked", "c": "effect"}
    # two hops from b: a sibling through a shared caller is blocked (a collider), one through a shared
    # dependency is reached as a fork (starts towards the dependency)
    assert bridge_links(chain, ["b"], 2) == {"b": "linked", "a": "linked", "x": "linked", "c": "effect",
                                             "s": "effect"}
    assert bridge_links(chain, ["a"], 2) == {"a": "linked", "b": "effect", "c": "effect", "x": "effect"}


def test_merging_can_be_switched_off() -> None:
    run, a, c, out = bridged(merge_incidents=False)
    assert out == []
    assert set(run.state.incidents) == {a, c}
    assert not any(d.kind == "merged" for d in run.decisions)


def test_the_survivor_is_the_incident_receivers_know_even_when_a_pending_one_started_earlier() -> None:
    run = Run(group_wait_seconds=0, min_active_members=1)
    a = run.send(signal("latency", "frontend", 0))[0].id
    run.engine.config = run.engine.lifecycle.config = correlation_config(group_wait_seconds=60)
    assert run.send(signal("errors", "payments", 10, started=-20)) == []  # pending, earlier first_seen
    (c,) = set(run.state.incidents) - {a}
    out = run.send(signal("timeouts", "checkout", 20))
    assert [(i.id, i.status) for i in out] == [(a, "updated")]  # the merged one was never notified: no close
    assert set(run.state.incidents) == {a}
    closing = [(d.kind, d.incident_id, d.ref) for d in run.decisions if d.kind in ("resolved", "merged")]
    assert closing == [("resolved", c, a), ("merged", a, c)]


def silenced_after_two_opened(matcher: str) -> tuple[Run, str, str]:
    """frontend (A) and payments (C) open two incidents; a silence matching `matcher` starts at 15 s."""
    run = Run(group_interval_seconds=0)
    a = run.send(signal("latency", "frontend", 0))[0].id
    c = run.send(signal("errors", "payments", 10))[0].id
    silence = Silence(id="s-1", matchers=[matcher], starts_at=dt_from_epoch(T0 + 15),
                      ends_at=dt_from_epoch(T0 + 5000), author="ops", comment="maintenance")
    run.engine.policy = SuppressionPolicy(silences=(silence,))
    return run, a, c


def test_a_silenced_merged_incident_still_closes_and_its_members_follow_the_survivor() -> None:
    """Silences match members, not incidents: the merged close is always sent (like every resolve of a
    notified incident), and the survivor notifies while any of its live members is unsilenced."""
    run, a, c = silenced_after_two_opened('service="payments"')
    assert run.send(signal("errors", "payments", 16)) == []  # refresh: no change to send
    assert run.send(signal("saturation", "payments", 17)) == []  # held: all its live members are silenced
    out = run.send(signal("timeouts", "checkout", 20))
    assert [(i.id, i.status, i.merged_into) for i in out] == [(c, "resolved", a), (a, "updated", None)]
    assert {m.service for m in out[1].members} == {"frontend", "checkout", "payments"}


def test_a_silenced_survivor_stays_held_while_every_live_member_is_silenced() -> None:
    run, a, c = silenced_after_two_opened('service=~"frontend|payments|checkout"')
    out = run.send(signal("timeouts", "checkout", 20))
    assert [(i.id, i.status, i.merged_into) for i in out] == [(c, "resolved", a)]  # the close is never held


def _replay(run: Run, state: ScopeState) -> list[Incident]:
    run.state = state
    run.out = []
    run.send(signal("errors", "payments", 40, status="resolved"))
    run.tick(60)
    for name, service in (("latency", "frontend"), ("timeouts", "checkout")):
        run.send(signal(name, service, 100, status="resolved"))
    run.tick(300)
    run.tick(1000)
    return run.out


def test_scope_state_round_trips_mid_merge_through_json_and_the_changelog_table() -> None:
    run, a, c, _ = bridged()  # the survivor's update is due later: its pending changes are in the state
    assert run.state.incidents[a].pending_added
    dumped = run.state.model_dump(mode="json")
    store = PartitionScopes(0)
    fresh = ScopeState(scope="shop")  # first save writes everything the merge touched, as the worker does
    before = Run(group_interval_seconds=30, resolve_quiet_seconds=60)
    for signal_ in (signal("latency", "frontend", 0), signal("errors", "payments", 10, severity="critical",
                                                            started=-30), signal("timeouts", "checkout", 20)):
        before.engine.process(fresh, signal_)
        store.save(fresh)
    records = [(key, value, offset) for offset, (key, value) in enumerate(store.checkpoint(3))]
    written = {key.decode(): value for key, value, _ in records}
    assert all(value is None for key, value in written.items() if key.startswith((f"i/{c}", f"m/{c}/")))  # tombstoned
    rebuilt = restore(0, records).scopes.load("shop")
    assert rebuilt is not None
    assert rebuilt.model_dump(mode="json") == dumped
    expected = _replay(run, run.state)
    for restored in (ScopeState.model_validate(dumped), rebuilt):
        again = Run(group_interval_seconds=30, resolve_quiet_seconds=60)
        assert _replay(again, restored) == expected
    assert [i.status for i in expected] == ["updated", "updated", "resolved"]
