"""NAB scorer on small hand-computed cases (one 100-row file, one window of rows 50..59)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from aiops_eval.nab import file_figures
from aiops_eval.nab_scoring import (
    MAX_TP,
    CostMatrix,
    best_threshold,
    normalised,
    probationary_length,
    scaled_sigmoid,
    score_at_threshold,
    sweep_file,
)

STANDARD = CostMatrix(tp_weight=1.0, fp_weight=0.11, fn_weight=1.0)
ROWS, WINDOW = 100, (50, 59)


def _sig(x: float) -> float:
    return 2.0 / (1.0 + math.exp(-x)) - 1.0


def _raw(*detections: int) -> float:
    scores = np.zeros(ROWS)
    scores[list(detections)] = 1.0
    return score_at_threshold([(scores, sweep_file(ROWS, [WINDOW]))], 0.5, STANDARD)


def test_probationary_length_is_15_percent_capped_at_750() -> None:
    assert probationary_length(100) == 15
    assert probationary_length(4032) == 604
    assert probationary_length(22695) == 750


def test_scaled_sigmoid_reference_points() -> None:
    assert scaled_sigmoid(-1.0) == pytest.approx(0.98661, abs=1e-5)
    assert scaled_sigmoid(0.0) == pytest.approx(0.0)
    assert scaled_sigmoid(3.0) == -1.0


def test_null_detector_scores_zero() -> None:
    assert _raw() == pytest.approx(-1.0)
    assert normalised(_raw(), 1, STANDARD) == pytest.approx(0.0)


def test_perfect_detector_scores_hundred() -> None:
    assert _raw(50) == pytest.approx(1.0)
    assert normalised(_raw(50), 1, STANDARD) == pytest.approx(100.0)


def test_early_detection_beats_late_and_only_earliest_counts() -> None:
    early = _sig(5 * 0.6) / MAX_TP  # row 54: position -(59 - 54 + 1) / 10 = -0.6
    late = _sig(5 * 0.1) / MAX_TP  # row 59: position -0.1
    assert _raw(54) == pytest.approx(early)
    assert _raw(59) == pytest.approx(late)
    assert _raw(54, 59) == pytest.approx(early)


def test_false_positive_just_after_window_costs_less_than_far_one() -> None:
    near = 0.11 * _sig(-5 * 2 / 9)  # row 61: |59 - 61| / (10 - 1)
    assert _raw(61) == pytest.approx(-1.0 + near)
    assert _raw(90) == pytest.approx(-1.0 - 0.11)  # >= 3 window widths away: full fpWeight
    assert _raw(20) == pytest.approx(-1.0 - 0.11)  # before any window: full fpWeight
    assert _raw(5) == pytest.approx(-1.0)  # probationary: ignored


def test_sweep_picks_best_threshold_like_nab_optimiser() -> None:
    scores = np.zeros(ROWS)
    scores[50], scores[90] = 0.9, 0.95
    threshold, raw = best_threshold([(scores, sweep_file(ROWS, [WINDOW]))], STANDARD)
    assert threshold == pytest.approx(0.9)
    assert raw == pytest.approx(1.0 - 0.11)


def test_file_figures_reports_raw_false_positives_and_window_rewards() -> None:
    sweep = sweep_file(ROWS, [WINDOW])
    scores = np.zeros(ROWS)
    scores[[30, 52, 90]] = 1.0  # one FP before the window, one hit inside, one FP after it
    figures = file_figures(scores, sweep, 0.5, STANDARD)
    assert figures["false_positives"] == 2
    assert figures["windows"] == [pytest.approx(sweep.unweighted[52] / MAX_TP, abs=1e-3)]
    assert figures["raw"] == pytest.approx(score_at_threshold([(scores, sweep)], 0.5, STANDARD), abs=1e-4)
    assert file_figures(np.zeros(ROWS), sweep, 0.5, STANDARD)["windows"] == [None]
