"""Large incidents are built from an incremental digest (`aiops.correlation.digest`) without changing outcomes.

- the digest's view ranks root causes and assesses priority exactly like the whole incident, on seeded
  random incidents grown in steps, with evidence updates (also of the strongest member);
- a seeded stream of small incidents gives identical versions with the default member bound and none;
- with a tiny bound, every version keeps the same status, priority, services, hosts and changes; it carries
  at most the bound, its new members and the earliest member, and counts the rest in `members_truncated`.
"""

from __future__ import annotations

import random

import pytest
from support.builders import T0, correlation_config, graph, random_signals

from aiops.correlation.builder import BuildContext
from aiops.correlation.digest import IncidentDigest
from aiops.correlation.engine import CorrelationEngine
from aiops.correlation.incident_state import IncidentState, MemberState
from aiops.correlation.priority import assess_priority
from aiops.correlation.root_cause import rank_root_causes
from aiops.correlation.state import ScopeState
from aiops.incidents import Incident
from aiops.signals import Evidence, dt_from_epoch

EDGES = {"a": ["b"], "b": ["c"], "c": [], "d": [], "e": ["d"]}


def _member(rng: random.Random, index: int) -> MemberState:
    service = rng.choice(sorted(EDGES))
    evidence = None
    if rng.random() < 0.3:
        evidence = Evidence(detector="t", score=rng.random(), threshold=0.9, onset=dt_from_epoch(T0))
    return MemberState(
        fingerprint=f"m{index}", origin="alert", name=f"n{index}", service=service,
        host=rng.choice(["", f"h-{service}", "h-shared"]), status="firing",
        severity=rng.choice(["info", "warning", "critical"]), first_seen=T0 + rng.uniform(0, 500),
        last_seen=T0 + 600, evidence=evidence, member_type=rng.choice(["t1", "t2", "t3", ""]),
    )


def _precedence(a: str, b: str) -> float | None:
    return None if {a, b} == {"t1", "t3"} else (0.8 if a < b else 0.2)


@pytest.mark.parametrize("seed", range(6))
def test_the_digest_view_ranks_and_prioritises_like_the_whole_incident(seed: int) -> None:
    rng = random.Random(seed)
    incident = IncidentState(id="i", scope="x", first_seen=T0, last_seen=T0 + 600)
    digest = IncidentDigest(incident)
    g = graph(EDGES, tiers={"c": 1})
    for step in range(12):
        for index in range(step * 10, step * 10 + rng.randint(1, 10)):
            incident.members[f"m{index}"] = _member(rng, index)
        for member in rng.sample(list(incident.members.values()), min(2, len(incident.members))):
            member.evidence = Evidence(detector="t", score=rng.random(), threshold=0.9, onset=dt_from_epoch(T0))
            digest.note_evidence(member)
        view = digest.refresh().view()
        assert len(view.members) < len(incident.members) or len(incident.members) < 30
        assert rank_root_causes(view, g, _precedence) == rank_root_causes(incident, g, _precedence)
        assert assess_priority(view, g, 0.5) == assess_priority(incident, g, 0.5)
        assert {m.member_type for m in view.members.values()} == {m.member_type for m in incident.members.values()}
        assert sorted(digest.hosts) == sorted({m.host for m in incident.members.values() if m.host})


def _run(seed: int, max_members: int | None, spread: int = 1) -> list[Incident]:
    engine = CorrelationEngine(correlation_config(group_wait_seconds=20, group_interval_seconds=15,
                                                  resolve_quiet_seconds=30, reopen_seconds=60), graph(EDGES))
    if max_members is not None:
        engine.lifecycle.context = BuildContext(engine.graph, engine.model_factory, max_members=max_members)
    state = ScopeState(scope="x")
    out: list[Incident] = []
    offset = 0.0
    stream = random_signals(random.Random(seed), 600, sorted(EDGES), ["cpu", "mem", "disk"], resolved_share=0.3,
                            burst_share=0.03, spread=spread, hosts=3, score_share=0.2)
    for offset, item in stream:
        out += engine.process(state, item)
        out += engine.advance(state, T0 + offset)
    return out + engine.advance(state, T0 + offset + 3600)


@pytest.mark.parametrize("seed", [1, 2])
def test_small_incidents_are_built_as_before(seed: int) -> None:
    bounded = _run(seed, None)
    unbounded = _run(seed, 10**9)
    assert len(bounded) > 50
    assert all(v.members_truncated == 0 for v in bounded)
    assert [v.model_dump_json() for v in bounded] == [v.model_dump_json() for v in unbounded]


def test_a_large_incident_carries_its_changes_and_counts_what_it_leaves_out() -> None:
    bound = 6
    full, small = _run(3, 10**9, 40), _run(3, bound, 40)
    assert len(full) == len(small)
    truncated = [v for v in small if v.members_truncated]
    assert truncated, "the stream must grow an incident past the bound"
    members: dict[str, set[str]] = {}
    for whole, part in zip(full, small, strict=True):
        for name in ("id", "version", "status", "priority", "services", "hosts", "change", "first_seen"):
            assert getattr(whole, name) == getattr(part, name), name
        shown = {m.fingerprint for m in part.members}
        assert len(shown) <= bound
        assert len(shown) + part.members_truncated == len(whole.members)
        assert whole.members[0].fingerprint in shown
        new = [fp for fp in [*part.change.added, *part.change.resolved] if fp in {m.fingerprint for m in whole.members}]
        assert set(new[-(bound // 2):]) <= shown
        members.setdefault(part.id, set()).update(shown | set(part.change.added))
    last = {v.id: v for v in full}
    assert all(members[i] >= {m.fingerprint for m in v.members} for i, v in last.items())
