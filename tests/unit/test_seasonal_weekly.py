"""The seasonal member on coarse (30-min, hourly) series and its weekly correction.

A coarse series visits each daily bucket once a day, so the first day fits the profile exactly; the
member must not learn its scale and tail from those zero residuals (it used to, and then never fired).
The weekly correction must turn on only where the data has a weekly pattern, after two weeks, and then
tighten the band; its state must survive snapshots, including ones taken before it existed.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from aiops.detectors.metric.seasonal import _ADDED_FIELDS, WEEK_SECONDS, SeasonalDetector

START = 1_400_000_000.0  # a Tuesday, 16:53 UTC
THRESHOLD = 0.9999


def _scores(detector: SeasonalDetector, ts: np.ndarray, values: np.ndarray) -> np.ndarray:
    scores = np.empty(len(values))
    for index, (stamp, value) in enumerate(zip(ts.tolist(), values.tolist(), strict=True)):
        scores[index] = detector.score(stamp, value).score
        detector.learn(stamp, value)
    return scores


def _daily(ts: np.ndarray, seed: int = 3) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0.0, 1.0, ts.size)
    values: np.ndarray = 50.0 + 10.0 * np.sin(2 * math.pi * ts / 86400.0) + noise
    return values


def _weekly(ts: np.ndarray, holiday: int | None = None, seed: int = 1) -> np.ndarray:
    """Daytime traffic on weekdays only; day number `holiday` (from the first point) is run like a Sunday."""
    hour, weekday = (ts % 86400.0) / 3600.0, ((ts // 86400.0) + 3) % 7
    weekend = weekday >= 5
    if holiday is not None:
        weekend |= (ts - ts[0]) // 86400.0 == holiday
    daytime = np.clip(np.sin(np.pi * (hour - 7.0) / 12.0), 0.0, None)
    values: np.ndarray = 100.0 + np.where(weekend, 5.0, 60.0) * daytime
    return values + np.random.default_rng(seed).normal(0.0, 3.0, ts.size)


@pytest.mark.parametrize("step", [1800.0, 3600.0])
def test_a_missing_daily_peak_is_flagged_on_coarse_series(step: float) -> None:
    per_day = int(86400 / step)
    ts = START + step * np.arange(16 * per_day)  # hourly: scoring from day 3, tail fitted on 200 points
    values = _daily(ts)
    anomaly = 14 * per_day + int(np.argmax(values[14 * per_day : 15 * per_day]))
    values[anomaly - 1 : anomaly + 2] -= 20.0  # the peak sits at the trough's level: in range overall
    scores = _scores(SeasonalDetector(), ts, values)
    assert scores[anomaly - 1 : anomaly + 2].max() >= THRESHOLD  # it scored ~0.003 before the fix
    assert (scores[: anomaly - 1] >= THRESHOLD).sum() == 0


def test_weekly_correction_turns_on_after_two_weeks_only_where_the_week_has_a_pattern() -> None:
    ts = START + 3600.0 * np.arange(5 * 7 * 24)
    weekly, daily = SeasonalDetector(), SeasonalDetector()
    turned_on = None
    for index, (stamp, value) in enumerate(zip(ts.tolist(), _weekly(ts).tolist(), strict=True)):
        weekly.learn(stamp, value)
        daily.learn(stamp, float(_daily(ts)[index]))
        if turned_on is None and weekly.weekly:
            turned_on = stamp
        assert not daily.weekly
    assert turned_on is not None
    assert turned_on - START >= 2 * WEEK_SECONDS
    assert weekly.weekly_error < 0.6 * weekly.daily_error


@pytest.mark.parametrize("step", [1800.0, 3600.0])
def test_weekly_correction_tightens_the_band_and_sharpens_a_holiday(step: float) -> None:
    ts = START + step * np.arange(int(6 * WEEK_SECONDS / step))
    holiday = 36  # a weekday in the sixth week
    values = _weekly(ts, holiday=holiday)
    on_holiday = (ts - ts[0]) // 86400.0 == holiday
    with_week, without_week = SeasonalDetector(), SeasonalDetector(weekly_gain=0.0)
    scores_with, scores_without = _scores(with_week, ts, values), _scores(without_week, ts, values)
    assert with_week.weekly
    assert not without_week.weekly
    assert with_week.scale < 0.75 * without_week.scale
    assert scores_with[on_holiday].max() > scores_without[on_holiday].max()
    late = ts - ts[0] >= 3 * WEEK_SECONDS
    assert (scores_with[late & ~on_holiday] >= THRESHOLD).sum() == 0


def test_weekly_state_round_trips_and_older_snapshots_load() -> None:
    ts = START + 3600.0 * np.arange(4 * 7 * 24)
    detector = SeasonalDetector()
    _scores(detector, ts, _weekly(ts))
    restored = SeasonalDetector.restore(json.loads(json.dumps(detector.snapshot())))
    assert restored.weekly
    assert restored.snapshot() == detector.snapshot()
    probe = float(ts[-1]) + 3600.0
    assert restored.score(probe, 150.0) == detector.score(probe, 150.0)

    older = SeasonalDetector()
    _scores(older, ts[:100], _weekly(ts[:100]))
    snapshot = json.loads(json.dumps(older.snapshot()))
    for field in _ADDED_FIELDS:
        del snapshot["state"][field]
    legacy = SeasonalDetector.restore(snapshot)
    assert legacy.ready == older.ready
    assert not legacy.weekly
    assert legacy.week == [0.0] * legacy.week_buckets
    assert legacy.score(float(ts[100]), 120.0) == older.score(float(ts[100]), 120.0)


def test_an_older_snapshot_waits_two_weeks_of_weekly_learning_before_the_correction() -> None:
    """Restored from before the weekly fields, the correction has learnt nothing yet: 'after two weeks'
    counts from the restore, not from the series' first point (else one week's noisy blocks and a handful
    of scored residuals could turn it on for a series without a weekly pattern)."""
    ts = START + 3600.0 * np.arange(6 * 7 * 24)
    values = _daily(ts, seed=1)  # no weekly pattern: a fresh detector never turns the correction on
    cut = 3 * 7 * 24
    older = SeasonalDetector()
    _scores(older, ts[:cut], values[:cut])
    assert not older.weekly
    snapshot = json.loads(json.dumps(older.snapshot()))
    for field in _ADDED_FIELDS:
        del snapshot["state"][field]
    legacy = SeasonalDetector.restore(snapshot)
    for stamp, value in zip(ts[cut:].tolist(), values[cut:].tolist(), strict=True):
        legacy.learn(stamp, value)
        assert not legacy.weekly or stamp - float(ts[cut]) >= 2 * WEEK_SECONDS, stamp


@pytest.mark.parametrize("week_buckets", [0, -7, 10])
def test_week_buckets_must_be_a_positive_multiple_of_seven(week_buckets: int) -> None:
    with pytest.raises(ValueError, match="week_buckets"):
        SeasonalDetector(week_buckets=week_buckets)


@pytest.mark.parametrize("week_buckets", [7, 168])
def test_other_weekly_resolutions_learn_and_round_trip(week_buckets: int) -> None:
    ts = START + 3600.0 * np.arange(4 * 7 * 24)
    detector = SeasonalDetector(week_buckets=week_buckets)
    _scores(detector, ts, _weekly(ts))
    assert sum(detector.week_visits) > 0
    restored = SeasonalDetector.restore(json.loads(json.dumps(detector.snapshot())), week_buckets=week_buckets)
    assert restored.snapshot() == detector.snapshot()
    assert restored.weekly == detector.weekly
