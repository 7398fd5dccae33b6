"""Root-cause ranking and priority on hand-built incident states."""

from __future__ import annotations

import pytest
from support.builders import T0, graph
from support.builders import incident_state as incident

from aiops.correlation.incident_state import MemberState
from aiops.correlation.priority import assess_priority
from aiops.correlation.root_cause import rank_root_causes
from aiops.correlation.topology import ServiceGraph
from aiops.signals import Evidence, dt_from_epoch

SHOP = {"frontend": ["checkout"], "checkout": ["payments"], "payments": ["postgres"], "postgres": []}
SHOP_TIERS = {"frontend": 1, "checkout": 1, "payments": 1, "postgres": 2}


def member(service: str, onset: float, severity: str = "warning", name: str = "alert") -> MemberState:
    return MemberState(fingerprint=f"{service}/{name}", origin="alert", name=name, service=service,
                       status="firing", severity=severity, first_seen=T0 + onset, last_seen=T0 + onset + 60)


def shop_graph() -> ServiceGraph:
    return graph(SHOP, SHOP_TIERS)


def test_deepest_affected_dependency_ranks_first_on_the_chain() -> None:
    # Onsets deliberately in the "wrong" order so the graph factor has to win.
    state = incident(member("frontend", 0), member("checkout", 10), member("payments", 20), member("postgres", 30))
    ranked = rank_root_causes(state, shop_graph())
    assert [c.service for c in ranked] == ["postgres", "payments", "checkout", "frontend"]
    assert ranked[0].reason.endswith("none of its dependencies is affected")
    assert "3 affected service(s) depend on postgres" in ranked[0].reason
    scores = [c.score for c in ranked]
    assert scores == sorted(scores, reverse=True)


def test_root_cause_factor_shares_sum_to_one() -> None:
    state = incident(member("postgres", 0, "critical"), member("payments", 30), member("checkout", 60),
                     member("frontend", 90))
    ranked = rank_root_causes(state, shop_graph())
    for candidate in ranked:
        assert set(candidate.factors) == {"graph", "onset", "strength"}
        assert sum(candidate.factors.values()) == pytest.approx(1.0, abs=0.005)
        assert all(0.0 <= share <= 1.0 for share in candidate.factors.values())


def test_single_service_incident_ranks_itself() -> None:
    ranked = rank_root_causes(incident(member("search", 0)), graph({"search": []}))
    assert [c.service for c in ranked] == ["search"]
    assert ranked[0].factors["graph"] == 0.0


def test_onset_does_not_rank_services_that_cannot_affect_each_other() -> None:
    ranked = rank_root_causes(incident(member("x", 50), member("y", 0)), graph({"x": [], "y": []}))
    assert ranked[0].score == ranked[1].score
    assert ranked[0].factors == ranked[1].factors


def _anomaly(service: str, name: str, onset: float) -> MemberState:
    evidence = Evidence(detector="t", score=0.99999, threshold=0.9999, observed=2.0, expected=1.0,
                        onset=dt_from_epoch(T0 + onset))
    return MemberState(fingerprint=service, origin="metric_anomaly", name=name, service=service, status="firing",
                       severity="warning", first_seen=T0 + onset, last_seen=T0 + 100, evidence=evidence,
                       member_type=f"metric_anomaly:{name}")


def _scores(*members: MemberState) -> dict[str, float]:
    ranked = rank_root_causes(incident(*members), graph({"w": ["x"], "x": ["y"], "y": []}))
    return {c.service: c.score for c in ranked}


def test_onset_counts_between_anomalies_that_explain_one_another() -> None:
    # x depends on y and both latencies rose: y starting later than x lowers y's score.
    together = _scores(_anomaly("x", "latency", 0), _anomaly("y", "latency", 0))
    later = _scores(_anomaly("x", "latency", 0), _anomaly("y", "latency", 50))
    assert later["y"] < together["y"]
    assert later["x"] == together["x"]


def test_onset_does_not_count_between_unrelated_anomalies_on_one_path() -> None:
    # Same path, but a cpu rise on y does not explain x's latency rise: y's late start costs it nothing.
    together = _scores(_anomaly("x", "latency", 0), _anomaly("y", "cpu", 0))
    later = _scores(_anomaly("x", "latency", 0), _anomaly("y", "cpu", 50))
    assert later == together


def test_at_most_five_candidates() -> None:
    services = [f"s{n}" for n in range(8)]
    ranked = rank_root_causes(incident(*(member(s, n) for n, s in enumerate(services))),
                              graph({s: [] for s in services}))
    assert len(ranked) == 5


def test_priority_explanation_lists_every_factor() -> None:
    priority, factors = assess_priority(incident(member("payments", 0, "critical")), shop_graph())
    assert [f.factor for f in factors] == ["severity", "tier", "blast_radius", "strength", "novelty"]
    assert all(f.value for f in factors)
    assert "5/5" in factors[0].value
    assert "tier 1" in factors[1].value
    assert "3 service(s)" in factors[2].value  # payments plus checkout and frontend depending on it
    assert priority in {"P1", "P2", "P3", "P4", "P5"}


def test_higher_severity_gives_higher_or_equal_priority() -> None:
    levels = []
    for severity in ("info", "warning", "high", "critical"):
        priority, factors = assess_priority(incident(member("search", 0, severity)), graph({"search": []}))
        levels.append(priority)
        assert factors[0].weight == pytest.approx(0.35 * (["info", "warning", "medium", "high", "critical"]
                                                         .index(severity)) / 4, abs=1e-3)
    assert levels == sorted(levels, reverse=True)  # "P5" > "P1" lexically, so descending = more urgent
    assert levels[0] != levels[-1]


def test_tier_one_service_outranks_tier_five() -> None:
    critical, _ = assess_priority(incident(member("svc", 0, "high")), graph({"svc": []}, {"svc": 1}))
    minor, _ = assess_priority(incident(member("svc", 0, "high")), graph({"svc": []}, {"svc": 5}))
    assert critical < minor  # P1 < P5 lexically


def test_blast_radius_raises_priority() -> None:
    leaf, _ = assess_priority(incident(member("frontend", 0, "high")), graph(SHOP))
    deep, factors = assess_priority(incident(member("postgres", 0, "high")), graph(SHOP))
    assert deep < leaf
    assert factors[2].weight == pytest.approx(0.15 * 3 / 4, abs=1e-3)


def test_critical_tier_one_with_wide_blast_radius_is_p1_and_info_leaf_is_p5() -> None:
    top, _ = assess_priority(incident(member("postgres", 0, "critical")), graph(SHOP, {"postgres": 1}))
    bottom, _ = assess_priority(incident(member("x", 0, "info")), graph({"x": []}, {"x": 5}))
    assert (top, bottom) == ("P1", "P5")


def test_learned_order_counts_only_between_anomalies_that_explain_one_another() -> None:
    def precedence(a: str, b: str) -> float | None:
        return {("LinkDown", "HighLatency"): 0.9, ("HighLatency", "LinkDown"): 0.1}.get((a, b))

    def ranked(edges: dict[str, list[str]]) -> dict[str, dict[str, float]]:
        edge, app = member("edge", 0, name="LinkDown"), member("app", 0, name="HighLatency")
        state = incident(edge.model_copy(update={"member_type": "LinkDown"}),
                         app.model_copy(update={"member_type": "HighLatency"}))
        return {c.service: c.factors for c in rank_root_causes(state, graph(edges), precedence)}

    related = ranked({"app": ["edge"], "edge": []})  # alerts explain anything along the dependency
    assert related["edge"]["learned"] > related["app"]["learned"]
    unrelated = ranked({"app": [], "edge": []})
    assert all("learned" not in factors for factors in unrelated.values())
