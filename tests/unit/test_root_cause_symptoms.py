"""Root-cause ranking reads what the anomalies look like, not only where they are in the call graph.

A dependency explains a dependent's metric anomaly only with the same metric moving the same way by at
least `MIN_SHARE` of the dependent's deviation; alerts and log anomalies stay compatible with anything; the
incremental digest's view still ranks exactly like the whole incident.
"""

from __future__ import annotations

import random

import pytest
from support.builders import T0, graph
from support.builders import incident_state as incident

from aiops.correlation.digest import IncidentDigest
from aiops.correlation.incident_state import IncidentState, MemberState
from aiops.correlation.root_cause import MIN_SHARE, explains, rank_root_causes, symptoms_of
from aiops.signals import Evidence, dt_from_epoch

SHOP = {"frontend": ["checkout", "cache"], "checkout": ["payments"], "payments": ["postgres"], "postgres": [],
        "cache": []}


def anomaly(service: str, name: str, observed: float, expected: float, onset: float = 0.0,
            episode: int = 0) -> MemberState:
    evidence = Evidence(detector="ewma_zscore", score=0.999999, threshold=0.9999, observed=observed,
                        expected=expected, onset=dt_from_epoch(T0 + onset))
    return MemberState(fingerprint=f"{service}/{name}#{episode}", origin="metric_anomaly", name=name,
                       service=service, status="firing", severity="warning", first_seen=T0 + onset,
                       last_seen=T0 + onset + 60, evidence=evidence, member_type=f"metric_anomaly:{name}")


def chain(postgres: MemberState) -> IncidentState:
    """frontend -> checkout -> payments all slower by ~0.3 s from minute 5; `postgres` fired first."""
    return incident(postgres, anomaly("frontend", "latency", 0.6, 0.3, 300),
                    anomaly("checkout", "latency", 0.5, 0.2, 300), anomaly("payments", "latency", 0.45, 0.15, 300))


@pytest.mark.parametrize("postgres", [
    anomaly("postgres", "availability", 100.0, 0.0),  # another metric
    anomaly("postgres", "latency", 0.001, 0.01),  # the same metric, the other way
    anomaly("postgres", "latency", 0.012, 0.01),  # the same metric, far too small to add 0.3 s
], ids=["other-metric", "other-direction", "too-small"])
def test_a_dependency_whose_anomaly_cannot_explain_the_chain_is_not_its_root_cause(postgres: MemberState) -> None:
    ranked = rank_root_causes(chain(postgres), graph(SHOP))
    assert ranked[0].service == "payments"
    assert "none of its affected dependencies explains its anomaly" in ranked[0].reason
    assert "unrelated anomaly: postgres" in ranked[0].reason
    assert "2 affected service(s) depend on payments" in ranked[0].reason


def test_a_dependency_with_the_same_symptom_is_the_root_cause() -> None:
    ranked = rank_root_causes(chain(anomaly("postgres", "latency", 0.3, 0.01, 300)), graph(SHOP))
    assert [c.service for c in ranked] == ["postgres", "payments", "checkout", "frontend"]
    assert "3 affected service(s) depend on postgres" in ranked[0].reason


def test_a_sibling_with_an_unrelated_anomaly_ranks_below_the_one_that_explains_the_caller() -> None:
    # cache fired first and stronger, but its latency fell while the frontend's rose.
    state = incident(anomaly("cache", "latency", 0.001, 0.02, 0), anomaly("frontend", "latency", 0.6, 0.3, 300),
                     anomaly("checkout", "latency", 0.5, 0.2, 300))
    assert rank_root_causes(state, graph(SHOP))[0].service == "checkout"


def test_alerts_are_compatible_with_any_anomaly() -> None:
    alert = MemberState(fingerprint="postgres/DiskFull", origin="alert", name="DiskFull", service="postgres",
                        status="firing", severity="critical", first_seen=T0 + 300, last_seen=T0 + 360)
    symptoms = symptoms_of([alert])
    assert symptoms.unknown
    assert explains(symptoms_of([anomaly("payments", "latency", 0.45, 0.15)]), symptoms)
    assert rank_root_causes(chain(alert), graph(SHOP))[0].service == "postgres"


def test_symptoms_come_from_the_earliest_member_of_each_type() -> None:
    later = anomaly("payments", "latency", 0.01, 0.15, 900, episode=1)  # a later, opposite episode
    symptoms = symptoms_of([later, anomaly("payments", "latency", 0.45, 0.15, 300)])
    assert symptoms.deviations == {("latency", 1): pytest.approx(0.3)}
    assert not symptoms.unknown


def test_min_share_is_the_explaining_bound() -> None:
    dependent = symptoms_of([anomaly("a", "latency", 1.3, 0.3)])
    assert explains(dependent, symptoms_of([anomaly("b", "latency", 0.1 + MIN_SHARE, 0.1)]))
    assert not explains(dependent, symptoms_of([anomaly("b", "latency", 0.1 + MIN_SHARE * 0.9, 0.1)]))


@pytest.mark.parametrize("seed", range(4))
def test_the_digest_view_ranks_metric_anomalies_like_the_whole_incident(seed: int) -> None:
    rng = random.Random(seed)
    g = graph(SHOP)
    state = IncidentState(id="i", scope="s", first_seen=T0, last_seen=T0 + 900)
    digest = IncidentDigest(state)
    for index in range(60):
        service, name = rng.choice(sorted(SHOP)), rng.choice(["latency", "availability"])
        member = anomaly(service, name, rng.uniform(0, 2), rng.uniform(0, 2), rng.uniform(0, 900), episode=index)
        state.members[member.fingerprint] = member
        if index % 7 == 6:
            assert rank_root_causes(digest.refresh().view(), g) == rank_root_causes(state, g)


def test_explaining_the_entry_point_outranks_explaining_more_internal_services() -> None:
    # frontend (nothing depends on it) <- api; scheduler (unaffected) -> x -> y -> z, z explains x and y.
    calls = {"frontend": ["api"], "api": [], "scheduler": ["x"], "x": ["y"], "y": ["z"], "z": []}
    state = incident(anomaly("frontend", "latency", 0.6, 0.3, 300), anomaly("api", "latency", 0.5, 0.2, 300),
                     anomaly("x", "queue", 90, 10), anomaly("y", "queue", 80, 10), anomaly("z", "queue", 70, 10))
    ranked = rank_root_causes(state, graph(calls))
    assert ranked[0].service == "api"
    assert "explains an affected entry point" in ranked[0].reason
    assert ranked[1].service == "z"  # without the entry point bonus z would lead: it explains two services
    z = next(c for c in ranked if c.service == "z")
    assert "2 affected service(s) depend on z" in z.reason
    assert "entry point" not in z.reason
