"""FlapDetector and StormGuard: thresholds, calm-down, event-time only, bounded memory, snapshot/restore."""

from __future__ import annotations

import json

import pytest

from aiops.correlation.suppression.config import FlappingConfig, StormConfig
from aiops.correlation.suppression.flapping import FlapDetector
from aiops.correlation.suppression.storm import StormGuard

# --- flapping -------------------------------------------------------------------------------------------


def _flap(detector: FlapDetector, fingerprint: str, start: float, changes: int, step: float = 10.0) -> list[bool]:
    """Report firing, then `changes` alternating statuses `step` seconds apart."""
    results = [detector.record(fingerprint, "firing", start)]
    status = "firing"
    for index in range(1, changes + 1):
        status = "resolved" if status == "firing" else "firing"
        results.append(detector.record(fingerprint, status, start + index * step))
    return results


def test_flapping_starts_after_more_than_max_transitions_in_window() -> None:
    detector = FlapDetector(window_seconds=600, max_transitions=4, calm_seconds=900)
    assert _flap(detector, "a", 0.0, 5) == [False, False, False, False, False, True]
    assert detector.is_flapping("a")


def test_repeated_same_status_is_not_a_transition() -> None:
    detector = FlapDetector(max_transitions=2)
    assert not any(detector.record("a", "firing", float(t)) for t in range(100))


def test_transitions_outside_window_do_not_count() -> None:
    detector = FlapDetector(window_seconds=100, max_transitions=4, calm_seconds=900)
    assert not any(_flap(detector, "a", 0.0, 20, step=30.0))  # at most 4 changes per 100 s


def test_flapping_stops_after_calm_and_stays_while_changing() -> None:
    detector = FlapDetector(window_seconds=600, max_transitions=4, calm_seconds=900)
    _flap(detector, "a", 0.0, 5)  # last change at 50 ("resolved")
    assert detector.record("a", "firing", 500.0)  # still changing: flapping
    assert detector.record("a", "firing", 1399.0)  # 899 s calm
    assert detector.is_flapping("a", at=1399.0)
    assert not detector.is_flapping("a", at=1400.0)
    assert not detector.record("a", "firing", 1400.0)  # 900 s without change
    assert not detector.record("a", "resolved", 1410.0)  # history cleared: one change is not flapping


def test_late_report_never_moves_the_clock_back() -> None:
    detector = FlapDetector(window_seconds=600, max_transitions=2, calm_seconds=900)
    detector.record("a", "firing", 1000.0)
    detector.record("a", "resolved", 1010.0)
    detector.record("a", "firing", 1020.0)
    assert detector.record("a", "resolved", 990.0)  # late, but within the window: third transition
    assert detector.is_flapping("a", at=1500.0)


def test_flapping_memory_is_bounded_and_expires() -> None:
    detector = FlapDetector(max_tracked=3, window_seconds=60, calm_seconds=120)
    for index in range(10):
        detector.record(f"m{index}", "firing", float(index))
    assert len(detector) == 3
    _flap(detector, "busy", 0.0, 50, step=1.0)
    assert all(len(m.transitions) <= detector.max_transitions + 1 for m in detector._members.values())
    assert sorted(detector.snapshot()["members"]) == ["busy", "m8", "m9"]  # least recently reported evicted
    assert detector.expire(now=170.0) == 2  # m8, m9 idle > max(window, calm) = 120 s; busy seen at 50
    assert len(detector) == 1
    assert detector.expire(now=170.5) == 1
    assert len(detector) == 0


def test_flap_snapshot_round_trips_through_json() -> None:
    detector = FlapDetector(window_seconds=600, max_transitions=4, calm_seconds=900)
    _flap(detector, "a", 0.0, 5)
    _flap(detector, "b", 0.0, 2)
    restored = FlapDetector(window_seconds=600, max_transitions=4, calm_seconds=900)
    restored.restore(json.loads(json.dumps(detector.snapshot())))
    assert restored.snapshot() == detector.snapshot()
    assert restored.is_flapping("a")
    assert not restored.is_flapping("b")
    assert restored.record("b", "firing", 100.0) is False
    assert restored.record("b", "resolved", 110.0) is False
    assert restored.record("b", "firing", 120.0) is False
    assert restored.record("b", "resolved", 130.0) is True  # fifth transition of b, counted across restore


def test_flap_detector_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="FlapDetector"):
        FlapDetector(max_transitions=0)
    detector = FlappingConfig(max_transitions=2).build()
    assert detector is not None
    assert detector.max_transitions == 2
    assert FlappingConfig(enabled=False).build() is None


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
