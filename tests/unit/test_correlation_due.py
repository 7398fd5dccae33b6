"""Advancing only due incidents (`aiops.correlation.due`) gives exactly what a full scan gives.

A seeded random stream (flapping, stale and resolving members, group waits, repeats, suppression by a
maintenance window, a storm) is driven twice through the engine: once normally, once with the due index
dropped before every advance (which makes every incident due, i.e. the old full scan). Incident changes
and decisions must be identical; and an idle scope must cost no incident visit.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from support.builders import T0, correlation_config, graph, random_signals, signal

from aiops.correlation.due import ALWAYS, DueIndex, Tally, next_due
from aiops.correlation.engine import CorrelationEngine
from aiops.correlation.state import ScopeState, due_index
from aiops.correlation.suppression.config import FlappingConfig, SuppressionConfig

EDGES = {"a": ["b"], "b": ["c"], "c": [], "d": [], "e": ["d"]}
SUPPRESSION: dict[str, Any] = {
    "flapping": {"window_seconds": 120, "max_transitions": 3, "calm_seconds": 90},
    "storm": {"bucket_seconds": 60, "ratio": 3, "min_rate": 15},
    "maintenance": [{"name": "mw", "matchers": ["service=e"], "start": "22:30",
                     "duration_minutes": 10}],
}


def _run(seed: int, full_scan: bool) -> list[str]:
    engine = CorrelationEngine(
        correlation_config(group_wait_seconds=20, group_interval_seconds=15, resolve_quiet_seconds=30,
                           repeat_interval_seconds=200, reopen_seconds=60, stale_seconds=150, min_active_members=1),
        graph(EDGES), suppression=SuppressionConfig.model_validate(SUPPRESSION))
    state = ScopeState(scope="x")
    rng = random.Random(seed)
    out: list[str] = []
    offset = 0.0
    stream = random_signals(rng, 800, sorted(EDGES), ["cpu", "mem"], resolved_share=0.45, burst_share=0.04)
    for offset, item in stream:
        changes = engine.process(state, item)
        if rng.random() < 0.5:
            if full_scan:
                state.derived.due = None
            changes += engine.advance(state, T0 + offset)
        out += [c.model_dump_json() for c in changes] + [d.model_dump_json() for d in engine.drain_decisions()]
    for step in range(1, 40):
        if full_scan:
            state.derived.due = None
        out += [c.model_dump_json() for c in engine.advance(state, T0 + offset + 30 * step)]
        out += [d.model_dump_json() for d in engine.drain_decisions()]
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_advancing_due_incidents_only_equals_a_full_scan(seed: int) -> None:
    due, full = _run(seed, False), _run(seed, True)
    assert len(due) > 50
    assert due == full


def test_an_idle_scope_visits_no_incident_and_a_due_timer_still_fires() -> None:
    engine = CorrelationEngine(correlation_config(group_wait_seconds=30), graph(EDGES), learned=False)
    state = ScopeState(scope="x")
    engine.process(state, signal("cpu", "a", 0.0))
    index = state.derived.due
    assert isinstance(index, DueIndex)
    assert engine.advance(state, T0 + 10) == []
    assert index.busy(T0 + 29, engine.config.stale_seconds) is False
    opened = engine.advance(state, T0 + 30)
    assert [i.status for i in opened] == ["open"]
    assert state.clock == T0 + 30


def test_a_held_open_incident_is_due_on_every_advance() -> None:
    state = ScopeState(scope="x")
    engine = CorrelationEngine(correlation_config(), graph(EDGES), learned=False)
    engine.process(state, signal("cpu", "a", 0.0))
    incident = next(iter(state.incidents.values()))
    incident.notified = False
    assert next_due(incident, engine.config, FlappingConfig(), Tally(incident)) == ALWAYS


def test_tallies_and_stale_queue_kept_by_the_due_index_equal_a_scan() -> None:
    engine = CorrelationEngine(correlation_config(stale_seconds=100, reopen_seconds=60),
                               graph(EDGES), suppression=SuppressionConfig.model_validate(SUPPRESSION))
    state = ScopeState(scope="x")
    rng = random.Random(7)
    offset, checked = 0.0, 0
    for _ in range(600):
        offset += rng.expovariate(1 / 4)
        fingerprint = f"{rng.choice(['cpu', 'mem'])}-{rng.choice(sorted(EDGES))}-{rng.randint(0, 3)}"
        status = "resolved" if rng.random() < 0.45 else "firing"
        engine.process(state, signal("cpu", fingerprint.split("-")[1], offset, status=status,
                                     fingerprint=fingerprint))
        engine.advance(state, T0 + offset)
        due = due_index(state)
        for incident in state.incidents.values():
            tally = due.tally(incident)
            firing = [m for m in incident.members.values() if m.status == "firing"]
            flapping = {m.fingerprint for m in incident.members.values() if m.flapping}
            assert tally.firing == len(firing)
            assert set(tally.flapping) == flapping
            live = {m.fingerprint for m in incident.members.values() if m.status == "firing" or m.flapping}
            assert set(tally.members) == live
            assert all(m.queued for m in firing)  # every firing member can go stale
            checked += bool(firing) and len(firing) < len(incident.members)
    assert checked > 50
