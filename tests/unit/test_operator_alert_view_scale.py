"""Alertmanager's alert view at scale: inhibitions indexed once per view (6,000 firing members with a rule
well under a second, where the per-member scan took over a minute), the same answers as
`InhibitionRule.inhibiting_source` over the other members on a mixed case, and the member cap."""

from __future__ import annotations

import random
import time
from datetime import timedelta

from support.store_samples import BASE

from aiops.correlation.suppression.rules import InhibitionRule, SuppressionPolicy
from aiops.incidents import Incident, IncidentContext, Member
from aiops.operator.alerts import MAX_FIRING, AlertQuery, AlertView, member_attributes

NOW = BASE + timedelta(hours=1)


def _incident(n: int, members: list[Member]) -> Incident:
    return Incident(id=f"inc-{n}", version=1, idempotency_key=f"inc-{n}:1", status="open", priority="P2",
                    title=f"t{n}", scope="default", services=sorted({m.service for m in members}), hosts=[],
                    first_seen=BASE, last_seen=BASE, members=members, context=IncidentContext())


def _member(fingerprint: str, name: str, service: str, host: str = "", **labels: str) -> Member:
    return Member(fingerprint=fingerprint, origin="alert", name=name, service=service, host=host,
                  status="firing", severity="critical", first_seen=BASE, last_seen=BASE, labels=labels)


def _view(incidents: list[Incident], rules: list[InhibitionRule]) -> AlertView:
    return AlertView(incidents, SuppressionPolicy(inhibitions=tuple(rules)), NOW, lambda _: ["pager"], "http://x")


def test_six_thousand_members_with_an_inhibition_rule_take_well_under_a_second() -> None:
    rule = InhibitionRule(source_matchers=['alertname="NodeDown"'], target_matchers=['severity="critical"'],
                          equal=["instance"])
    incidents = [_incident(n, [_member(f"fp-{n}-{k}", "NodeDown" if k == 0 else "HighLatency", f"svc-{k}",
                                       instance=f"host-{n % 50}") for k in range(10)]) for n in range(600)]
    started = time.perf_counter()
    alerts = _view(incidents, [rule]).alerts(AlertQuery())
    elapsed = time.perf_counter() - started
    assert len(alerts) == 6000
    assert elapsed < 2.0, f"{elapsed:.2f}s for 6,000 members"
    inhibited = [a for a in alerts if a["status"]["inhibitedBy"]]
    assert len(inhibited) == 5400, "every non-NodeDown member shares an instance with a NodeDown member"


def _old_inhibited_by(rules: list[InhibitionRule], firing: list[Member], target: Member) -> list[str]:
    """The semantics before the index: each rule's first inhibiting source among the other members."""
    others = [(m.fingerprint, member_attributes(m)) for m in firing if m is not target]
    found = []
    for rule in rules:
        source = rule.inhibiting_source(member_attributes(target), [attrs for _, attrs in others])
        if source is not None:
            found.append(next(fp for fp, attrs in others if attrs is source))
    return list(dict.fromkeys(found))


def test_the_index_gives_the_answers_of_a_scan_over_the_other_members() -> None:
    chooser = random.Random(13)
    members = [_member(f"fp-{i:03d}", chooser.choice(["NodeDown", "HighLatency", "DiskFull"]),
                       chooser.choice(["db", "web"]), instance=chooser.choice(["a", "b", ""]),
                       zone=chooser.choice(["z1", "z2"])) for i in range(120)]
    rules = [
        InhibitionRule(source_matchers=['alertname="NodeDown"'], target_matchers=['alertname!="NodeDown"'],
                       equal=["instance"]),
        InhibitionRule(source_matchers=['service="db"'], target_matchers=['zone=~"z.*"'], equal=["zone"]),
        InhibitionRule(source_matchers=['alertname=~"Node.*|Disk.*"'], target_matchers=['service="web"']),
        InhibitionRule(source_matchers=['zone="z9"'], target_matchers=['service="web"']),
    ]
    incidents = [_incident(n, members[n * 10:(n + 1) * 10]) for n in range(12)]
    alerts = {a["fingerprint"]: a["status"]["inhibitedBy"] for a in _view(incidents, rules).alerts(AlertQuery())}
    expected = {m.fingerprint: _old_inhibited_by(rules, members, m) for m in members}
    assert alerts == expected
    assert any(len(found) > 1 for found in expected.values()), "the case exercises several rules"
    assert any(found == [] for found in expected.values())


def test_at_most_max_firing_members_are_considered_newest_incidents_first() -> None:
    per = 1000
    incidents = [_incident(n, [_member(f"fp-{n}-{k}", "X", "s") for k in range(per)])
                 for n in range(MAX_FIRING // per + 2)]
    view = _view(incidents, [])
    assert len(view.firing) == MAX_FIRING
    assert view.firing[0].member.fingerprint == "fp-0-0"
    assert all(not item.incident.id.endswith(f"-{MAX_FIRING // per}") for item in view.firing)
