"""Recovery is not an anomaly: a series or a log template coming back to normal never opens or joins an
episode, for every detector (EWMA and ensemble through the episode tracker, missing data, multivariate,
log anomalies). Where the old behaviour did flag the return, the same run without the rule shows it."""

from __future__ import annotations

import random
from typing import Any

from support.builders import log_event, metric_event

from aiops.detectors.config import DetectionConfig
from aiops.detectors.episodes.recovery import NormalLevel
from aiops.detectors.logs.anomaly import LogAnomalyDetector
from aiops.detectors.multivariate.detector import MultivariateDetector
from aiops.detectors.stage import DetectionStage
from aiops.signals import Signal

STEP = 10.0


def stage(**metric: Any) -> DetectionStage:
    return DetectionStage(DetectionConfig.model_validate({"metric": metric}))


def stream(detection: DetectionStage, values: list[float], start: int = 0) -> list[Signal]:
    signals: list[Signal] = []
    for index, value in enumerate(values, start=start):
        signals += detection.process(metric_event(index * STEP, value))
    return signals


def firing_onsets(signals: list[Signal]) -> list[float]:
    """Onset (seconds) of every distinct episode that fired."""
    return sorted({s.started_at.timestamp() - metric_event(0.0, 0.0).epoch for s in signals
                   if s.status == "firing" and s.origin == "metric_anomaly"})


def noise(count: int, level: float, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [level + rng.gauss(0.0, 1.0) for _ in range(count)]


def shift_and_return(seed: int, before: int = 600, during: int = 300, after: int = 100) -> list[float]:
    """Level 100, an outage-like shift to 130 long enough for a detector to adapt, then back to 100."""
    return noise(before, 100.0, seed) + noise(during, 130.0, seed + 1) + noise(after, 100.0, seed + 2)


def test_ewma_a_return_to_the_level_before_a_long_shift_opens_no_episode() -> None:
    values = shift_and_return(1)
    signals = stream(stage(detector="ewma"), values)
    assert firing_onsets(signals) == [600 * STEP]  # the shift only
    assert any(s.status == "resolved" for s in signals)
    without = stream(stage(detector="ewma", recovery_seconds=None), values)
    assert any(onset >= 900 * STEP for onset in firing_onsets(without)), "the old rule paged on the return"


def test_ensemble_a_return_to_the_level_before_a_long_shift_opens_no_episode() -> None:
    for seed in (1, 2, 4):
        onsets = firing_onsets(stream(stage(detector="ensemble"), shift_and_return(seed)))
        assert onsets, "the shift is found"
        assert all(600 * STEP <= onset < 900 * STEP for onset in onsets), (seed, onsets)


def test_ensemble_a_one_point_spike_is_not_confirmed_by_the_point_after_it() -> None:
    """The fast level follows the spike, so the next, normal point looks "below baseline": that rebound
    must not count as the spike's second anomalous point (`min_anomalous_points: 2`)."""
    confirmed, confirmed_without = 0, 0
    for seed in range(1, 9):
        values = noise(800, 100.0, seed)
        values[700] = 140.0
        confirmed += 700 * STEP in firing_onsets(stream(stage(detector="ensemble"), values))
        without = stream(stage(detector="ensemble", recovery_seconds=None), values)
        confirmed_without += 700 * STEP in firing_onsets(without)
    assert confirmed == 0
    assert confirmed_without == 8


def test_a_series_that_reports_again_after_a_silence_opens_no_metric_episode() -> None:
    detection = stage(detector="ensemble", missing_data={"enabled": True})
    cpu, mem = noise(1000, 100.0, 4), noise(1000, 50.0, 5)
    base = metric_event(0.0, 0.0).epoch
    signals: list[Signal] = []
    for index in range(1000):
        silent = 600 <= index < 700  # cpu stops reporting for 1,000 s, then comes back at its usual level
        if not silent:
            signals += detection.process(metric_event(index * STEP, cpu[index], name="cpu"))
        signals += detection.process(metric_event(index * STEP, mem[index], name="mem"))
        signals += detection.advance(base + index * STEP - 5.0)
    missing = [s for s in signals if s.evidence is not None and s.evidence.detector == "missing_data"]
    assert {s.status for s in missing} == {"firing", "resolved"}
    assert missing[-1].status == "resolved"
    assert missing[-1].ts.timestamp() == base + 700 * STEP
    assert [onset for onset in firing_onsets([s for s in signals if s not in missing]) if onset >= 600 * STEP] == []


def test_normal_level_survives_a_snapshot() -> None:
    detection = stage(detector="ewma")
    stream(detection, shift_and_return(5, during=100, after=0))
    key = detection.metrics.last_key
    state = detection.metrics.export_series(key)
    assert state is not None
    restored = stage(detector="ewma")
    assert restored.metrics.import_series(key, state)
    onsets = firing_onsets(stream(restored, noise(50, 100.0, 9), start=700))
    assert onsets == []
    level = NormalLevel.load(state["level"])
    assert level.pinned is not None
    assert abs(level.pinned - 100.0) < 1.0


def test_multivariate_a_return_to_normal_after_an_episode_opens_none() -> None:
    detector = MultivariateDetector(window=400, min_fit=200, refit_every=40, n_estimators=50, end_after_normal=3)
    rng = random.Random(3)
    signals: list[Signal] = []
    for step in range(420):
        broken = 300 <= step < 360  # latency up and errors up together, for an hour
        values = {"latency": rng.gauss(100.0, 2.0) + (80.0 if broken else 0.0),
                  "errors": rng.gauss(1.0, 0.2) + (9.0 if broken else 0.0)}
        for offset, (name, value) in enumerate(values.items()):
            detector.observe(metric_event(step * 60.0 + 1 + offset, value, name=name, service="checkout"))
        signals += detector.advance(step * 60.0 + 60.0)
    signals += detector.advance(421 * 60.0)
    onsets = firing_onsets(signals)
    assert onsets, "the broken hour is found"
    assert all(299 * 60.0 <= onset < 360 * 60.0 for onset in onsets), onsets  # buckets start up to 60 s early


def logs(detector: LogAnomalyDetector, minutes: range, lines: list[tuple[str, str, int]]) -> list[Signal]:
    """Each minute, `count` lines of each (message, level, count); windows close as time passes."""
    signals: list[Signal] = []
    for minute in minutes:
        for message, level, count in lines:
            for i in range(count):
                signals += detector.observe(log_event(minute * 60.0 + i * 60.0 / count, level=level, message=message))
    return signals


def names(signals: list[Signal], status: str = "firing") -> list[str]:
    return [s.name for s in signals if s.status == status]


def test_an_error_log_born_in_an_incident_that_stops_resolves_and_never_fires_a_drop() -> None:
    detector = LogAnomalyDetector()
    normal = [("GET /items 200", "info", 20)]
    signals = logs(detector, range(20), normal)
    signals += logs(detector, range(20, 28), [*normal, ("charge failed: timeout talking to postgres", "error", 14)])
    assert "log_new_template" in names(signals)
    after = logs(detector, range(28, 40), normal)
    assert "log_template_drop" not in names(after)
    assert "log_new_template" in names(after[:2], "resolved")  # at the first window close after it stopped


def test_a_steady_error_log_that_stops_is_good_news_and_a_steady_info_log_that_stops_is_not() -> None:
    detector = LogAnomalyDetector()
    steady = [("GET /items 200", "info", 20), ("retrying flaky upstream", "error", 12),
              ("cache refreshed", "info", 12)]
    logs(detector, range(30), steady)
    after = logs(detector, range(30, 35), steady[:1])
    dropped = [s.summary for s in after if s.name == "log_template_drop" and s.status == "firing"]
    assert len(dropped) == 1
    assert "cache refreshed" in dropped[0]
