"""Root-cause ranking on awkward inputs: cycles in the dependency graph, ties the member order must not
decide, non-finite evidence numbers."""

from __future__ import annotations

import math

import pytest
from support.builders import T0, graph
from support.builders import incident_state as incident

from aiops.correlation.digest import IncidentDigest
from aiops.correlation.incident_state import MemberState
from aiops.correlation.root_cause import member_strength, rank_root_causes, symptoms_of
from aiops.signals import Evidence, dt_from_epoch


def alert(service: str, onset: float = 0.0, severity: str = "warning") -> MemberState:
    return MemberState(fingerprint=f"{service}/alert", origin="alert", name="alert", service=service,
                       status="firing", severity=severity, first_seen=T0 + onset, last_seen=T0 + onset + 60)


def anomaly(service: str, fingerprint: str, observed: float, expected: float, onset: float = 0.0,
            score: float = 0.999999, name: str = "latency") -> MemberState:
    evidence = Evidence(detector="ewma_zscore", score=score, threshold=0.9999, observed=observed,
                        expected=expected, onset=dt_from_epoch(T0 + onset))
    return MemberState(fingerprint=fingerprint, origin="metric_anomaly", name=name, service=service,
                       status="firing", severity="warning", first_seen=T0 + onset, last_seen=T0 + onset + 60,
                       evidence=evidence, member_type=f"metric_anomaly:{name}")


def test_a_service_calling_itself_is_not_its_own_dependent_nor_dependency() -> None:
    # a and b are symmetric callees of the frontend; a also calls itself (a self-edge, as trace-derived edge
    # lists have): that must neither count a among the services depending on a nor hide that a is deepest.
    ranked = {c.service: c for c in rank_root_causes(incident(alert("frontend"), alert("a"), alert("b")),
                                                     graph({"frontend": ["a", "b"], "a": ["a"], "b": []}))}
    assert ranked["a"].score == ranked["b"].score
    assert ranked["a"].reason == ranked["b"].reason.replace("on b: frontend", "on a: frontend")


def test_a_dependency_cycle_counts_each_other_service_once() -> None:
    # front -> a <-> b: a's dependents are b and front (not a itself), its affected dependency is b.
    ranked = {c.service: c for c in rank_root_causes(incident(alert("front"), alert("a"), alert("b")),
                                                     graph({"front": ["a"], "a": ["b"], "b": ["a"]}))}
    assert "2 affected service(s) depend on a: b, front" in ranked["a"].reason
    assert "its affected dependencies: b" in ranked["a"].reason
    assert "2 affected service(s) depend on b: a, front" in ranked["b"].reason
    for candidate in ranked.values():
        assert 0.0 <= candidate.score <= 1.0


def test_the_ranking_does_not_depend_on_the_order_members_are_held_in() -> None:
    # checkout has two latency anomalies starting at the same instant (two pods): one far too small to
    # explain the frontend's rise, one large enough. Which one speaks for checkout must not depend on the
    # member order (the join order, which a restored changelog table or a rebalance need not reproduce).
    calls = {"frontend": ["checkout"], "checkout": []}
    members = [anomaly("frontend", "frontend/latency", 0.6, 0.3, 300),
               anomaly("checkout", "checkout/latency#pod-b", 0.501, 0.5),
               anomaly("checkout", "checkout/latency#pod-a", 0.5, 0.2)]
    members[1].host, members[2].host = "node-b", "node-a"
    forward, backward = incident(*members), incident(*reversed(members))
    ranked = rank_root_causes(forward, graph(calls))
    assert rank_root_causes(backward, graph(calls)) == ranked
    for state in (forward, backward):
        assert rank_root_causes(IncidentDigest(state).refresh().view(), graph(calls)) == ranked


@pytest.mark.parametrize("score", [math.nan, math.inf, -math.inf, -1.0, 2.0])
def test_a_non_finite_or_out_of_range_score_gives_a_strength_in_0_1_and_finite_rankings(score: float) -> None:
    odd = anomaly("checkout", "checkout/latency", 0.5, 0.2, score=score)
    strength = member_strength(odd)
    assert 0.0 <= strength <= 1.0
    if math.isnan(score):
        assert strength < member_strength(anomaly("checkout", "checkout/x", 0.5, 0.2, score=0.999999))
    ranked = rank_root_causes(incident(anomaly("frontend", "frontend/latency", 0.6, 0.3), odd),
                              graph({"frontend": ["checkout"], "checkout": []}))
    for candidate in ranked:
        assert math.isfinite(candidate.score)
        assert all(math.isfinite(share) for share in candidate.factors.values())
        assert sum(candidate.factors.values()) == pytest.approx(1.0, abs=0.01)


@pytest.mark.parametrize(("observed", "expected"), [(math.nan, 0.2), (0.5, math.nan), (math.inf, 0.2),
                                                    (-math.inf, math.inf)])
def test_a_metric_anomaly_without_a_finite_deviation_is_of_unknown_kind(observed: float, expected: float) -> None:
    # no size nor direction to compare: like an alert, it may explain and be explained by anything
    odd = symptoms_of([anomaly("checkout", "checkout/latency", observed, expected)])
    assert odd.unknown
    assert odd.deviations == {}
    ranked = rank_root_causes(incident(anomaly("frontend", "frontend/latency", 0.6, 0.3),
                                       anomaly("checkout", "checkout/latency", observed, expected)),
                              graph({"frontend": ["checkout"], "checkout": []}))
    assert ranked[0].service == "checkout"
    assert "1 affected service(s) depend on checkout: frontend" in ranked[0].reason


def test_an_entry_point_calling_itself_is_still_an_entry_point() -> None:
    members = (alert("frontend"), alert("api", 10))
    plain = rank_root_causes(incident(*members), graph({"frontend": ["api"], "api": []}))
    looped = rank_root_causes(incident(*members), graph({"frontend": ["frontend", "api"], "api": []}))
    assert "explains an affected entry point" in plain[0].reason
    assert looped == plain
