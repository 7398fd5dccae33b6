"""An episode's evidence carries the series' recent samples with the expected value and band (issue 14)."""

from __future__ import annotations

import math

import orjson
import pytest
from pydantic import ValidationError
from support.builders import T0, at, metric_event

from aiops.config import DetectionConfig
from aiops.detectors.base import PointScore
from aiops.detectors.episodes.tracker import MetricEpisodeTracker
from aiops.detectors.episodes.window import RecentSamples
from aiops.detectors.stage import DetectionStage
from aiops.signals import SampleWindow, Signal


class BandDetector:
    """Scores the value itself (>= 1 anomalous); expected = 0.1 * ts offset, band +-0.5."""

    name = "band"
    warm = True

    def score(self, ts: float, value: float) -> PointScore:
        expected = (ts - T0) / 100.0
        return PointScore(min(value, 1.0), expected=expected, lower=expected - 0.5, upper=expected + 0.5)

    def learn(self, ts: float, value: float) -> None:
        pass

    def snapshot(self) -> dict[str, float]:
        return {}


def run(values: list[float], window_points: int) -> list[Signal]:
    tracker = MetricEpisodeTracker(BandDetector, threshold=0.99, window_points=window_points)
    signals: list[Signal] = []
    for index, value in enumerate(values):
        signals += tracker.observe_all(metric_event(10.0 * index, value))
    return signals


def test_the_firing_signal_carries_the_last_samples_oldest_first() -> None:
    values = [0.25] * 12 + [3.0]
    firing = run(values, window_points=5)[0]
    assert firing.status == "firing"
    assert firing.evidence is not None
    window = firing.evidence.window
    assert window is not None
    assert window.start == at(80.0)
    assert window.seconds == [0.0, 10.0, 20.0, 30.0, 40.0]
    assert window.observed == [0.25, 0.25, 0.25, 0.25, 3.0]
    assert window.expected == pytest.approx([0.8, 0.9, 1.0, 1.1, 1.2], rel=1e-6)
    assert window.lower == pytest.approx([0.3, 0.4, 0.5, 0.6, 0.7], rel=1e-6)
    assert window.upper == pytest.approx([1.3, 1.4, 1.5, 1.6, 1.7], rel=1e-6)


def test_fewer_samples_than_the_window_and_no_window_when_off() -> None:
    firing = run([0.0, 0.0, 5.0], window_points=30)[0]
    assert firing.evidence is not None
    assert firing.evidence.window is not None
    assert len(firing.evidence.window.observed) == 3
    off = run([0.0, 0.0, 5.0], window_points=0)[0]
    assert off.evidence is not None
    assert off.evidence.window is None


def test_the_window_survives_the_signal_json_round_trip() -> None:
    firing = run([0.0] * 40 + [7.0], window_points=30)[0]
    again = Signal.model_validate_json(firing.model_dump_json())
    assert again == firing
    assert again.evidence is not None
    assert again.evidence.window is not None
    assert len(again.evidence.window.seconds) == 30


def test_absent_bands_are_null_and_huge_values_stay_finite() -> None:
    ring = RecentSamples(3)
    ring.record(T0, 1e300, None, None, None)
    ring.record(T0 + 1, -1e300, 2.0, None, 4.0)
    window = ring.window()
    assert window is not None
    assert all(math.isfinite(value) for value in window.observed)
    assert window.expected == [None, 2.0]
    assert window.lower == [None, None]
    assert SampleWindow.model_validate_json(window.model_dump_json()) == window


def test_columns_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValidationError, match="same length"):
        SampleWindow(start=at(0.0), seconds=[0.0, 1.0], observed=[1.0], expected=[None], lower=[None],
                     upper=[None])


def test_the_detection_stage_attaches_the_configured_window() -> None:
    config = DetectionConfig.model_validate(  # the EWMA: warm after 30 points (the ensemble needs hundreds)
        {"metric": {"detector": "ewma", "evidence_window_points": 8, "min_anomalous_points": 1}}
    )
    stage = DetectionStage(config)
    signals: list[Signal] = []
    for index in range(200):
        value = 10.0 + (index % 3) * 0.1 if index < 190 else 100.0
        signals += stage.process(metric_event(10.0 * index, value))
    firing = [signal for signal in signals if signal.origin == "metric_anomaly" and signal.status == "firing"]
    assert firing, "the step to 100 opens an episode"
    window = firing[0].evidence.window if firing[0].evidence is not None else None
    assert window is not None
    assert len(window.observed) == 8
    assert window.observed[-1] == pytest.approx(100.0)
    assert window.expected[-1] is not None
    assert window.expected[-1] < 20.0


def test_a_restored_series_carries_the_same_window_as_an_uninterrupted_one() -> None:
    """A worker restarted from a snapshot (export, import into a new tracker, the rest of the stream) emits
    the evidence an uninterrupted run gives: the ring is part of the series' snapshot."""
    values = [0.25, 0.5, 0.25, 0.75] * 3 + [3.0, 0.25]

    def tracker(points: int = 5) -> MetricEpisodeTracker:
        return MetricEpisodeTracker(BandDetector, threshold=0.99, window_points=points,
                                    restorer=lambda state: BandDetector())

    whole = tracker()
    first = tracker()
    expected: list[Signal] = []
    for index, value in enumerate(values):
        expected += whole.observe_all(metric_event(10.0 * index, value))
        if index < 8:
            first.observe_all(metric_event(10.0 * index, value))
    state = first.export_series(first.last_key)
    assert state is not None
    assert len(state["recent"]) == 5
    restored = tracker()
    assert restored.import_series(first.last_key, orjson.loads(orjson.dumps(state)))  # as the snapshot topic
    resumed: list[Signal] = []
    for index, value in enumerate(values[8:], start=8):
        resumed += restored.observe_all(metric_event(10.0 * index, value))
    assert resumed == expected
    assert resumed[0].evidence is not None
    assert resumed[0].evidence.window is not None
    assert len(resumed[0].evidence.window.observed) == 5
    smaller = tracker(points=3)
    assert smaller.import_series(first.last_key, state)
    window = smaller.observe_all(metric_event(80.0, 3.0))[0].evidence
    assert window is not None
    assert window.window is not None
    assert window.window.observed == [0.25, 0.75, 3.0]  # the newest two restored samples, then the new one
