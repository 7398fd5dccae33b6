"""What `EnsembleBank.process` returns: per point of a micro-batch, the parts of `MetricEnsemble.score`.

`BankScores` holds numpy columns (score, undamped, warm, expected/lower/upper with masks saying None,
surprise, source and mode for the detail text and the shape flag) and builds the scalar ensemble's very
`PointScore` for one point (`point`) or all (`points`, one pass over Python lists). It computes nothing
itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aiops.detectors.base import NON_FINITE_DETAIL, PointScore, point_score
from aiops.detectors.metric.bank.layout import Array, Index, Mask
from aiops.detectors.metric.ensemble import COUNTER, GAUGE, UNKNOWN

MODES = (UNKNOWN, GAUGE, COUNTER)
"""Mode names by their code in the bank's state."""


@dataclass(frozen=True, slots=True)
class BankScores:
    """Per point of a micro-batch, the parts of `MetricEnsemble.score`'s `PointScore` (NaN-free masks say None)."""

    score: Array
    undamped: Array
    has_undamped: Mask
    warm: Mask
    expected: Array
    has_expected: Mask
    lower: Array
    upper: Array
    has_band: Mask
    surprise: Array
    source: Index
    mode: Index
    labels: tuple[str, ...]
    """Source names by code (0: none)."""
    shapes: tuple[bool, ...]
    """By source code: that source measures the series' shape (`PointScore.shape`)."""
    ignored: Mask
    """The value was NaN/inf: not scored nor learnt (`non_finite_point`)."""

    def detail(self, point: int) -> str:
        if self.ignored[point]:
            return NON_FINITE_DETAIL
        return f"{self.labels[self.source[point]]} surprise={self.surprise[point]:.2f} mode={MODES[self.mode[point]]}"

    def point(self, point: int) -> PointScore:
        """The `PointScore` the scalar ensemble gives this point."""
        expected = float(self.expected[point]) if self.has_expected[point] else None
        band = self.has_band[point]
        return point_score(
            float(self.score[point]),
            expected,
            float(self.lower[point]) if band else None,
            float(self.upper[point]) if band else None,
            bool(self.warm[point]),
            self.detail(point),
            float(self.undamped[point]) if self.has_undamped[point] else None,
            self.shapes[self.source[point]],
        )

    def points(self) -> list[PointScore]:
        """Every point's `PointScore`, as `point` gives it, built in one pass over Python lists (faster)."""
        labels, shapes, make = self.labels, self.shapes, point_score
        columns = (
            self.score, self.expected, self.has_expected, self.lower, self.upper, self.has_band, self.warm,
            self.source, self.surprise, self.mode, self.undamped, self.has_undamped, self.ignored,
        )  # fmt: skip
        points: list[PointScore] = []
        append = points.append
        for row in zip(*(column.tolist() for column in columns), strict=True):
            score, expected, has_expected, lower, upper, band, warm, source, surprise, mode, undamped, damped, nan = row
            detail = NON_FINITE_DETAIL if nan else f"{labels[source]} surprise={surprise:.2f} mode={MODES[mode]}"
            if not has_expected:
                expected = None
            if not band:
                lower = upper = None
            append(make(score, expected, lower, upper, warm, detail, undamped if damped else None, shapes[source]))
        return points


def empty_scores(size: int, labels: tuple[str, ...], shapes: tuple[bool, ...]) -> BankScores:
    """Zeroed scores of `size` points, for `EnsembleBank.process` to fill."""
    floats = [np.zeros(size) for _ in range(6)]
    masks = [np.zeros(size, bool) for _ in range(4)]
    return BankScores(
        score=floats[0], undamped=floats[1], has_undamped=masks[0], warm=masks[1], expected=floats[2],
        has_expected=masks[2], lower=floats[3], upper=floats[4], has_band=masks[3], surprise=floats[5],
        source=np.zeros(size, np.intp), mode=np.zeros(size, np.intp), labels=labels, shapes=shapes,
        ignored=np.zeros(size, bool),
    )  # fmt: skip
