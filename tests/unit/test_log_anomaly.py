"""Log anomaly detector on synthetic streams with injected bursts, new templates and keywords."""

from __future__ import annotations

import orjson
import pytest

from aiops.detectors.logs.anomaly import LogAnomalyDetector
from aiops.events import LogEvent
from aiops.signals import Signal

T0 = 1_699_999_980.0  # a multiple of 60: windows are aligned to the epoch


def event(ts: float, message: str, level: str = "info", service: str = "api") -> LogEvent:
    return LogEvent(kind="log", ts=ts, service=service, host="h1", message=message, level=level)


def baseline_stream(detector: LogAnomalyDetector, minutes: int, start: float = T0) -> list[Signal]:
    signals: list[Signal] = []
    for minute in range(minutes):
        for i in range(10):
            ts = start + minute * 60 + i * 5
            signals += detector.observe(event(ts, f"GET /items/{minute * 10 + i} 200 in {i + 3} ms"))
    return signals


def by_name(signals: list[Signal], name: str, status: str) -> list[Signal]:
    return [s for s in signals if s.name == name and s.status == status]


def test_quiet_stream_emits_nothing() -> None:
    detector = LogAnomalyDetector()
    assert baseline_stream(detector, 30) == []
    assert detector.advance(T0 + 30 * 60) == []


def test_new_template_at_warning_fires_once_and_resolves_with_masked_samples() -> None:
    detector = LogAnomalyDetector(quiet_seconds=120)
    baseline_stream(detector, 15)
    t = T0 + 15 * 60
    signals = detector.observe(event(t, "db connect failed password=hunter2 retry 3", "error"))
    signals += detector.observe(event(t + 1, "db connect failed password=hunter2 retry 4", "error"))
    firing = by_name(signals, "log_new_template", "firing")
    assert len(firing) == 1
    signal = firing[0]
    assert signal.origin == "log_anomaly"
    assert signal.evidence is not None
    assert signal.evidence.details["template"] == "db connect failed password=*** retry <*>"
    assert all("hunter2" not in sample for sample in signal.evidence.samples)
    assert signal.fingerprint.startswith("api|log_new_template|")
    resolved = by_name(detector.advance(t + 600), "log_new_template", "resolved")
    assert len(resolved) == 1
    assert resolved[0].fingerprint == signal.fingerprint
    assert resolved[0].evidence is not None
    assert resolved[0].evidence.observed == 2


def test_new_info_template_and_warmup_lines_are_not_flagged() -> None:
    detector = LogAnomalyDetector()
    signals = detector.observe(event(T0, "startup error in module x", "error"))
    baseline_stream(detector, 15, start=T0 + 1)
    signals += detector.observe(event(T0 + 16 * 60, "cache warmed in 5 ms", "info"))
    assert by_name(signals, "log_new_template", "firing") == []


def test_error_burst_fires_at_window_close_and_resolves() -> None:
    detector = LogAnomalyDetector(min_errors=5, ratio_over_baseline=3.0)
    baseline_stream(detector, 15)
    t = T0 + 15 * 60
    signals: list[Signal] = []
    for i in range(20):
        line = f"upstream timeout after {i} ms Authorization: Bearer abc{i}"
        signals += detector.observe(event(t + i, line, "error"))
    signals += baseline_stream(detector, 3, start=t + 60)
    signals += detector.advance(t + 5 * 60)
    firing = by_name(signals, "log_error_burst", "firing")
    resolved = by_name(signals, "log_error_burst", "resolved")
    assert len(firing) == 1
    assert len(resolved) == 1
    evidence = firing[0].evidence
    assert evidence is not None
    assert evidence.observed == 20
    assert 0 < len(evidence.samples) <= 5
    assert all("abc" not in sample and "***" in sample for sample in evidence.samples)
    assert firing[0].started_at.timestamp() == t
    assert resolved[0].ts > firing[0].ts


def test_template_rate_spike_and_disappearance() -> None:
    detector = LogAnomalyDetector(min_rate_count=10, rate_ratio=4.0)
    baseline_stream(detector, 15)
    t = T0 + 15 * 60
    signals: list[Signal] = []
    for i in range(100):
        signals += detector.observe(event(t + i * 0.5, f"GET /items/{i} 200 in 4 ms"))
    signals += detector.advance(t + 60)
    spike = by_name(signals, "log_template_spike", "firing")
    assert len(spike) == 1
    assert spike[0].evidence is not None
    assert spike[0].evidence.observed == 100
    assert spike[0].evidence.expected is not None
    assert spike[0].evidence.expected < 20
    quiet = detector.advance(t + 180)
    assert by_name(quiet, "log_template_spike", "resolved")
    assert by_name(quiet, "log_template_drop", "firing")


def test_secrets_in_template_text_are_masked() -> None:
    detector = LogAnomalyDetector(warmup_seconds=0)
    detector.observe(event(T0, "warmup line"))
    signals = detector.observe(event(T0 + 1, "login failed password=swordfish for bob", "error"))
    evidence = by_name(signals, "log_new_template", "firing")[0].evidence
    assert evidence is not None
    assert "swordfish" not in str(evidence.details["template"])
    assert "swordfish" not in evidence.samples[0]


def test_keyword_signal() -> None:
    detector = LogAnomalyDetector()
    signals = detector.observe(event(T0, "kernel: Out of memory: Killed process 1234 (java)", "info"))
    firing = by_name(signals, "log_keyword", "firing")
    assert len(firing) == 1
    assert firing[0].severity == "high"
    assert "log_keyword" in detector.last_flags


def test_long_event_time_gap_resolves_without_iterating_every_window() -> None:
    detector = LogAnomalyDetector(quiet_seconds=300)
    detector.observe(event(T0, "segfault in worker 3", "error"))
    signals = detector.observe(event(T0 + 365 * 86400, "GET /x 200 in 3 ms"))
    assert by_name(signals, "log_keyword", "resolved")


def mixed_stream() -> list[LogEvent]:
    """Baseline traffic with a health check that stops at the incident, then a new error template, a
    keyword line, an error burst and a rate spike, with some lines out of order within a window."""
    lines = [event(T0 + m * 60 + i * 5, f"GET /items/{m * 10 + i} 200 in {i + 3} ms")
             for m in range(15) for i in range(10)]
    lines += [event(T0 + m * 60 + i * 4 + 1, f"health check passed in {i} ms") for m in range(15) for i in range(14)]
    lines.sort(key=lambda line: line.epoch)
    t = T0 + 15 * 60
    lines += [event(t + i, f"upstream timeout after {i} ms token=abc{i}", "error") for i in range(20)]
    lines += [event(t + 30, "db connect failed retry 3", "error"), event(t + 20, "kernel: panic in driver", "info")]
    lines += [event(t + 60 + i * 0.5, f"GET /items/{i} 200 in 4 ms") for i in range(100)]
    lines += [event(t + 300 + m * 60, "cache warmed in 5 ms") for m in range(20)]
    return lines


def run(detector: LogAnomalyDetector, lines: list[LogEvent], watermark_lag: float = 15.0) -> list[Signal]:
    """Observe each line, then advance event time to the highest time seen minus `watermark_lag`."""
    signals: list[Signal] = []
    high = float("-inf")
    for line in lines:
        signals += detector.observe(line)
        high = max(high, line.epoch)
        signals += detector.advance(high - watermark_lag)
    return signals


def test_detector_restored_mid_stream_emits_exactly_the_signals_of_one_that_never_stopped() -> None:
    lines = mixed_stream()
    params = {"quiet_seconds": 300.0, "advance_on_observe": False}
    reference = run(LogAnomalyDetector(**params), lines)
    assert {s.name for s in reference} >= {"log_new_template", "log_keyword", "log_error_burst",
                                           "log_template_spike", "log_template_drop"}
    for cut in (1, 40, 151, 165, 180, 260, len(lines) - 3):
        first = LogAnomalyDetector(**params)
        signals = run(first, lines[:cut])
        state = orjson.loads(orjson.dumps(first.snapshot()))  # through JSON, as on the state topic
        signals += run(LogAnomalyDetector.restore(state, **params), lines[cut:])
        assert [s.model_dump() for s in signals] == [s.model_dump() for s in reference], f"cut at {cut}"


def test_restore_keeps_learned_templates_and_rejects_other_versions() -> None:
    detector = LogAnomalyDetector(warmup_seconds=0)
    detector.observe(event(T0, "worker started"))
    detector.observe(event(T0 + 1, "disk full on /var", "error"))
    restored = LogAnomalyDetector.restore(detector.snapshot(), miner_settings={"similarity_threshold": 0.8},
                                          warmup_seconds=0)
    assert restored.observe(event(T0 + 2, "disk full on /var", "error")) == []
    assert by_name(restored.observe(event(T0 + 3, "checksum mismatch in block 7", "error")),
                   "log_new_template", "firing")
    with pytest.raises(ValueError, match="version"):
        LogAnomalyDetector.restore({**detector.snapshot(), "version": 99})
