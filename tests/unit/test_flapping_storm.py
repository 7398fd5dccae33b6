"""Flapping (the member rule the engine runs) and StormGuard: thresholds, calm-down, event time only, bounded
memory, snapshot/restore."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError
from support.builders import T0, signal
from support.engine_run import EngineRun

from aiops.correlation.incident_state import MemberState
from aiops.correlation.suppression.config import FlappingConfig, StormConfig
from aiops.correlation.suppression.flapping import record_transition, settle_flapping
from aiops.correlation.suppression.storm import StormGuard

# --- flapping -------------------------------------------------------------------------------------------


def _member() -> MemberState:
    return MemberState(fingerprint="a", origin="alert", name="disk", service="svc", status="firing",
                       severity="warning", first_seen=0.0, last_seen=0.0)


def _flap(member: MemberState, config: FlappingConfig, start: float, changes: int, step: float = 10.0) -> list[bool]:
    """`changes` status changes `step` seconds apart from `start` + `step`: whether each made it flapping."""
    return [record_transition(member, start + index * step, config) for index in range(1, changes + 1)]


def test_flapping_starts_after_more_than_max_transitions_in_window() -> None:
    config, member = FlappingConfig(window_seconds=600, max_transitions=4, calm_seconds=900), _member()
    assert _flap(member, config, 0.0, 5) == [False, False, False, False, True]
    assert member.flapping
    assert _flap(member, config, 50.0, 3) == [False, False, False]  # reported once, stays flapping
    assert member.flapping


def test_repeated_same_status_is_not_a_transition() -> None:
    run = EngineRun({"svc": []}, suppression={"flapping": {"max_transitions": 2}})
    for offset in range(100):
        run.send(signal("disk", "svc", float(offset)))
    member = run.state.incidents[run.out[0].id].members["svc/disk"]
    assert member.transitions == []
    assert not member.flapping
    assert "flapping" not in [d.kind for d in run.decisions]


def test_transitions_outside_window_do_not_count() -> None:
    config, member = FlappingConfig(window_seconds=100, max_transitions=4, calm_seconds=900), _member()
    assert not any(_flap(member, config, 0.0, 20, step=30.0))  # at most 4 changes per 100 s


def test_flapping_stops_after_calm_and_stays_while_changing() -> None:
    config, member = FlappingConfig(window_seconds=600, max_transitions=4, calm_seconds=900), _member()
    _flap(member, config, 0.0, 5)  # last change at 50
    record_transition(member, 500.0, config)  # still changing: flapping, calm counted from here
    assert not settle_flapping(member, 1399.0, config)  # 899 s calm
    assert member.flapping
    assert settle_flapping(member, 1400.0, config)  # 900 s without change
    assert not member.flapping
    assert member.transitions == []
    assert not record_transition(member, 1410.0, config)  # history cleared: one change is not flapping


def test_late_signal_is_never_a_transition() -> None:
    run = EngineRun({"svc": []}, suppression={"flapping": {"window_seconds": 600, "max_transitions": 2}})
    run.send(signal("disk", "svc", 1000.0))
    run.send(signal("disk", "svc", 1010.0, status="resolved"))
    run.send(signal("disk", "svc", 1020.0))
    run.send(signal("disk", "svc", 990.0, status="resolved"))  # older than the member: no status change
    member = run.state.incidents[run.out[0].id].members["svc/disk"]
    assert (member.status, member.last_seen) == ("firing", T0 + 1020.0)
    assert member.transitions == [T0 + 1010.0, T0 + 1020.0]
    assert not member.flapping


def test_flapping_memory_is_bounded() -> None:
    config, member = FlappingConfig(window_seconds=60, max_transitions=4, calm_seconds=120), _member()
    _flap(member, config, 0.0, 50, step=1.0)
    assert len(member.transitions) == config.max_transitions + 1
    assert member.transitions == [46.0, 47.0, 48.0, 49.0, 50.0]
    record_transition(member, 200.0, config)  # the window has passed: older changes are dropped
    assert member.transitions == [200.0]


def test_flapping_survives_a_json_round_trip_of_the_member() -> None:
    config = FlappingConfig(window_seconds=600, max_transitions=4, calm_seconds=900)
    a, b = _member(), _member()
    _flap(a, config, 0.0, 5)
    _flap(b, config, 0.0, 2)
    a, b = (MemberState.model_validate(json.loads(m.model_dump_json())) for m in (a, b))
    assert a.flapping
    assert not b.flapping
    assert record_transition(b, 100.0, config) is False
    assert record_transition(b, 110.0, config) is False
    assert record_transition(b, 130.0, config) is True  # fifth transition of b, counted across the round trip


def test_flapping_rejects_bad_settings_and_can_be_off() -> None:
    with pytest.raises(ValidationError, match="max_transitions"):
        FlappingConfig(max_transitions=0)
    member = _member()
    assert not any(_flap(member, FlappingConfig(enabled=False, max_transitions=1), 0.0, 10))
    assert member.transitions == []


# --- storm ----------------------------------------------------------------------------------------------


def _burst(guard: StormGuard, key: str, bucket_start: float, count: int) -> list[bool]:
    return [guard.observe_new_member(key, bucket_start + index * (59.0 / max(count, 1))).active
            for index in range(count)]


def test_storm_from_cold_start_needs_min_rate() -> None:
    guard = StormGuard(bucket_seconds=60, ratio=10, min_rate=100)
    actives = _burst(guard, "scope", 0.0, 150)
    assert actives[:100] == [False] * 100
    assert all(actives[100:])
    state = guard.state("scope", 59.0)
    assert (state.active, state.rate, state.baseline) == (True, 150.0, 0.0)


def test_storm_is_relative_to_the_baseline() -> None:
    guard = StormGuard(bucket_seconds=60, ratio=10, min_rate=25, baseline_half_life_seconds=600)
    for minute in range(60):  # steady 20 new members a minute for an hour
        assert not any(_burst(guard, "busy", minute * 60.0, 20))
    baseline = guard.state("busy", 3600.0).baseline
    assert baseline == pytest.approx(20.0 * (1 - 0.5**6))  # six half-lives of steady 20 per bucket
    actives = _burst(guard, "busy", 3600.0, 250)
    assert actives == [count > 10 * baseline for count in range(1, 251)]
    assert actives[-1]
    assert guard.state("other", 3600.0).active is False  # groups are independent


def test_baseline_decays_over_empty_buckets_and_late_members_count_now() -> None:
    guard = StormGuard(bucket_seconds=60, ratio=2, min_rate=1, baseline_half_life_seconds=60)
    _burst(guard, "g", 0.0, 100)
    assert guard.state("g", 60.0).baseline == pytest.approx(50.0)  # one half-life: half of 100
    assert guard.state("g", 180.0).baseline == pytest.approx(12.5)  # two empty buckets: two more halvings
    state = guard.observe_new_member("g", 180.0)
    late = guard.observe_new_member("g", 10.0)  # bucket 0 is closed: counts in the current bucket
    assert (state.rate, late.rate) == (1.0, 2.0)
    assert guard.expire(now=180.0) == 0
    assert guard.expire(now=60.0 * 40) == 1


def test_storm_snapshot_round_trips_and_memory_is_bounded() -> None:
    guard = StormGuard(max_groups=2)
    for key in ("a", "b", "c"):
        guard.observe_new_member(key, 0.0)
    assert len(guard) == 2
    assert guard.state("a", 0.0).rate == 0.0  # evicted
    restored = StormGuard(max_groups=2)
    restored.restore(json.loads(json.dumps(guard.snapshot())))
    assert restored.snapshot() == guard.snapshot()
    assert restored.observe_new_member("c", 1.0).rate == 2.0


def test_storm_config_builds() -> None:
    guard = StormConfig(min_rate=3).build()
    assert guard is not None
    assert guard.min_rate == 3
    assert StormConfig(enabled=False).build() is None
    with pytest.raises(ValueError, match="StormGuard"):
        StormGuard(bucket_seconds=0)
