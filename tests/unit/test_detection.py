"""Detection: EWMA z-score calibration, metric episodes, log error bursts and alert passthrough."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from support.builders import T0, alert_event, at, log_event, metric_event

from aiops.config import DetectionConfig
from aiops.detectors.base import PointScore
from aiops.detectors.episodes.tracker import MetricEpisodeTracker
from aiops.detectors.metric.ewma import EwmaZScore
from aiops.detectors.stage import DetectionStage, alert_fingerprint, alert_to_signal
from aiops.events import MetricEvent
from aiops.signals import Signal

THRESHOLD = 0.9999
WINDOW = 60.0
W0 = 40.0  # T0 + 40 is a multiple of 60 s, so log windows start at offsets 40, 100, 160, ...


class ScriptedDetector:
    """A detector whose score is the sample value itself (>= 1.0 is anomalous); counts what it learns."""

    name = "scripted"

    def __init__(self) -> None:
        self.learned = 0

    @property
    def warm(self) -> bool:
        return True

    def score(self, ts: float, value: float) -> PointScore:
        return PointScore(min(value, 1.0), expected=0.0, lower=-1.0, upper=1.0, warm=True, detail=f"v={value}")

    def learn(self, ts: float, value: float) -> None:
        self.learned += 1

    def snapshot(self) -> dict[str, Any]:
        return {"learned": self.learned}


def scripted_tracker(**kwargs: Any) -> tuple[MetricEpisodeTracker, list[ScriptedDetector]]:
    made: list[ScriptedDetector] = []

    def factory() -> ScriptedDetector:
        made.append(ScriptedDetector())
        return made[-1]

    options: dict[str, Any] = {"threshold": 0.99, "end_after_normal": 3, "refresh_seconds": 60.0}
    options.update(kwargs)
    return MetricEpisodeTracker(factory, **options), made


def feed(tracker: MetricEpisodeTracker, values: list[float], step: float = 10.0, **event: Any) -> list[Signal]:
    out: list[Signal] = []
    for i, value in enumerate(values):
        signal = tracker.observe(metric_event(i * step, value, **event))
        if signal is not None:
            out.append(signal)
    return out


# --- EWMA z-score -------------------------------------------------------------------------------------------

def test_ewma_scores_are_calibrated_and_rarely_flag_gaussian_noise() -> None:
    rng = random.Random(20240501)
    detector = EwmaZScore(alpha=0.05, warmup_points=30)
    flagged = warm_points = 0
    for i in range(10_030):
        value = rng.gauss(0.0, 1.0)
        verdict = detector.score(float(i), value)
        assert 0.0 <= verdict.score <= 1.0
        detector.learn(float(i), value)
        if verdict.warm:
            warm_points += 1
            flagged += verdict.score >= THRESHOLD
    assert warm_points == 10_000
    # Nominal tail is 1e-4; the EWMA variance estimate is noisy, so allow a small multiple of it.
    assert flagged / warm_points < 2e-3


def test_ewma_is_not_warm_before_warmup_and_scores_zero_on_empty_state() -> None:
    detector = EwmaZScore(warmup_points=5)
    assert detector.score(0.0, 123.0) == PointScore(0.0, None, None, None, warm=False)
    for i in range(4):
        detector.learn(float(i), 10.0 + i % 2)
        assert not detector.warm
    detector.learn(4.0, 10.0)
    assert detector.warm
    assert detector.score(5.0, 10.0).warm


def test_ewma_detects_spike_and_dip_with_baseline_explanation() -> None:
    rng = random.Random(7)
    detector = EwmaZScore()
    for i in range(200):
        detector.learn(float(i), 100.0 + rng.gauss(0.0, 1.0))
    spike = detector.score(200.0, 130.0)
    dip = detector.score(200.0, 70.0)
    normal = detector.score(200.0, 100.5)
    assert spike.score >= THRESHOLD
    assert dip.score >= THRESHOLD
    assert normal.score < 0.9
    assert spike.expected == pytest.approx(100.0, abs=1.0)
    assert spike.lower is not None
    assert spike.upper is not None
    assert spike.lower < 100.0 < spike.upper
    assert spike.detail.startswith("z=")


def test_ewma_score_does_not_change_state_and_snapshot_restores_it() -> None:
    detector = EwmaZScore()
    for i in range(50):
        detector.learn(float(i), float(i % 7))
    before = detector.snapshot()
    first = detector.score(50.0, 3.0)
    assert detector.snapshot() == before
    assert detector.score(50.0, 3.0) == first
    restored = EwmaZScore.restore(before)
    assert restored.score(50.0, 42.0) == detector.score(50.0, 42.0)


def test_ewma_flat_series_uses_a_floor_instead_of_dividing_by_zero() -> None:
    detector = EwmaZScore(warmup_points=3)
    for i in range(10):
        detector.learn(float(i), 5.0)
    assert detector.score(10.0, 5.0).score == pytest.approx(0.0)
    assert detector.score(10.0, 5.1).score >= THRESHOLD


# --- metric episodes ----------------------------------------------------------------------------------------

def test_consecutive_anomalous_points_make_one_episode_with_one_firing_and_one_resolved() -> None:
    tracker, _ = scripted_tracker()
    signals = feed(tracker, [0.1, 0.1, 1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.1, 0.1])
    assert [s.status for s in signals] == ["firing", "resolved"]
    firing, resolved = signals
    assert firing.fingerprint == resolved.fingerprint
    assert firing.fingerprint == f"svc|h1|latency#{T0 + 20:.3f}"
    assert firing.ts == at(20)
    assert firing.started_at == at(20)
    assert resolved.ts == at(70)  # the third normal point after the episode
    assert resolved.started_at == at(20)
    assert firing.origin == "metric_anomaly"
    assert (firing.service, firing.host, firing.name) == ("svc", "h1", "latency")


class DampingDetector(ScriptedDetector):
    """Like `ScriptedDetector`, but reports only the first of consecutive anomalous points (repeat damping)."""

    def __init__(self) -> None:
        super().__init__()
        self.previous = 0.0

    def score(self, ts: float, value: float) -> PointScore:
        if value >= 1.0 and self.previous >= 1.0:
            return PointScore(0.0, expected=0.0, warm=True, undamped=1.0)
        return PointScore(min(value, 1.0), expected=0.0, warm=True)

    def learn(self, ts: float, value: float) -> None:
        super().learn(ts, value)
        self.previous = value


def test_undamped_score_confirms_a_just_opened_episode_but_does_not_extend_a_confirmed_one() -> None:
    tracker = MetricEpisodeTracker(DampingDetector, threshold=0.99, min_anomalous_points=2, end_after_normal=3)
    signals = feed(tracker, [0.1, 1.0, 1.0, 1.0, 1.0, 1.0, 0.1, 0.1])
    assert [(s.status, s.ts) for s in signals] == [("firing", at(20)), ("resolved", at(50))]
    assert signals[0].started_at == at(10)
    lone = MetricEpisodeTracker(DampingDetector, threshold=0.99, min_anomalous_points=2)
    assert feed(lone, [0.1, 1.0, 0.1, 0.1, 1.0, 0.1]) == []  # single points never confirm


def test_episode_snapshot_without_undamped_field_still_restores() -> None:
    tracker, _ = scripted_tracker(restorer=lambda state: ScriptedDetector())
    feed(tracker, [1.0])
    key = tracker.last_key
    state = orjson.loads(orjson.dumps(tracker.export_series(key)))
    del state["episode"]["peak"]["undamped"]  # written before PointScore had it
    other, _ = scripted_tracker(restorer=lambda state: ScriptedDetector())
    assert other.import_series(key, state)
    restored, original = other.export_series(key), tracker.export_series(key)
    assert restored is not None
    assert original is not None
    assert restored["episode"] == original["episode"]


def test_episode_ends_only_after_enough_consecutive_normal_points() -> None:
    tracker, _ = scripted_tracker(end_after_normal=3)
    # normal, normal, anomalous resets the normal run: still one episode
    signals = feed(tracker, [1.0, 0.1, 0.1, 1.0, 0.1, 0.1, 0.1])
    assert [s.status for s in signals] == ["firing", "resolved"]
    assert signals[1].ts == at(60)


def test_episode_evidence_explains_the_peak() -> None:
    rng = random.Random(3)
    tracker = MetricEpisodeTracker(lambda: EwmaZScore(alpha=0.05, warmup_points=30), threshold=THRESHOLD)
    values = [100.0 + rng.gauss(0.0, 1.0) for _ in range(60)] + [104.5, 109.0] + [100.0] * 6
    signals = feed(tracker, values)
    assert [s.status for s in signals] == ["firing", "resolved"]
    firing, resolved = signals
    evidence = resolved.evidence
    assert evidence is not None
    assert evidence.detector == "ewma_zscore"
    assert evidence.threshold == THRESHOLD
    assert evidence.observed == 109.0  # peak value, not the onset value
    assert evidence.expected is not None
    assert evidence.expected == pytest.approx(100.0, abs=15.0)
    assert evidence.onset == at(600)
    assert evidence.peak_at == at(610)
    assert THRESHOLD <= evidence.score <= 1.0
    assert firing.evidence is not None
    assert firing.evidence.observed == 104.5
    assert firing.severity == "warning"  # onset z ~ 4.5
    assert resolved.severity == "high"  # the peak (z ~ 6) is beyond HIGH_SCORE
    assert "above baseline" in firing.summary


def test_open_episode_refreshes_firing_every_refresh_seconds() -> None:
    tracker, _ = scripted_tracker(refresh_seconds=60.0)
    signals = feed(tracker, [1.0] * 16 + [0.0] * 3)  # anomalous from 0 s to 150 s, every 10 s
    assert [(s.status, s.ts) for s in signals] == [
        ("firing", at(0)), ("firing", at(60)), ("firing", at(120)), ("resolved", at(180)),
    ]
    assert len({s.fingerprint for s in signals}) == 1
    assert all(s.started_at == at(0) for s in signals)


def test_cold_detector_never_flags() -> None:
    class Cold(ScriptedDetector):
        def score(self, ts: float, value: float) -> PointScore:
            return PointScore(1.0, warm=False)

    tracker = MetricEpisodeTracker(Cold, threshold=0.5)
    assert feed(tracker, [5.0] * 10) == []


def test_series_cap_evicts_least_recently_seen_and_counts_evictions() -> None:
    tracker, made = scripted_tracker(max_series=2)
    tracker.observe(metric_event(0, 0.1, name="a"))
    tracker.observe(metric_event(1, 0.1, name="b"))
    tracker.observe(metric_event(2, 0.1, name="a"))  # a is now more recent than b
    tracker.observe(metric_event(3, 0.1, name="c"))  # evicts b
    assert (tracker.live_series, tracker.evicted, len(made)) == (2, 1, 3)
    tracker.observe(metric_event(4, 0.1, name="a"))  # still live: no new detector
    assert len(made) == 3
    assert made[0].learned == 3
    tracker.observe(metric_event(5, 0.1, name="b"))  # b comes back fresh and evicts c
    assert (tracker.live_series, tracker.evicted, len(made)) == (2, 2, 4)
    assert made[3].learned == 1


def test_series_are_tracked_independently_by_labels() -> None:
    tracker, made = scripted_tracker()
    first = tracker.observe(metric_event(0, 1.0, labels={"route": "/a"}))
    second = tracker.observe(metric_event(0, 1.0, labels={"route": "/b"}))
    assert first is not None
    assert second is not None
    assert first.fingerprint != second.fingerprint
    assert len(made) == 2


# --- alerts and the detection stage -------------------------------------------------------------------------

def test_alert_passthrough_keeps_source_fingerprint() -> None:
    signal = alert_to_signal(alert_event(5, fingerprint="abc123", source="alertmanager"))
    assert signal.fingerprint == "alertmanager:abc123"
    assert signal.origin == "alert"
    assert signal.status == "firing"
    assert signal.ts == signal.started_at == at(5)
    assert signal.source == "alertmanager"


def test_alert_without_fingerprint_gets_a_stable_derived_one() -> None:
    one = alert_fingerprint(alert_event(0, labels={"a": "1", "b": "2"}))
    again = alert_fingerprint(alert_event(999, status="resolved", labels={"b": "2", "a": "1"}))
    other_name = alert_fingerprint(alert_event(0, name="Other", labels={"a": "1", "b": "2"}))
    other_label = alert_fingerprint(alert_event(0, labels={"a": "1", "b": "3"}))
    other_service = alert_fingerprint(alert_event(0, service="db", labels={"a": "1", "b": "2"}))
    assert one == again
    assert one.startswith("alert:")
    assert len({one, other_name, other_label, other_service}) == 4


def test_alert_summary_prefers_summary_then_description_then_name() -> None:
    event = alert_event(0)
    assert alert_to_signal(event).summary == "HighLatency"
    described = event.model_copy(update={"annotations": {"description": "slow"}})
    assert alert_to_signal(described).summary == "slow"
    both = event.model_copy(update={"annotations": {"description": "slow", "summary": "p99 high"}})
    assert alert_to_signal(both).summary == "p99 high"


def test_detection_stage_routes_each_kind_and_tracks_max_event_time() -> None:
    stage = DetectionStage(DetectionConfig())
    assert stage.process(metric_event(10, 1.0)) == []
    assert stage.process(log_event(5)) == []  # older event does not move max time back
    assert stage.max_event_time == T0 + 10
    alerts = stage.process(alert_event(20, fingerprint="f"))
    assert [s.origin for s in alerts] == ["alert"]
    assert stage.max_event_time == T0 + 20
    assert stage.metrics.live_series == 1


def test_detection_stage_advance_closes_log_windows() -> None:
    stage = DetectionStage(DetectionConfig.model_validate({"logs": {"window_seconds": 60, "min_errors": 3}}))
    for n in range(5):
        stage.process(log_event(W0 + 1 + n))
    assert stage.advance(T0 + W0 + 30) == []
    assert [s.status for s in stage.advance(T0 + W0 + WINDOW)] == ["firing"]


def test_detection_stage_runs_the_multivariate_detector_when_enabled() -> None:
    """A correlation break (each metric normal alone) surfaces as a `multivariate` signal of the stage."""
    import numpy as np  # noqa: PLC0415 - only this test needs it

    config = DetectionConfig.model_validate({"multivariate": {
        "enabled": True, "window": 300, "min_fit": 200, "refit_every": 10_000, "n_estimators": 50}})
    stage = DetectionStage(config)
    rng = np.random.default_rng(7)
    start = 1_700_000_040.0
    for i in range(250):
        cpu = 50.0 + 10.0 * float(rng.standard_normal())
        for name, value in (("cpu", cpu), ("latency", 2.0 * cpu + float(rng.normal(0.0, 2.0)))):
            stage.process(MetricEvent(kind="metric", ts=datetime.fromtimestamp(start + 60 * i + 1, tz=UTC),
                                      service="checkout", host="web-1", name=name, value=value))
        stage.advance(start + 60 * i)
    signals = []
    for i, (cpu, latency) in enumerate([(65.0, 70.0), (66.0, 71.0)], start=250):
        for name, value in (("cpu", cpu), ("latency", latency)):
            signals += stage.process(MetricEvent(kind="metric", ts=datetime.fromtimestamp(start + 60 * i + 1, tz=UTC),
                                                 service="checkout", host="web-1", name=name, value=value))
        signals += stage.advance(start + 60 * i)
    signals += stage.advance(start + 60 * 253)
    multivariate = [s for s in signals if s.name == "multivariate"]
    assert multivariate, "the correlation break must be flagged"
    assert multivariate[0].evidence is not None
    assert "cpu" in str(multivariate[0].evidence.details.get("top_metrics", ""))


def test_log_state_is_sharded_and_moves_between_stages_with_its_shard() -> None:
    """Each shard (input partition) has its own log detector; exporting one and importing it into another
    stage continues its windows there, and forgetting it drops it."""
    config = DetectionConfig.model_validate({"logs": {"window_seconds": 60, "min_errors": 3}})
    stage = DetectionStage(config)
    for n in range(5):
        stage.process(log_event(W0 + 1 + n), shard=2)
    stage.process(log_event(W0 + 1, level="info", message="ok"), shard=1)
    assert stage.export_logs(0) is None
    assert stage.has_logs(1)
    assert stage.has_logs(2)
    state = stage.export_logs(2)
    assert state is not None
    moved = DetectionStage(config)
    moved.import_logs(2, orjson.loads(orjson.dumps(state)))
    assert [s.status for s in moved.advance(T0 + W0 + WINDOW)] == ["firing"]
    stage.forget_logs(2)
    assert not stage.has_logs(2)
    assert stage.advance(T0 + W0 + WINDOW) == []  # shard 1 alone: one info line, nothing to report
    with pytest.raises(ValueError, match="version"):
        moved.import_logs(3, {"version": 0})
    assert not moved.has_logs(3)


def test_pipeline_default_shard_is_zero() -> None:
    stage = DetectionStage(DetectionConfig.model_validate({"logs": {"window_seconds": 60, "min_errors": 3}}))
    for n in range(5):
        stage.process(log_event(W0 + 1 + n))
    assert stage.has_logs(0)
    assert stage.export_logs(0) is not None
    assert [s.status for s in stage.advance(T0 + W0 + WINDOW)] == ["firing"]
