"""Event time in the live worker is replay's: the clock's ticks, the event-time order over input partitions,
the idle rule and the processing-time fallback, and the resulting incidents compared with `aiops replay`.

The last group runs the real `DetectionWorker` (no broker: `support.simulated_service`) over the built-in
scenario delivered in bulk, skewed across partitions, with pauses, record by record and cut short, and
requires every incident version to equal replay's, field by field.
"""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime
from typing import Any

import pytest
from support.simulated_service import SimulatedService

from aiops.config import AiopsConfig
from aiops.eventtime import EventClock
from aiops.incidents import Incident
from aiops.replay import replay_lines
from aiops.runtime.watermarks import InputAlignment
from aiops.scenario import SCENARIO_SERVICES, scenario_events

# --- EventClock ---------------------------------------------------------------------------------------------


def test_the_clock_advances_after_an_event_that_moved_the_watermark_by_a_tick() -> None:
    clock = EventClock(lateness=30.0)
    assert clock.observe(100.0) == 70.0
    assert clock.observe(100.5) is None  # moved less than a tick: no advance
    assert clock.observe(90.0) is None  # an older event never moves it
    assert clock.observe(101.0) == 71.0
    assert clock.watermark == 71.0
    assert not clock.advance_to(60.0)  # never backwards
    assert clock.advance_to(80.0)
    assert clock.observe(105.0) is None  # 75 is behind the explicit advance


def test_idle_ticks_are_whole_seconds_from_the_newest_event_less_lateness_each_returned_once() -> None:
    clock = EventClock(lateness=30.0)
    assert clock.idle_ticks(5.0) == []  # nothing seen yet
    clock.observe(100.25)
    clock.observe(100.75)  # watermark stays 70.25: moved less than a tick
    assert clock.idle_ticks(2.5) == [70.75, 71.75, 72.75]
    assert clock.idle_ticks(2.9) == []
    assert clock.idle_ticks(4.0) == [73.75, 74.75]
    assert clock.watermark == 74.75
    clock.observe(120.0)  # the input resumed: ticks start again from the new newest event
    assert clock.watermark == 90.0
    assert clock.idle_ticks(1.0) == [91.0]


# --- InputAlignment -----------------------------------------------------------------------------------------


def released(alignment: InputAlignment[str, str], wall: float, backlog: Any = None) -> list[str]:
    return [item for _, _, item in (alignment.release(wall, backlog) if backlog else alignment.release(wall))]


def test_records_leave_in_event_time_order_across_partitions() -> None:
    alignment: InputAlignment[str, str] = InputAlignment(idle_seconds=10.0)
    alignment.assigned(["a", "b"], wall=0.0)
    alignment.add("a", [(10.0, "a10"), (30.0, "a30"), (50.0, "a50")], wall=1.0)
    alignment.add("b", [(20.0, "b20"), (30.0, "b30")], wall=1.0)
    assert released(alignment, 1.0) == ["a10", "b20", "a30", "b30"]  # b may still deliver something before 50
    alignment.add("b", [(60.0, "b60")], wall=2.0)
    assert released(alignment, 2.0) == ["a50"]


def test_a_partition_that_never_delivered_holds_the_others_back_until_it_is_idle() -> None:
    alignment: InputAlignment[str, str] = InputAlignment(idle_seconds=10.0)
    alignment.assigned(["a", "b"], wall=0.0)
    alignment.add("a", [(10.0, "a10")], wall=1.0)
    assert released(alignment, 9.9) == []
    assert released(alignment, 10.0) == ["a10"]


def test_after_the_whole_input_was_idle_every_partition_gets_a_fresh_grace_period() -> None:
    alignment: InputAlignment[str, str] = InputAlignment(idle_seconds=10.0)
    alignment.assigned(["a", "b"], wall=0.0)
    assert alignment.is_idle(50.0)
    alignment.add("a", [(10.0, "a10")], wall=50.0)  # the input resumes: b may be just behind
    assert released(alignment, 59.0) == []
    alignment.add("b", [(5.0, "b5")], wall=59.5)
    assert released(alignment, 59.5) == ["b5"]  # and b may still deliver something before 10
    assert released(alignment, 69.5) == ["a10"]


def test_records_held_for_another_partitions_grace_say_when_the_grace_ends() -> None:
    alignment: InputAlignment[str, str] = InputAlignment(idle_seconds=10.0)
    alignment.assigned(["a", "b", "c"], wall=0.0)
    assert alignment.grace_ends(1.0) is None  # nothing queued: nothing held
    alignment.add("a", [(10.0, "a10")], wall=1.0)
    alignment.add("b", [(5.0, "b5")], wall=3.0)
    assert released(alignment, 3.0) == []  # c never delivered: everything waits for its grace
    assert alignment.grace_ends(3.0) == 10.0  # c's grace, from its assignment
    assert alignment.grace_ends(3.0, backlog=lambda partition: partition == "c") is None  # the fetch decides
    assert released(alignment, 10.0) == ["b5"]  # b, emptied, may still deliver something before 10
    assert alignment.grace_ends(10.0) == 13.0  # b delivered last at 3
    assert released(alignment, 13.0) == ["a10"]
    assert alignment.grace_ends(13.0) is None


def test_a_partition_with_a_known_backlog_is_never_idle() -> None:
    alignment: InputAlignment[str, str] = InputAlignment(idle_seconds=10.0)
    alignment.assigned(["a", "b"], wall=0.0)
    alignment.add("a", [(10.0, "a10")], wall=1.0)
    assert released(alignment, 100.0, backlog=lambda partition: partition == "b") == []  # b's fetch is stalled
    assert alignment.idle_for(100.0, backlog=lambda partition: partition == "b") is None
    assert released(alignment, 100.0) == ["a10"]


def test_undecodable_records_leave_at_once_and_forgotten_partitions_stop_counting() -> None:
    alignment: InputAlignment[str, str] = InputAlignment(idle_seconds=10.0)
    alignment.assigned(["a", "b"], wall=0.0)
    alignment.add("a", [(None, "bad"), (10.0, "a10")], wall=1.0)
    assert released(alignment, 1.0) == ["bad"]
    alignment.forget(["b"])
    assert released(alignment, 1.0) == ["a10"]
    assert alignment.queued("a") == 0


def test_re_sends_stamped_in_the_past_do_not_keep_a_partition_busy() -> None:
    """Prometheus repeats a resolved alert with its old `endsAt` every resend interval: those records are
    released, but only a record newer than everything the partition delivered counts as activity, so the
    input goes idle and event time moves on (else a lateness-0 hold would never release the resolve)."""
    alignment: InputAlignment[str, str] = InputAlignment(idle_seconds=10.0)
    alignment.assigned(["a", "b"], wall=0.0)
    alignment.add("a", [(100.0, "firing")], wall=1.0)
    alignment.add("b", [(101.0, "b101")], wall=1.0)
    assert released(alignment, 1.0) == ["firing"]  # a may still deliver something before 101
    for wall in (4.0, 8.0):
        alignment.add("a", [(95.0, f"resolved@{wall:g}")], wall=wall)
        assert released(alignment, wall) == [f"resolved@{wall:g}"]
    alignment.add("a", [(95.0, "resolved@12")], wall=12.0)
    assert released(alignment, 12.0) == ["resolved@12", "b101"]  # a idle: nothing new from it for 10 s
    assert alignment.idle_for(12.0) == pytest.approx(1.0)  # idle since wall 1.0, re-sends notwithstanding
    alignment.add("a", [(130.0, "a130")], wall=13.0)  # a newer record: the input resumes
    assert alignment.idle_for(13.0) is None
    assert released(alignment, 13.0) == []  # b gets a fresh grace period: it may deliver something before 130
    assert released(alignment, 23.0) == ["a130"]


def test_idle_for_counts_wall_time_beyond_the_idle_period_of_the_last_partition_to_deliver() -> None:
    alignment: InputAlignment[str, str] = InputAlignment(idle_seconds=10.0)
    assert alignment.idle_for(100.0) is None  # owns nothing: no fallback
    alignment.assigned(["a", "b"], wall=0.0)
    alignment.add("a", [(10.0, "a10")], wall=5.0)
    assert alignment.idle_for(12.0) is None  # a record is still queued
    assert released(alignment, 12.0) == ["a10"]
    assert alignment.idle_for(14.0) is None  # a delivered 9 s ago
    assert alignment.idle_for(17.5) == pytest.approx(2.5)


# --- live worker vs replay ----------------------------------------------------------------------------------

START = 1_760_000_000.0


def scenario_lines() -> list[bytes]:
    return [json.dumps(event).encode() for event in scenario_events(START, random.Random(7))]


def config(events_partitions: int, **ingest: Any) -> AiopsConfig:
    """The shipped detectors (the ensemble), the scenario's catalogue, `events_partitions` input partitions."""
    return AiopsConfig.model_validate({"services": SCENARIO_SERVICES, "ingest": ingest,
                                       "topics": {"events_partitions": events_partitions, "signals_partitions": 2}})


def by_incident(incidents: list[Incident]) -> dict[str, list[dict[str, Any]]]:
    """Every version of every incident, per id in emission order (different incidents' versions may interleave
    differently: their scopes may live on different signals partitions)."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for incident in incidents:
        grouped.setdefault(incident.id, []).append(incident.model_dump(mode="json"))
    return grouped


def replayed(lines: list[bytes], cfg: AiopsConfig) -> dict[str, list[dict[str, Any]]]:
    items = replay_lines(lines, cfg, datetime(2024, 1, 1, tzinfo=UTC))
    return by_incident([item.incident for item in items if item.incident is not None])


@pytest.fixture(scope="module")
def lines() -> list[bytes]:
    return scenario_lines()


@pytest.fixture(scope="module")
def replay(lines: list[bytes]) -> dict[str, list[dict[str, Any]]]:
    incidents = replayed(lines, config(1))
    assert len(incidents) == 2
    assert all(versions[-1]["status"] == "resolved" for versions in incidents.values())
    return incidents


def deliver_in_random_batches(service: SimulatedService, rng: random.Random, largest: int = 700,
                              wall_step: float = 0.05, leave: int = 0) -> None:
    """Fetches of random sizes from random partitions, a few tens of milliseconds apart, until all but
    `leave` records are read."""
    while sum(service.remaining(tp) for tp in service.inputs) > leave:
        counts = {tp: rng.randint(1, largest) if rng.random() < 0.6 else 0 for tp in service.inputs}
        service.deliver(counts, rng.random() * wall_step)


@pytest.mark.parametrize(("partitions", "seed"), [(1, 1), (2, 2), (4, 3)])
def test_a_bulk_drained_backlog_gives_replays_incidents(
    lines: list[bytes], replay: dict[str, list[dict[str, Any]]], partitions: int, seed: int
) -> None:
    with SimulatedService(config(partitions), lines) as service:
        deliver_in_random_batches(service, random.Random(seed))
        service.idle_until_quiet()
    assert by_incident(service.incidents) == replay


def test_partitions_at_different_event_times_with_a_short_pause_give_replays_incidents(
    lines: list[bytes], replay: dict[str, list[dict[str, Any]]]
) -> None:
    """One partition read to the end first (hours ahead of the other, so it is paused on the way), a pause
    shorter than `idle_partition_seconds`, then the other."""
    with SimulatedService(config(2, batch_max_records=500), lines) as service:
        ahead = service.inputs[0]
        while service.remaining(ahead) and ahead not in service.consumer.paused_partitions:
            service.deliver({ahead: 500}, 0.01)
        assert ahead in service.consumer.paused_partitions
        for _ in range(4):
            service.wait(1.0)
        deliver_in_random_batches(service, random.Random(4))
        service.idle_until_quiet()
    assert by_incident(service.incidents) == replay


def test_a_fetch_stall_longer_than_the_idle_period_does_not_count_as_idle_with_a_known_backlog(
    lines: list[bytes], replay: dict[str, list[dict[str, Any]]]
) -> None:
    with SimulatedService(config(4), lines) as service:
        service.backlog_is_known()
        rng = random.Random(5)
        for _ in range(8):
            service.deliver({tp: rng.randint(1, 700) for tp in service.inputs}, 0.05)
        for _ in range(30):  # nothing fetched for 30 s although the broker holds more
            service.wait(1.0)
        deliver_in_random_batches(service, rng)
        service.idle_until_quiet()
    assert by_incident(service.incidents) == replay


def test_a_backlog_then_records_arriving_one_by_one_give_replays_incidents(
    lines: list[bytes], replay: dict[str, list[dict[str, Any]]]
) -> None:
    """The warm-up in bulk, then the failure and the recovery paced, a record or two per fetch."""
    with SimulatedService(config(4), lines) as service:
        rng = random.Random(6)
        deliver_in_random_batches(service, rng, leave=2_500)
        deliver_in_random_batches(service, rng, largest=1, wall_step=0.002)
        service.idle_until_quiet()
    assert by_incident(service.incidents) == replay


def test_incidents_open_when_the_input_stops_resolve_as_at_the_end_of_a_replay(lines: list[bytes]) -> None:
    """Cut during the recovery: the fallback's whole-second ticks once the input is idle are replay's end of
    file, so resolve times (and the versions before them) agree too."""
    cut = lines[:11_400]
    expected = replayed(cut, config(1))
    resolved = [v[-1]["resolved_at"] for v in expected.values()]
    assert len(set(resolved)) == len(resolved)  # each incident its own resolve time
    last_event = max(json.loads(line)["ts"] for line in cut)
    assert max(datetime.fromisoformat(at).timestamp() for at in resolved) > last_event  # resolved after the input
    with SimulatedService(config(2), cut) as service:
        deliver_in_random_batches(service, random.Random(7))
        service.idle_until_quiet()
    assert by_incident(service.incidents) == expected
    assert math.isfinite(service.worker.clock.watermark)


def test_poison_messages_in_a_bulk_backlog_change_no_incident(
    lines: list[bytes], replay: dict[str, list[dict[str, Any]]]
) -> None:
    """Undecodable, wrongly typed and incomplete records spread through the backlog are dead-lettered; the
    incidents are still those of the clean file's replay."""
    poison = [b"{not json", b'{"kind": "metric"}', b'{"kind": "metric", "ts": "x", "service": "a", "name": "m",'
              b' "value": 1}', b"\xff\xfe", b"[]"]  # fmt: skip
    poisoned = list(lines)
    for at, record in zip(range(len(lines) - 1, 0, -len(lines) // 7), poison * 2, strict=False):
        poisoned.insert(at, record)
    assert replayed(poisoned, config(1)) == replay
    with SimulatedService(config(4), poisoned) as service:
        deliver_in_random_batches(service, random.Random(5))
        service.idle_until_quiet()
    assert by_incident(service.incidents) == replay
    assert service.deadlettered == len(poisoned) - len(lines)
