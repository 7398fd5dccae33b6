"""Pure NAB scorer: the Numenta Anomaly Benchmark's scoring rules on in-memory arrays.

Follows numenta/NAB `nab/sweeper.py` (the scorer and optimiser of NAB v1.1): the first 15% of each file
(at most 750 rows) is probationary and ignored; inside a window a detection is worth
``tpWeight * scaledSigmoid(-(right - i + 1) / width) / scaledSigmoid(-1)`` and only the best (earliest)
detection of a window counts, an undetected window costs ``fnWeight``; a detection outside windows costs
``fpWeight * scaledSigmoid(|i - prevRight| / (prevWidth - 1))`` (relative to the preceding window end, or
the full ``fpWeight`` before any window). The corpus threshold is swept over every distinct anomaly score
as NAB's optimiser does (a point is a detection when its score is >= the threshold), and raw scores are
normalised so that the null detector gets 0 and the perfect detector 100.

It does not read files, run detectors or parse timestamps: see `aiops_eval.nab` for the runner.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

PROBATIONARY_FRACTION = 0.15
PROBATIONARY_CAP_ROWS = 750
NO_DETECTION_THRESHOLD = 1.1
"""NAB's starting threshold: above every score, so nothing is detected."""

OUTSIDE = -1
"""Window id of a scorable row that lies outside every window."""
PROBATIONARY = -2
"""Window id of a row in the probationary period (never scored)."""

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class CostMatrix:
    """One NAB application profile."""

    tp_weight: float
    fp_weight: float
    fn_weight: float

    @classmethod
    def from_profile(cls, profile: dict[str, dict[str, float]]) -> CostMatrix:
        """Build from one entry of NAB's `config/profiles.json`."""
        matrix = profile["CostMatrix"]
        return cls(float(matrix["tpWeight"]), float(matrix["fpWeight"]), float(matrix["fnWeight"]))


@dataclass(frozen=True, slots=True)
class FileSweep:
    """Per-row scoring geometry of one file, independent of the detector and the profile."""

    window_id: IntArray
    """Per row: window index within the file, `OUTSIDE` or `PROBATIONARY`."""
    unweighted: FloatArray
    """Per row: scaled-sigmoid value a detection there would earn (before profile weights)."""
    n_windows: int


def scaled_sigmoid(relative_position: float) -> float:
    """NAB's scaled sigmoid: 0.98661 at -1 (window start), 0 at the window end, -1 from 3 onward."""
    if relative_position >= 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * relative_position)) - 1.0


MAX_TP = scaled_sigmoid(-1.0)


def probationary_length(n_rows: int) -> int:
    """Rows at the start of a file that are never scored."""
    return min(math.floor(PROBATIONARY_FRACTION * n_rows), PROBATIONARY_CAP_ROWS)


def window_indices(
    timestamps: Sequence[float], windows: Sequence[tuple[float, float]]
) -> list[tuple[int, int]]:
    """Map window limits (epoch seconds) to inclusive row-index pairs; empty windows are dropped."""
    indices: list[tuple[int, int]] = []
    for start, end in sorted(windows):
        first = bisect.bisect_left(timestamps, start)
        last = bisect.bisect_right(timestamps, end) - 1
        if first <= last:
            indices.append((first, last))
    return indices


def sweep_file(n_rows: int, windows: Sequence[tuple[int, int]]) -> FileSweep:
    """Classify every row of a file and give the unweighted value of a detection there."""
    window_id = np.full(n_rows, OUTSIDE, dtype=np.int64)
    unweighted = np.full(n_rows, -1.0, dtype=np.float64)
    rows = np.arange(n_rows, dtype=np.float64)
    previous: tuple[int, int] | None = None
    boundaries = [*windows, (n_rows, n_rows)]
    cursor = 0
    for number, (left, right) in enumerate(boundaries):
        if previous is not None:
            prev_right, prev_width = previous
            span = rows[cursor:left]
            with np.errstate(divide="ignore", invalid="ignore"):
                position = np.abs(prev_right - span) / float(prev_width - 1)
            unweighted[cursor:left] = _scaled_sigmoid_array(position)
        if number == len(windows):
            break
        width = right - left + 1
        inside = rows[left : right + 1]
        unweighted[left : right + 1] = _scaled_sigmoid_array(-(right - inside + 1) / float(width))
        window_id[left : right + 1] = number
        previous = (right, width)
        cursor = right + 1
    window_id[: probationary_length(n_rows)] = PROBATIONARY
    return FileSweep(window_id, unweighted, len(windows))


def _scaled_sigmoid_array(position: FloatArray) -> FloatArray:
    clipped = np.where(np.isnan(position), 3.0, position)
    value = 2.0 / (1.0 + np.exp(5.0 * np.minimum(clipped, 3.0))) - 1.0
    result: FloatArray = np.where(clipped >= 3.0, -1.0, value)
    return result


def score_at_threshold(
    files: Sequence[tuple[FloatArray, FileSweep]], threshold: float, cost: CostMatrix
) -> float:
    """Raw NAB score of the corpus when every row with anomaly score >= `threshold` is a detection."""
    total = 0.0
    for scores, sweep in files:
        detected = (scores >= threshold) & (sweep.window_id != PROBATIONARY)
        outside = detected & (sweep.window_id == OUTSIDE)
        total += cost.fp_weight * float(sweep.unweighted[outside].sum())
        for window in range(sweep.n_windows):
            hits = sweep.unweighted[detected & (sweep.window_id == window)]
            total += cost.tp_weight * float(hits.max()) / MAX_TP if hits.size else -cost.fn_weight
    return total


def sweep_thresholds(
    files: Sequence[tuple[FloatArray, FileSweep]], cost: CostMatrix
) -> tuple[FloatArray, FloatArray]:
    """Raw corpus score at every candidate threshold, highest threshold first (NAB's optimiser)."""
    scores, gains, group = _flatten(files, cost)
    n_windows = sum(sweep.n_windows for _, sweep in files)
    order = np.argsort(-scores, kind="stable")
    scores, gains, group = scores[order], gains[order], group[order]
    delta = np.where(group < 0, gains, 0.0)
    for window in np.unique(group[group >= 0]):
        members = np.flatnonzero(group == window)
        best = np.maximum.accumulate(gains[members])
        previous = np.concatenate(([-np.inf], best[:-1]))
        first = np.isneginf(previous)
        delta[members] = np.where(first, best + cost.fn_weight, best - previous)
    running = -cost.fn_weight * n_windows + np.cumsum(delta)
    last_of_tie = np.append(scores[1:] != scores[:-1], True)
    thresholds = np.concatenate(([NO_DETECTION_THRESHOLD], scores[last_of_tie]))
    totals = np.concatenate(([-cost.fn_weight * n_windows], running[last_of_tie]))
    return thresholds, totals


def best_threshold(files: Sequence[tuple[FloatArray, FileSweep]], cost: CostMatrix) -> tuple[float, float]:
    """(threshold, raw score) maximising the corpus score; ties go to the higher threshold like NAB."""
    thresholds, totals = sweep_thresholds(files, cost)
    best = int(np.argmax(totals))
    return float(thresholds[best]), float(totals[best])


def _flatten(
    files: Sequence[tuple[FloatArray, FileSweep]], cost: CostMatrix
) -> tuple[FloatArray, FloatArray, IntArray]:
    all_scores: list[FloatArray] = []
    all_gains: list[FloatArray] = []
    all_groups: list[IntArray] = []
    offset = 0
    for scores, sweep in files:
        keep = sweep.window_id != PROBATIONARY
        ids = sweep.window_id[keep]
        inside = ids >= 0
        weights = np.where(inside, cost.tp_weight / MAX_TP, cost.fp_weight)
        all_scores.append(np.asarray(scores, dtype=np.float64)[keep])
        all_gains.append(sweep.unweighted[keep] * weights)
        all_groups.append(np.where(inside, ids + offset, OUTSIDE))
        offset += sweep.n_windows
    if not all_scores:
        empty = np.zeros(0)
        return empty, empty, np.zeros(0, dtype=np.int64)
    return np.concatenate(all_scores), np.concatenate(all_gains), np.concatenate(all_groups)


def normalised(raw: float, n_windows: int, cost: CostMatrix) -> float:
    """100 * (raw - null) / (perfect - null), null = -fnWeight per window, perfect = tpWeight per window."""
    null = -cost.fn_weight * n_windows
    perfect = cost.tp_weight * n_windows
    if perfect == null:
        return 0.0
    return 100.0 * (raw - null) / (perfect - null)
