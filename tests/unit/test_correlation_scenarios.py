"""Correlation scenarios with known ground truth: incidents, members, root cause, priority, notifications.

Cascading failure, two unrelated failures, a flapping member, a silence starting mid-incident, a
maintenance window, an inhibition and a storm of 10,000 members in one minute, each driven through the
engine on injected event time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from support.builders import T0, signal
from support.engine_run import EngineRun

from aiops.correlation.suppression.rules import InhibitionRule, MaintenanceWindow, Silence, SuppressionPolicy

SHOP = {"frontend": ["checkout"], "checkout": ["payments"], "payments": ["postgres"], "postgres": [],
        "search": ["elastic"], "elastic": []}
TIERS = {"frontend": 1, "checkout": 1, "payments": 1, "postgres": 2, "search": 4, "elastic": 4}


class Run(EngineRun):
    def __init__(self, suppression: dict[str, Any] | None = None, **config: Any) -> None:
        super().__init__(SHOP, TIERS, suppression, **config)


def iso(offset: float) -> datetime:
    return datetime.fromtimestamp(T0 + offset, tz=UTC)


def test_cascading_failure_along_the_chain_is_one_incident_rooted_at_the_deepest_dependency() -> None:
    run = Run(group_interval_seconds=30, resolve_quiet_seconds=60)
    run.send(signal("latency", "frontend", 0, severity="warning"))
    run.send(signal("errors", "checkout", 10), signal("timeouts", "payments", 20),
             signal("connections", "postgres", 30, severity="critical", started=-60))
    run.tick(60)
    incidents = run.incidents()
    assert len(incidents) == 1
    final = next(iter(incidents.values()))[-1]
    assert {m.service for m in final.members} == {"frontend", "checkout", "payments", "postgres"}
    assert final.root_cause[0].service == "postgres"
    assert final.priority == "P1"  # critical, tier-1 services on top, wide blast radius
    assert [i.status for i in next(iter(incidents.values()))] == ["open", "updated"]
    joins = [d for d in run.decisions if d.kind == "joined" and d.rule == "topology"]
    assert len(joins) == 3
    assert all(d.score == 0.5 for d in joins)
    for service in ("postgres", "payments", "checkout", "frontend"):
        run.send(signal(*{"frontend": ("latency",), "checkout": ("errors",), "payments": ("timeouts",),
                          "postgres": ("connections",)}[service], service, 200, status="resolved"))
    run.tick(300)
    assert next(iter(run.incidents().values()))[-1].status == "resolved"


def test_two_simultaneous_unrelated_failures_stay_separate() -> None:
    run = Run()
    run.send(signal("errors", "payments", 0), signal("latency", "search", 1), signal("heap", "elastic", 2),
             signal("connections", "postgres", 3))
    groups = sorted(tuple(versions[-1].services) for versions in run.incidents().values())
    assert groups == [("elastic", "search"), ("payments", "postgres")]
    roots = sorted(versions[-1].root_cause[0].service for versions in run.incidents().values())
    assert roots == ["elastic", "postgres"]


def test_flapping_member_is_marked_and_its_changes_are_held_until_calm() -> None:
    run = Run(suppression={"flapping": {"window_seconds": 600, "max_transitions": 4, "calm_seconds": 300}},
              resolve_quiet_seconds=60)
    run.send(signal("disk", "elastic", 0))
    for n in range(1, 8):
        run.send(signal("disk", "elastic", n * 10, status="resolved" if n % 2 else "firing", started=0))
    statuses = [i.status for i in run.out]
    assert statuses[0] == "open"
    assert len(run.out) <= 5  # the changes after the 5th transition are held
    assert [d.kind for d in run.decisions].count("flapping") == 1
    held = len(run.out)
    run.tick(200)
    assert len(run.out) == held  # still flapping: nothing sent, not resolved
    run.tick(371)  # calm for 300 s: settles as resolved, then resolves after the quiet period
    run.tick(500)
    assert run.out[-1].status == "resolved"


def test_silence_starting_mid_incident_holds_updates_but_never_the_resolve() -> None:
    run = Run(resolve_quiet_seconds=0)
    opened = run.send(signal("errors", "payments", 0))
    assert [i.status for i in opened] == ["open"]
    silence = Silence(id="s-1", matchers=["service=~\"payments|postgres\""], starts_at=iso(50), ends_at=iso(5000),
                      author="ops", comment="db failover")
    run.engine.policy = SuppressionPolicy(silences=(silence,))
    assert run.send(signal("connections", "postgres", 60)) == []  # held by the silence
    assert [(d.kind, d.ref) for d in run.decisions if d.kind == "suppressed"] == [("suppressed", "s-1")]
    run.send(signal("errors", "payments", 100, status="resolved"))
    final = run.send(signal("connections", "postgres", 110, status="resolved"))
    assert [i.status for i in final] == ["resolved"]  # notified before the silence: its resolve goes out
    assert any("suppressed (silence: s-1)" in line for line in final[0].explanation.grouping)


def test_maintenance_window_hides_an_incident_entirely() -> None:
    window = {"name": "nightly", "matchers": ["service=search"], "start": "22:00", "duration_minutes": 60}
    start = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC).timestamp()  # T0 is 22:13:20 UTC
    assert start == T0
    run = Run(suppression={"maintenance": [window]}, resolve_quiet_seconds=0)
    run.send(signal("latency", "search", 0), signal("latency", "search", 30, status="resolved"))
    assert run.out == []
    assert {d.kind for d in run.decisions} >= {"suppressed", "resolved"}
    assert MaintenanceWindow.model_validate(window).active(T0)


def test_inhibition_holds_the_target_while_the_source_fires() -> None:
    rule = {"name": "node-down", "source_matchers": ["name=NodeDown"], "target_matchers": ["severity!=critical"],
            "equal": ["cluster"]}
    run = Run(suppression={"inhibitions": [rule]}, group_by=["alertname"], topology_hops=0)
    cluster = {"labels": {"cluster": "eu-1"}}
    run.send(signal("NodeDown", "postgres", 0, severity="critical").model_copy(update=cluster))
    run.send(signal("SlowQueries", "checkout", 5).model_copy(update=cluster))
    statuses = {versions[0].members[0].name: versions[0].status for versions in run.incidents().values()}
    assert statuses == {"NodeDown": "open"}
    inhibited = [d for d in run.decisions if d.kind == "inhibited"]
    assert [d.ref for d in inhibited] == ["node-down"]
    assert InhibitionRule.model_validate(rule).name == "node-down"


def test_storm_of_ten_thousand_members_in_a_minute_opens_each_incident_once_and_summarises_updates() -> None:
    services = ["frontend", "checkout", "payments", "postgres", "search", "elastic"]
    run = Run(group_interval_seconds=0, storm_summary_interval_seconds=300,
              suppression={"storm": {"bucket_seconds": 60, "ratio": 10, "min_rate": 100}}, topology_hops=0)
    for n in range(10_000):
        service = services[n % len(services)]
        run.send(signal(f"m{n}", service, n * 0.006))
    incidents = run.incidents()
    assert len(incidents) == len(services)
    for versions in incidents.values():
        assert versions[0].status == "open"
        assert len(versions) <= 40  # not one message per member
    assert sum(len(v) for v in incidents.values()) < 300
    assert any(d.kind == "storm" for d in run.decisions)
    run.tick(400)
    final = {versions[-1].services[0]: len(versions[-1].members) + versions[-1].members_truncated
                 for versions in run.incidents().values()}
    assert sum(final.values()) == 10_000
