"""Correlation applies signals in an order fixed by their content, live as in replay (`correlation.hold`).

Unit tests of `SignalHold` (release order whatever the arrival order, late signals, identical copies, the
checkpoint round trip), then the case that broke incident identity: two live detection workers, each owning
half the input partitions, racing their signals onto the signals partitions in random interleavings (and
the correlation state restored at random moments) give replay's incidents, version by version.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from support.chaos import scenario_lines
from support.two_detectors import TwoDetectors

from aiops.config import AiopsConfig
from aiops.correlation.hold import SignalHold
from aiops.incidents import Incident
from aiops.pipeline import Pipeline
from aiops.replay import decode_event, replay_lines
from aiops.runtime.correlation_store import PartitionScopes, restore
from aiops.scenario import SCENARIO_SERVICES
from aiops.signals import Signal

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def signal(seconds: float, fingerprint: str, status: str = "firing") -> Signal:
    at = T0 + timedelta(seconds=seconds)
    return Signal(origin="alert", fingerprint=fingerprint, name="a", service="api", status=status, ts=at,
                  started_at=at)


def held_in(order: list[Signal], release_at: float) -> list[str]:
    hold = SignalHold()
    for ident, item in enumerate(order):
        assert hold.hold(item, item.model_dump_json().encode(), ident)
    return [f"{h.signal.fingerprint}@{h.epoch - T0.timestamp():g}" for h in hold.release(T0.timestamp() + release_at)]


def test_release_order_is_event_time_then_content_whatever_the_arrival_order() -> None:
    signals = [signal(5, "b"), signal(3, "z"), signal(5, "a"), signal(9, "c")]
    expected = ["z@3", "a@5", "b@5"]  # 9 is not before the watermark 9: it waits
    for seed in range(5):
        shuffled = signals[:]
        random.Random(seed).shuffle(shuffled)
        assert held_in(shuffled, 9) == expected


def test_a_signal_behind_the_released_watermark_is_not_held_and_copies_leave_once() -> None:
    hold = SignalHold()
    copy = signal(4, "a")
    raw = copy.model_dump_json().encode()
    assert hold.hold(copy, raw, 1)
    assert hold.hold(copy, raw, 2)
    assert hold.hold(signal(4, "a", "resolved"), b"other", 3)
    assert [(h.ident, h.status) for h in hold.release(T0.timestamp() + 5)] == [(1, "firing"), (3, "resolved")]
    assert not hold.hold(signal(4.5, "late"), b"{}", 4)  # behind 5: applied at once by the caller
    assert len(hold) == 0


def test_held_signals_survive_a_checkpoint_and_restore_in_the_same_order() -> None:
    scopes = PartitionScopes(0)
    items = [signal(7, "x"), signal(2, "y"), signal(3, "w")]
    for offset, item in enumerate(items):
        scopes.hold.hold(item, item.model_dump_json().encode(), offset)
    scopes.advanced(T0.timestamp() + 2.5)
    assert [h.signal.fingerprint for h in scopes.hold.release(T0.timestamp() + 2.5)] == ["y"]
    records = [(key, value, n) for n, (key, value) in enumerate(scopes.checkpoint(3))]
    assert (b"h/1", None) not in [(k, v) for k, v, _ in records]  # held and released in one batch: not written
    restored = restore(0, records).scopes
    assert len(restored.hold) == 2
    assert restored.hold.released_to == T0.timestamp() + 2.5
    assert [h.signal.fingerprint for h in restored.hold.release(T0.timestamp() + 10)] == ["w", "x"]
    later = [(key, value, n) for n, (key, value) in enumerate(restored.checkpoint(3), len(records))]
    assert {key for key, value, _ in later if value is None} == {b"h/0", b"h/2"}  # tombstones once released
    assert len(restore(0, records + later).scopes.hold) == 0


def two_worker_config() -> AiopsConfig:
    return AiopsConfig.model_validate({"services": SCENARIO_SERVICES,
                                       "topics": {"events_partitions": 4, "signals_partitions": 2}})


def versions(incidents: list[dict[str, Any]]) -> dict[tuple[str, int], dict[str, Any]]:
    return {(incident["id"], incident["version"]): incident for incident in incidents}


@pytest.fixture(scope="module")
def reference() -> dict[tuple[str, int], dict[str, Any]]:
    items = replay_lines(scenario_lines(), two_worker_config(), datetime(2024, 1, 1, tzinfo=UTC))
    found = versions([item.incident.model_dump(mode="json") for item in items if item.incident is not None])
    assert len({incident_id for incident_id, _ in found}) >= 2
    return found


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "crashes"), [(1, 0), (2, 0), (3, 3)])
def test_two_live_detection_workers_racing_give_replays_incidents(
    reference: dict[tuple[str, int], dict[str, Any]], seed: int, crashes: int
) -> None:
    run = TwoDetectors(two_worker_config(), scenario_lines(), random.Random(seed))
    try:
        run.run(crashes=crashes)
    finally:
        run.close()
    seen = versions(run.incidents)
    assert sorted(seen) == sorted(reference)
    for key, incident in seen.items():
        assert incident == reference[key], key


class SkippingPipeline(Pipeline):
    """Replay's pipeline, but correlation sees only a random fifth of the watermarks (detection timers all
    fire): what a correlation worker sees when event time jumps (a worker catching up, a rebalance)."""

    def __init__(self, config: AiopsConfig, rng: random.Random) -> None:
        super().__init__(config)
        self.rng = rng

    def _fire(self, now: float, *, input_ended: bool = False) -> list[Incident]:
        out: list[Incident] = []
        for item in self.detection.advance(now, input_ended=input_ended):
            out.extend(self.correlation.receive(item))
        if self.rng.random() < 0.2:
            out.extend(self.correlation.advance(now))
        return out


def by_id(incidents: list[Incident]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for incident in incidents:
        grouped.setdefault(incident.id, []).append(incident.model_dump(mode="json"))
    return grouped


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incidents_do_not_depend_on_which_watermarks_correlation_saw(seed: int) -> None:
    """Correlation steps through the seconds at which something is due, so a jump of event time gives what
    every tick in between would have given: the same versions, with the same content."""
    config = two_worker_config()
    lines = [decode_event(line, 1 << 20) for line in scenario_lines()]
    full, coarse = Pipeline(config), SkippingPipeline(config, random.Random(seed))
    expected = [i for event in lines for i in full.process(event)] + full.finish()
    seen = [i for event in lines for i in coarse.process(event)] + coarse.finish()
    seen += coarse.correlation.advance(coarse.clock.watermark)
    assert len(expected) >= 10
    assert by_id(seen) == by_id(expected)
