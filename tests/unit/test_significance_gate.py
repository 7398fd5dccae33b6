"""The episode tracker's practical-significance gate (`detection.metric.min_deviation_sigmas`).

A detector may call a point statistically surprising while the value sits within the series' ordinary
point-to-point noise (an autocorrelated drift statistic on a noisy series): such a point must not open an
episode; a deviation of many noise sigmas must, and so must points without an expected value (counters'
rates). The noise scale travels in the series snapshot and is shown in the evidence.
"""

from __future__ import annotations

import json
import random
from typing import Any

from support.builders import T0, metric_event

from aiops.config import DetectionConfig
from aiops.detectors.base import PointScore
from aiops.detectors.config import MetricDetectorConfig
from aiops.detectors.episodes.tracker import MetricEpisodeTracker
from aiops.detectors.stage import DetectionStage
from aiops.signals import Signal

EXPECTED = 100.0


class Alarmed:
    """A detector that flags every point after the first 60 against a fixed expected value."""

    name = "alarmed"

    def __init__(self, expected: float | None = EXPECTED) -> None:
        self.count = 0
        self.expected = expected

    @property
    def warm(self) -> bool:
        return True

    def score(self, ts: float, value: float) -> PointScore:
        return PointScore(1.0 if self.count >= 60 else 0.0, expected=self.expected)

    def learn(self, ts: float, value: float) -> None:
        self.count += 1

    def snapshot(self) -> dict[str, Any]:
        return {"count": self.count}

    @classmethod
    def restore(cls, state: dict[str, Any], expected: float | None) -> Alarmed:
        detector = cls(expected)
        detector.count = int(state["count"])
        return detector


def _tracker(sigmas: float | None, expected: float | None = EXPECTED) -> MetricEpisodeTracker:
    return MetricEpisodeTracker(
        lambda: Alarmed(expected), threshold=0.9999, min_anomalous_points=2, min_deviation_sigmas=sigmas,
        restorer=lambda state: Alarmed.restore(state, expected),
    )  # fmt: skip


def _run(tracker: MetricEpisodeTracker, deviation: float, points: int = 80, start: int = 0) -> list[Signal]:
    """Noise of sigma 1 around EXPECTED; from point 60 on, shifted by `deviation`."""
    rng = random.Random(4)
    signals = []
    for index in range(start, start + points):
        shift = deviation if index >= 60 else 0.0
        signal = tracker.observe(metric_event(10.0 * index, EXPECTED + shift + rng.gauss(0.0, 1.0)))
        if signal is not None:
            signals.append(signal)
    return signals


def test_a_surprising_point_within_the_noise_opens_no_episode_a_large_one_does() -> None:
    assert _run(_tracker(3.0), deviation=0.5) == []
    firing = _run(_tracker(3.0), deviation=10.0)
    assert firing
    assert {signal.status for signal in firing} == {"firing"}  # opened, then refreshed every 60 s
    evidence = firing[0].evidence
    assert evidence is not None
    sigma = evidence.details["noise_sigma"]
    assert isinstance(sigma, float)
    assert 0.7 < sigma < 1.3  # the series' own noise, learnt from consecutive differences (true sigma 1)


def test_without_the_gate_or_an_expected_value_every_flagged_point_counts() -> None:
    assert _run(_tracker(None), deviation=0.5)
    assert _run(_tracker(3.0, expected=None), deviation=0.5)


def test_the_noise_scale_travels_in_the_series_snapshot() -> None:
    tracker = _tracker(3.0)
    _run(tracker, deviation=0.0, points=50)
    key = "svc|h1|latency"
    state = json.loads(json.dumps(tracker.export_series(key)))
    assert state["noise"]["count"] == 50
    restored = _tracker(3.0)
    assert restored.import_series(key, state)
    assert _run(restored, deviation=0.5, points=30, start=50) == []  # gated at once: no warm-up after a restore
    older = {field: value for field, value in state.items() if field != "noise"}  # before the gate existed
    again = _tracker(3.0)
    assert again.import_series(key, older)
    assert _run(again, deviation=0.5, points=30, start=50)  # its noise scale warms up again first


def test_a_flat_line_at_the_expected_value_still_opens_an_episode() -> None:
    firing = {}
    for sigmas in (None, 3.0):
        stage = DetectionStage(
            DetectionConfig(metric=MetricDetectorConfig(detector="ensemble", min_deviation_sigmas=sigmas))
        )
        rng = random.Random(2)
        value = 50.0
        signals = []
        for index in range(2600):
            if index < 2500:
                value = 50.0 + rng.gauss(0.0, 2.0)  # from 2500 on, stuck at its last value: near the expected one
            signals += stage.process(metric_event(60.0 * index, value))
        firing[sigmas] = [
            signal for signal in signals if signal.status == "firing" and signal.ts.timestamp() >= T0 + 60.0 * 2500
        ]
        assert firing[sigmas], sigmas
        evidence = firing[sigmas][-1].evidence
        assert evidence is not None
        assert str(evidence.details["detail"]).startswith("flatline")  # the stuck series, found with the gate too
