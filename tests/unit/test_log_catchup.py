"""A log shard taken over behind event time (`runtime.log_catchup`) gives the signals of an uninterrupted run.

Worker A mines one partition's log lines and snapshots its shard halfway; worker B, whose own partition
already took event time far ahead, imports that snapshot and re-reads the rest in two fetches, with its own
partition moving event time on in between. Without the catch-up, that tick closes the shard's windows at B's
event time and every line of the second fetch lands in one window (a fake rate spike, issue 18's rebalance
runs); with it, B's signals for that service are the uninterrupted run's.
"""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka import TopicPartition
from support.builders import at, log_event

from aiops.detectors.config import DetectionConfig
from aiops.detectors.stage import DetectionStage
from aiops.events import LogEvent
from aiops.eventtime import EventClock
from aiops.runtime.log_catchup import LogCatchUp
from aiops.signals import Signal

LATENESS = 30.0
TAKEN_OVER = TopicPartition("events", 0)
OWN = TopicPartition("events", 1)


def lines(start: float, end: float, service: str) -> list[LogEvent]:
    """A steady stream: an info line every 5 s, and an error burst of 40 lines in [1500, 1560)."""
    out = [log_event(float(t), service=service, level="info", message=f"request {t} served in 12 ms")
           for t in range(int(start), int(end), 5)]
    out += [log_event(1500.0 + t * 1.5, service=service, message=f"payment {t} failed: upstream timeout")
            for t in range(40) if start <= 1500.0 + t * 1.5 < end]
    return sorted(out, key=lambda event: event.epoch)


def run(stage: DetectionStage, clock: EventClock, events: Iterable[tuple[int, LogEvent]],
        catchup: LogCatchUp | None = None) -> list[Signal]:
    """Process `(shard, line)` pairs as the worker does: the record, its catch-up, then the stage's tick."""
    signals: list[Signal] = []
    for shard, event in events:
        signals += stage.process(event, shard)
        if catchup is not None:
            signals += catchup.observed(TopicPartition("events", shard), event.epoch)
        if (tick := clock.observe(event.epoch)) is not None:
            if catchup is not None:
                signals += catchup.finish_drained(lambda tp: False)
            signals += stage.advance(tick)
    return signals


def after_takeover(service: str, signals: list[Signal]) -> list[tuple[str, str, float, str]]:
    """`service`'s signals later than the snapshot (offset 1200), comparable across runs."""
    base = at(0).timestamp()
    return sorted((s.name, s.status, s.ts.timestamp() - base, s.summary) for s in signals
                  if s.service == service and s.ts.timestamp() - base > 1200.0)


def uninterrupted() -> list[Signal]:
    stage, clock = DetectionStage(DetectionConfig()), EventClock(LATENESS)
    return run(stage, clock, [(0, event) for event in lines(0, 3000, "payments")])


def taken_over(catch_up: bool) -> list[Signal]:
    """A runs payments to t=1200 and snapshots; B ran its own service to t=2400, then takes payments over."""
    first, first_clock = DetectionStage(DetectionConfig()), EventClock(LATENESS)
    run(first, first_clock, [(0, event) for event in lines(0, 1200, "payments")])
    snapshot = first.export_logs(0)
    assert snapshot is not None

    second, clock = DetectionStage(DetectionConfig()), EventClock(LATENESS)
    run(second, clock, [(1, event) for event in lines(0, 2400, "frontend")])
    second.import_logs(0, snapshot)
    catchup = LogCatchUp(second, LATENESS, lambda tp: tp.partition)
    if catch_up:
        catchup.begin([TAKEN_OVER])
    # The re-read comes in two fetches, and B's own partition moves event time on in between.
    rest = [(0, e) for e in lines(1200, 1800, "payments")] + [(1, e) for e in lines(2400, 2420, "frontend")]
    rest += sorted([(0, e) for e in lines(1800, 3000, "payments")] + [(1, e) for e in lines(2420, 3000, "frontend")],
                   key=lambda pair: pair[1].epoch)
    return run(second, clock, rest, catchup)


def test_a_taken_over_shard_catches_up_to_the_uninterrupted_runs_signals() -> None:
    reference = after_takeover("payments", uninterrupted())
    assert any(name == "log_error_burst" for name, *_ in reference)  # the scenario has something to find
    assert after_takeover("payments", taken_over(catch_up=True)) == reference


def test_without_the_catch_up_the_re_read_lines_fake_a_spike() -> None:
    reference = after_takeover("payments", uninterrupted())
    assert after_takeover("payments", taken_over(catch_up=False)) != reference


def test_a_shard_is_released_once_its_own_clock_reaches_event_time_and_forgotten_when_revoked() -> None:
    stage, clock = DetectionStage(DetectionConfig()), EventClock(LATENESS)
    catchup = LogCatchUp(stage, LATENESS, lambda tp: tp.partition)
    catchup.begin([TAKEN_OVER])
    assert catchup.catching_up() == []  # no event time yet: a starting worker restores as replay starts
    run(stage, clock, [(1, event) for event in lines(0, 600, "frontend")])
    catchup.begin([TAKEN_OVER, OWN])
    assert catchup.catching_up() == [TAKEN_OVER, OWN]
    catchup.forget([OWN])
    assert catchup.catching_up() == [TAKEN_OVER]
    stage.process(log_event(400.0, service="payments", level="info"), 0)
    catchup.observed(TAKEN_OVER, 400.0)
    assert catchup.catching_up() == [TAKEN_OVER]
    catchup.observed(TAKEN_OVER, stage.now + LATENESS)  # its own watermark reaches the stage's
    assert catchup.catching_up() == []
