"""Window-grouping correlation on injected event time: dedup, grouping, lifecycle, determinism, state."""

from __future__ import annotations

from typing import Any

import pytest
from support.builders import T0, at, correlation_config, graph, signal

from aiops.config import CorrelationConfig
from aiops.correlation.config import ScopeKind
from aiops.correlation.engine import CorrelationEngine
from aiops.correlation.state import ScopeState, persist
from aiops.correlation.topology import ServiceGraph, scope_of
from aiops.incidents import Incident
from aiops.signals import Signal

CHAIN = {"a": ["b"], "b": ["c"], "c": []}


class Harness:
    """One scope driven by hand: `send` signals, `tick` event time (offsets from T0)."""

    def __init__(self, config: CorrelationConfig | None = None, services: ServiceGraph | None = None) -> None:
        self.correlator = CorrelationEngine(config or correlation_config(), services or graph(CHAIN))
        self.state = ScopeState(scope="s")
        self.out: list[Incident] = []

    def send(self, *signals: Signal) -> list[Incident]:
        got: list[Incident] = []
        for item in signals:
            got.extend(self.correlator.process(self.state, item))
        self.out.extend(got)
        return got

    def tick(self, offset: float) -> list[Incident]:
        got = self.correlator.advance(self.state, T0 + offset)
        self.out.extend(got)
        return got

    def ids(self) -> list[str]:
        return list(dict.fromkeys(incident.id for incident in self.out))


def harness(edges: dict[str, list[str]] | None = None, **config: Any) -> Harness:
    return Harness(correlation_config(**config), graph(edges if edges is not None else CHAIN))


def fingerprints(incident: Incident) -> set[str]:
    return {member.fingerprint for member in incident.members}


def as_tuples(incidents: list[Incident]) -> list[tuple[Any, ...]]:
    return [(i.id, i.version, i.status, tuple(sorted(fingerprints(i))), tuple(i.change.added),
             tuple(i.change.resolved), i.priority, i.title) for i in incidents]


# --- dedup and grouping -------------------------------------------------------------------------------------

def test_repeat_firing_updates_the_member_and_never_adds_one() -> None:
    h = harness()
    opened = h.send(signal("cpu", "a", 0))
    assert [i.status for i in opened] == ["open"]
    assert h.send(signal("cpu", "a", 30), signal("cpu", "a", 60)) == []  # nothing changed: no message
    member = h.state.incidents[opened[0].id].members["a/cpu"]
    assert member.last_seen == T0 + 60
    assert member.first_seen == T0
    assert len(h.state.incidents[opened[0].id].members) == 1
    assert len(h.state.index) == 1


def test_stronger_evidence_replaces_weaker_on_repeat() -> None:
    h = harness()
    h.send(signal("cpu", "a", 0, origin="metric_anomaly", score=0.999))
    h.send(signal("cpu", "a", 10, origin="metric_anomaly", score=0.99999, started=0))
    h.send(signal("cpu", "a", 20, origin="metric_anomaly", score=0.9991, started=0))
    evidence = next(iter(h.state.incidents.values())).members["a/cpu"].evidence
    assert evidence is not None
    assert evidence.score == 0.99999


def test_resolved_signal_for_unknown_member_is_ignored() -> None:
    h = harness()
    assert h.send(signal("cpu", "a", 0, status="resolved")) == []
    assert h.state.incidents == {}


def test_same_service_groups_within_window() -> None:
    h = harness(window_seconds=300)
    first = h.send(signal("cpu", "a", 0))
    second = h.send(signal("mem", "a", 250))
    assert len(h.ids()) == 1
    assert second[0].status == "updated"
    assert second[0].change.added == ["a/mem"]
    assert fingerprints(second[0]) == {"a/cpu", "a/mem"}
    assert second[0].members[1].joined_because.startswith("same service a")
    assert first[0].id == second[0].id


def test_same_service_outside_window_starts_a_new_incident() -> None:
    h = harness(window_seconds=300)
    h.send(signal("cpu", "a", 0))
    late = h.send(signal("mem", "a", 301))
    assert len(h.ids()) == 2
    assert late[0].status == "open"
    assert fingerprints(late[0]) == {"a/mem"}


def test_window_is_measured_from_last_activity() -> None:
    h = harness(window_seconds=300)
    h.send(signal("cpu", "a", 0), signal("cpu", "a", 280))  # repeat keeps the incident active
    h.send(signal("mem", "a", 560))
    assert len(h.ids()) == 1


def test_topology_groups_within_hops_through_the_middle_service() -> None:
    h = harness(topology_hops=1)
    h.send(signal("x", "b", 0), signal("x", "a", 10), signal("x", "c", 20))
    assert len(h.ids()) == 1
    assert fingerprints(h.out[-1]) == {"a/x", "b/x", "c/x"}
    assert "topology: c is 1 depends_on hop(s)" in h.out[-1].members[2].joined_because


def test_two_hops_apart_do_not_group_with_one_hop() -> None:
    h = harness(topology_hops=1)
    h.send(signal("x", "a", 0), signal("x", "c", 10))
    assert len(h.ids()) == 2


def test_two_hops_apart_group_with_two_hops() -> None:
    h = harness(topology_hops=2)
    h.send(signal("x", "a", 0), signal("x", "c", 10))
    assert len(h.ids()) == 1


def test_zero_hops_groups_only_the_same_service() -> None:
    h = harness(topology_hops=0)
    h.send(signal("x", "a", 0), signal("x", "b", 10), signal("y", "a", 20))
    assert len(h.ids()) == 2


def test_unrelated_failures_stay_separate_incidents() -> None:
    h = harness({"a": ["b"], "b": [], "x": ["y"], "y": []})
    h.send(signal("err", "a", 0), signal("err", "x", 5), signal("err", "b", 10), signal("err", "y", 15))
    assert len(h.ids()) == 2
    last = {i.id: i for i in h.out}
    assert sorted(tuple(i.services) for i in last.values()) == [("a", "b"), ("x", "y")]


# --- lifecycle ----------------------------------------------------------------------------------------------

def test_group_wait_holds_opening_until_event_time_passes() -> None:
    h = harness(group_wait_seconds=60)
    assert h.send(signal("x", "a", 0), signal("y", "a", 20)) == []
    assert h.tick(59) == []
    opened = h.tick(60)
    assert [i.status for i in opened] == ["open"]
    assert opened[0].version == 1
    assert sorted(opened[0].change.added) == ["a/x", "a/y"]  # the open message carries everything so far


def test_a_later_signal_can_open_a_waiting_incident() -> None:
    h = harness(group_wait_seconds=60)
    h.send(signal("x", "a", 0))
    assert [i.status for i in h.send(signal("y", "a", 61))] == ["open"]


def test_min_active_members_counts_only_firing_members() -> None:
    h = harness(min_active_members=2)
    assert h.send(signal("x", "a", 0)) == []
    assert h.send(signal("x", "a", 5, status="resolved")) == []
    assert h.send(signal("y", "a", 10)) == []  # one firing + one resolved: still one active
    opened = h.send(signal("z", "a", 20))
    assert [i.status for i in opened] == ["open"]
    assert fingerprints(opened[0]) == {"a/x", "a/y", "a/z"}


def test_pending_incident_that_never_opened_is_dropped_silently() -> None:
    h = harness(min_active_members=2, window_seconds=100, reopen_seconds=0)
    h.send(signal("x", "a", 0), signal("x", "a", 10, status="resolved"))
    assert h.tick(100) == []
    assert len(h.state.incidents) == 1  # still within the window after last activity
    assert h.tick(111) == []
    assert h.state.incidents == {}
    assert h.state.index == {}
    assert h.out == []


def test_group_interval_limits_updated_messages_and_batches_changes() -> None:
    h = harness(group_interval_seconds=60)
    h.send(signal("x", "a", 0))
    assert h.send(signal("y", "a", 10)) == []  # too soon after open
    assert h.send(signal("z", "a", 20)) == []
    assert h.tick(59) == []
    updated = h.tick(60)
    assert [i.status for i in updated] == ["updated"]
    assert updated[0].change.added == ["a/y", "a/z"]
    assert h.send(signal("w", "a", 70)) == []
    assert h.tick(119) == []
    assert [i.change.added for i in h.tick(120)] == [["a/w"]]
    assert h.tick(500) == []  # nothing changed since: no message


def test_each_change_lists_only_what_changed_since_the_last_message() -> None:
    h = harness()
    messages = h.send(signal("x", "a", 0), signal("y", "b", 10), signal("x", "a", 20, status="resolved"),
                      signal("z", "c", 30))
    assert [(m.status, m.change.added, m.change.resolved) for m in messages] == [
        ("open", ["a/x"], []),
        ("updated", ["b/y"], []),
        ("updated", [], ["a/x"]),
        ("updated", ["c/z"], []),
    ]


def test_member_firing_again_after_resolve_is_reported_as_added() -> None:
    h = harness(resolve_quiet_seconds=100)
    h.send(signal("x", "a", 0), signal("y", "a", 1), signal("x", "a", 10, status="resolved"))
    again = h.send(signal("x", "a", 20, started=0))
    assert again[0].change.added == ["a/x"]
    assert len(again[0].members) == 2


def test_a_replayed_older_signal_neither_reopens_nor_resolves() -> None:
    """At-least-once: after a rebalance a worker re-processes signals it already applied; a `firing` older
    than the member's resolve must not reopen the incident, a `resolved` older than its last firing must
    not resolve it (found by tests/integration/test_scale_out.py)."""
    h = harness(resolve_quiet_seconds=0, reopen_seconds=600)
    h.send(signal("x", "a", 0))
    assert [i.status for i in h.send(signal("x", "a", 60, status="resolved"))] == ["resolved"]
    assert h.send(signal("x", "a", 0)) == []  # the replayed firing
    assert h.tick(120) == []
    assert [i.status for i in h.send(signal("x", "a", 200))] == ["open"]  # a genuinely new firing reopens
    assert h.send(signal("x", "a", 150, status="resolved")) == []  # a late, older resolve is ignored
    assert h.tick(300) == []
    assert [i.status for i in h.send(signal("x", "a", 400, status="resolved"))] == ["resolved"]


def test_resolve_waits_for_all_members_and_the_quiet_period() -> None:
    h = harness(resolve_quiet_seconds=120, reopen_seconds=0)
    h.send(signal("x", "a", 0), signal("y", "a", 10))
    h.send(signal("x", "a", 50, status="resolved"))
    assert h.tick(300) == []  # y still firing
    h.send(signal("y", "a", 400, status="resolved"))
    assert h.tick(519) == []
    resolved = h.tick(520)
    assert [i.status for i in resolved] == ["resolved"]
    assert resolved[0].resolved_at == at(520)
    assert all(m.status == "resolved" for m in resolved[0].members)
    assert h.state.incidents == {}
    assert h.state.index == {}
    assert h.tick(1000) == []


def test_resolve_with_zero_quiet_is_immediate() -> None:
    h = harness(resolve_quiet_seconds=0)
    h.send(signal("x", "a", 0))
    closed = h.send(signal("x", "a", 5, status="resolved"))
    assert [i.status for i in closed] == ["resolved"]
    assert closed[0].change.resolved == ["a/x"]


def test_signal_after_resolution_starts_a_new_incident_when_reopen_is_off() -> None:
    h = harness(reopen_seconds=0)
    h.send(signal("x", "a", 0), signal("x", "a", 5, status="resolved"))
    reopened = h.send(signal("x", "a", 10))
    assert reopened[0].status == "open"
    assert len(h.ids()) == 2


def test_stale_members_are_auto_resolved() -> None:
    h = harness(stale_seconds=600, resolve_quiet_seconds=60)
    h.send(signal("x", "a", 0), signal("y", "a", 0))
    h.send(signal("y", "a", 300))  # y refreshed, x not
    changes = h.tick(601)
    assert [(i.status, i.change.resolved) for i in changes] == [("updated", ["a/x"])]
    assert h.tick(899) == []
    later = h.tick(901)
    assert [(i.status, i.change.resolved) for i in later] == [("updated", ["a/y"])]
    assert h.tick(960) == []  # quiet period counts from the stale resolve
    final = h.tick(961)
    assert [i.status for i in final] == ["resolved"]
    assert {m.status for m in final[0].members} == {"resolved"}


# --- versions, ids, determinism, state ------------------------------------------------------------------------

def scripted_run(h: Harness) -> list[Incident]:
    h.send(signal("x", "a", 0), signal("y", "b", 10), signal("q", "c", 15))
    h.tick(30)
    h.send(signal("z", "c", 40), signal("x", "a", 60, status="resolved"))
    h.tick(100)
    h.send(signal("y", "b", 120, status="resolved"), signal("q", "c", 125, status="resolved"),
           signal("z", "c", 130, status="resolved"))
    h.tick(400)
    h.send(signal("other", "x", 500))
    h.tick(2000)
    return h.out


def test_versions_increase_by_one_and_idempotency_key_matches() -> None:
    out = scripted_run(harness(group_interval_seconds=30, resolve_quiet_seconds=60))
    by_id: dict[str, list[Incident]] = {}
    for incident in out:
        by_id.setdefault(incident.id, []).append(incident)
    assert len(by_id) >= 2
    for versions in by_id.values():
        assert [i.version for i in versions] == list(range(1, len(versions) + 1))
        assert all(i.idempotency_key == f"{i.id}:{i.version}" for i in versions)
        assert versions[0].status == "open"
        assert all(i.status == "updated" for i in versions[1:-1])


def test_incident_ids_are_deterministic() -> None:
    first = scripted_run(harness(group_interval_seconds=30))
    second = scripted_run(harness(group_interval_seconds=30))
    assert as_tuples(first) == as_tuples(second)
    assert all(i.id.startswith("inc-") and len(i.id) == 20 for i in first)
    assert [i.model_dump() for i in first] == [i.model_dump() for i in second]


def test_state_json_round_trip_mid_stream_gives_identical_outputs() -> None:
    config = correlation_config(group_interval_seconds=30, group_wait_seconds=5, resolve_quiet_seconds=60)
    reference = harness(group_interval_seconds=30, group_wait_seconds=5, resolve_quiet_seconds=60)
    restored = Harness(config, graph(CHAIN))
    steps: list[tuple[str, Any]] = [
        ("send", signal("x", "a", 0, origin="metric_anomaly", score=0.99999)),
        ("send", signal("y", "b", 10)),
        ("tick", 20),
        ("send", signal("q", "c", 25, severity="critical")),
        ("tick", 40),
        ("send", signal("x", "a", 60, status="resolved")),
        ("tick", 100),
        ("send", signal("y", "b", 120, status="resolved")),
        ("send", signal("q", "c", 130, status="resolved")),
        ("tick", 400),
    ]
    for number, (kind, arg) in enumerate(steps):
        for h in (reference, restored):
            h.send(arg) if kind == "send" else h.tick(arg)
        if number in (1, 3, 5, 7):  # restart: the state survives only as JSON
            for h in (reference, restored):  # the runtime checkpoints the learned model on watermarks
                persist(h.state)
            payload = restored.state.model_dump(mode="json")
            restored.state = ScopeState.model_validate(payload)
            assert restored.state == reference.state
    assert as_tuples(restored.out) == as_tuples(reference.out)
    assert [i.model_dump(mode="json") for i in restored.out] == [i.model_dump(mode="json") for i in reference.out]
    assert [i.status for i in reference.out][-1] == "resolved"


SCOPES = [
    ("component", "a", "a"),
    ("component", "c", "a"),  # component label is the smallest name in it
    ("component", "y", "x"),
    ("component", "unknown", "unknown"),
    ("service", "c", "c"),
    ("global", "c", "global"),
]


@pytest.mark.parametrize(("scope", "service", "expected"), SCOPES)
def test_scope_of(scope: str, service: str, expected: str) -> None:
    correlator = CorrelationEngine(
        correlation_config(scope=scope), graph({"a": ["b"], "b": ["c"], "c": [], "y": ["x"], "x": []})
    )
    assert correlator.scope_of(signal("n", service, 0)) == expected


@pytest.mark.parametrize(("scope", "service", "expected"), SCOPES)
def test_scope_of_needs_only_the_graph(scope: ScopeKind, service: str, expected: str) -> None:
    """The detection worker's partition key: the same scope as the engine's, without building an engine."""
    topology = graph({"a": ["b"], "b": ["c"], "c": [], "y": ["x"], "x": []})
    assert scope_of(signal("n", service, 0), scope, topology) == expected


def test_incident_carries_scope_times_and_grouping_explanation() -> None:
    h = harness()
    h.send(signal("x", "b", 10, started=0), signal("y", "a", 20))
    incident = h.out[-1]
    assert incident.scope == "s"
    assert incident.first_seen == at(0)
    assert incident.last_seen == at(20)
    assert incident.explanation.grouping[0] == "opened by x@b (alert)"
    assert incident.explanation.grouping[1].startswith("y@a: topology: a is 1 depends_on hop(s) from b")
