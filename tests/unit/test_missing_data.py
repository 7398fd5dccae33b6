"""Missing data: a series that stops reporting is reported once overdue, refreshed, and resolved when it
reports again; an input that pauses or jumps in event time, a young series, an irregular one's usual
gaps, forgotten series and the end of a replay are not "missing"; the watch's state survives a snapshot."""

from __future__ import annotations

import json

from support.builders import T0, metric_event

from aiops.config import DetectionConfig
from aiops.detectors.config import MetricDetectorConfig, MissingDataConfig
from aiops.detectors.episodes.missing_data import SilenceWatch
from aiops.detectors.stage import DetectionStage
from aiops.signals import Signal

STEP = 10.0


def _stage(**missing: float) -> DetectionStage:
    config = DetectionConfig(metric=MetricDetectorConfig(missing_data=MissingDataConfig(enabled=True, **missing)))
    return DetectionStage(config)


def _feed(
    stage: DetectionStage, start: float, stop: float, names: tuple[str, ...], lateness: float = 5.0
) -> list[Signal]:
    """Every series in `names` every STEP s over [start, stop), advancing the watermark as a worker would."""
    signals: list[Signal] = []
    offset = start
    while offset < stop:
        for name in names:
            signals += stage.process(metric_event(offset, 100.0, name=name))
        signals += stage.advance(T0 + offset - lateness)
        offset += STEP
    return signals


def _missing(signals: list[Signal]) -> list[Signal]:
    return [signal for signal in signals if signal.evidence is not None and signal.evidence.detector == "missing_data"]


def test_a_series_that_stops_is_reported_refreshed_and_resolved_when_it_reports_again() -> None:
    stage = _stage()
    assert _missing(_feed(stage, 0, 600, ("cpu", "mem"))) == []
    during = _missing(_feed(stage, 600, 900, ("mem",)))  # cpu stops after 590 s
    firing = [signal for signal in during if signal.status == "firing"]
    assert len(firing) >= 2  # reported, then refreshed every refresh_seconds (60)
    first = firing[0]
    assert first.name == "cpu"
    assert {signal.fingerprint for signal in firing} == {first.fingerprint}
    evidence = first.evidence
    assert evidence is not None
    assert evidence.details["usual_gap_seconds"] == STEP
    assert evidence.observed is None
    assert evidence.expected is None
    assert evidence.onset == first.started_at
    assert first.started_at.timestamp() == T0 + 590 + 60  # last sample + max(5 x 10 s, 60 s)
    assert first.ts.timestamp() - (T0 + 650) <= 2 * STEP  # found within about the input's lateness
    assert "no data for" in first.summary
    back = _missing(_feed(stage, 900, 920, ("cpu", "mem")))
    assert [signal.status for signal in back] == ["resolved"]
    assert back[0].fingerprint == first.fingerprint
    assert back[0].evidence is not None
    assert back[0].evidence.details["silent_seconds"] == 900 - 590
    assert _missing(_feed(stage, 920, 1200, ("cpu", "mem"))) == []


def test_an_input_that_pauses_or_jumps_in_event_time_is_not_missing_data() -> None:
    stage = _stage()
    _feed(stage, 0, 600, ("cpu", "mem", "disk"))
    assert _missing(stage.advance(T0 + 5_000)) == []  # nothing arrives, the watermark moves on (wall time)
    assert _missing(_feed(stage, 86_400, 87_000, ("cpu", "mem", "disk"))) == []  # all resume a day later
    assert _missing(stage.advance(T0 + 87_000, input_ended=True)) == []  # end of a replay: nothing missing


def test_young_series_and_an_irregular_series_usual_gaps_are_not_missing_data() -> None:
    stage = _stage()
    signals = _feed(stage, 0, 50, ("young",))  # 5 samples, then gone: cadence never trusted (min_points 10)
    irregular = 0.0
    while irregular < 3_000:  # gaps of 10 s with a 200 s pause every 10th sample
        signals += stage.process(metric_event(irregular, 1.0, name="batch"))
        signals += stage.process(metric_event(irregular, 1.0, name="steady"))
        signals += stage.advance(T0 + irregular - 5.0)
        irregular += 200.0 if int(irregular) % 500 == 0 else STEP
    assert _missing(signals) == []


def test_forgotten_series_are_not_watched_and_the_watch_survives_a_snapshot() -> None:
    stage = _stage()
    _feed(stage, 0, 600, ("cpu", "mem", "disk"))
    key_of = {name: f"svc|h1|{name}" for name in ("cpu", "mem", "disk")}
    stage.metrics.forget([key_of["disk"]])
    state = json.loads(json.dumps(stage.metrics.export_series(key_of["cpu"])))
    assert state["cadence"]["gap"] == STEP
    restarted = _stage()
    assert restarted.metrics.import_series(key_of["cpu"], state)
    restarted.process(metric_event(600, 1.0, name="mem"))
    signals = _missing(_feed(restarted, 610, 900, ("mem",)))
    assert {signal.name for signal in signals} == {"cpu"}  # disk was forgotten, mem kept reporting


def test_silence_watch_scales_with_overdue_series_not_live_ones() -> None:
    watch = SilenceWatch(min_points=2)
    for index in range(10_000):
        watch.observe(f"s{index}", T0)
        watch.observe(f"s{index}", T0 + STEP)
    assert watch.advance(T0 + 30.0, T0 + 30.0) == []
    assert len(watch._heap) == 10_000  # one entry per series, none re-queued early
    watch.observe("s0", T0 + 20.0)
    assert len(watch._heap) == 10_000  # a new sample does not queue a second entry
    assert watch.advance(T0 + 200.0, T0 + 205.0) == []  # suspected: confirmed once the watermark passes 205
    found = watch.advance(T0 + 400.0, T0 + 405.0)
    assert len(found) == 10_000
    assert all(silence.new for silence in found)


def test_disabled_by_default() -> None:
    stage = DetectionStage(DetectionConfig())
    assert stage.metrics.silence is None
    _feed(stage, 0, 600, ("cpu", "mem"))
    assert _missing(_feed(stage, 600, 900, ("mem",))) == []


def test_a_series_that_stays_silent_after_an_input_pause_is_still_reported() -> None:
    stage = _stage()
    _feed(stage, 0, 600, ("cpu", "mem"))
    assert _missing(stage.advance(T0 + 5_000)) == []  # the input pauses; the watermark moves on wall time
    signals = _missing(_feed(stage, 5_000, 5_600, ("mem",)))  # only mem comes back
    assert {signal.name for signal in signals if signal.status == "firing"} == {"cpu"}


def test_a_resolved_silence_reports_the_usual_gap_not_the_silence() -> None:
    stage = _stage()
    _feed(stage, 0, 600, ("cpu", "mem"))
    _feed(stage, 600, 900, ("mem",))
    back = _missing(_feed(stage, 900, 920, ("cpu", "mem")))
    assert [signal.status for signal in back] == ["resolved"]
    assert back[0].evidence is not None
    assert back[0].evidence.details["usual_gap_seconds"] == STEP
    assert "usually every 10s" in back[0].summary


def test_a_series_forgotten_and_seen_again_or_imported_while_live_keeps_one_heap_entry() -> None:
    watch = SilenceWatch(min_points=2)
    for round_ in range(50):  # churn: the series is evicted and comes back, many times
        start = T0 + round_ * 1_000.0
        watch.observe("s", start)
        watch.observe("s", start + STEP)
        watch.advance(start + 15.0, start + 15.0)
        watch.forget("s")
    watch.observe("s", T0 + 60_000.0)
    watch.observe("s", T0 + 60_000.0 + STEP)
    state = watch.export("s")
    assert state is not None
    watch.restore("s", state)  # imported again while live (a rebalance back to this worker)
    watch.restore("s", state)
    assert watch.advance(T0 + 60_015.0, T0 + 60_015.0) == []
    assert len(watch._heap) <= 3  # those of the live key's last three records, none of the 50 forgotten ones
    assert [silence.key for silence in watch.advance(T0 + 60_200.0, T0 + 60_300.0)] == []  # suspected
    assert len(watch._heap) == 1  # stale entries are dropped when popped, not adopted and re-queued
    assert [silence.key for silence in watch.advance(T0 + 60_400.0, T0 + 60_400.0)] == ["s"]  # reported once
    assert len(watch._heap) == 1


def test_a_series_that_stops_after_its_usual_gap_shrank_again_is_reported_in_time() -> None:
    stage = _stage()
    _feed(stage, 0, 600, ("cpu", "mem"))
    _feed(stage, 20_000, 34_400, ("cpu", "mem"))  # both resume after a jump: a huge gap, decaying over 4 h
    cadence = stage.metrics.silence.cadence("svc|h1|cpu") if stage.metrics.silence is not None else None
    assert cadence is not None
    assert cadence.gap < 2 * STEP
    signals = _missing(_feed(stage, 34_400, 34_700, ("mem",)))  # cpu stops
    assert {signal.name for signal in signals if signal.status == "firing"} == {"cpu"}
