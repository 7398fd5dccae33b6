"""Vectorised `HeldStatistic` (confirmation): the smallest raw statistic of a member's last N points.

`HeldColumns` keeps, for a member built with `confirm_points` N > 1, each series' last N - 1 raw
statistics (`recent`, oldest first) in an `[series, N - 1]` array outside the block, and their number and
running minimum (`held`, infinity while empty) in the block. `confirmed` is the member's `judge` step
(``held if held < statistic else statistic``) and `remember` its `_remember`: append, drop the oldest once
N - 1 are kept, lower `held` to the newest or, when the minimum itself leaves, recompute it left to right
as `min` does; so it matches the scalar mixin bit for bit, NaN included. A member built without
`confirm_points` (or N = 1) keeps nothing and every method leaves the statistic alone. No I/O.
"""

from __future__ import annotations

import math

import numpy as np

from aiops.detectors.metric.bank.layout import Array, Column, Index, Layout, Mask, where
from aiops.detectors.metric.calibrated import CalibratedDetector
from aiops.detectors.metric.confirm import HeldStatistic


class HeldColumns:
    """A member's confirmation state over a block: rows `recent_count` and `held`, plus the `recent` array."""

    def __init__(self, layout: Layout, label: str, component: CalibratedDetector) -> None:
        self.kept = max(component.confirm_points - 1, 0) if isinstance(component, HeldStatistic) else 0
        self.count = layout.add(f"{label}.recent_count", 0.0)
        self.held = layout.add(f"{label}.held", component.held if isinstance(component, HeldStatistic) else math.inf)
        self.recent: Array = np.zeros((0, self.kept))

    def grow(self, capacity: int) -> None:
        grown = np.zeros((capacity, self.kept))
        grown[: self.recent.shape[0]] = self.recent
        self.recent = grown

    def confirmed(self, block: Array, statistic: Array) -> Array:
        """The statistic the member scores: the raw one, or the held minimum when that is smaller."""
        if not self.kept:
            return statistic
        held = block[self.held]
        return where(held < statistic, held, statistic)

    def remember(self, block: Array, series: Index, latest: Array, later: Mask) -> None:
        """`HeldStatistic._remember(latest)` for the columns in `later` (the others keep their state)."""
        if not self.kept:
            return
        count, held = block[self.count], block[self.held]
        full = later & (count + 1 > self.kept)
        shifted = series[full]
        popped = self.recent[shifted, 0]
        self.recent[shifted, :-1] = self.recent[shifted, 1:]
        self.recent[shifted, -1] = latest[full]
        growing = later & ~full
        self.recent[series[growing], count[growing].astype(np.intp)] = latest[growing]
        block[self.count] = where(growing, count + 1, count)
        left = np.zeros(full.size, bool)
        left[np.flatnonzero(full)] = popped == held[full]
        lowered = where(later & ~left & (latest < held), latest, held)
        if left.any():
            window = self.recent[series[left]]
            smallest = window[:, 0]
            for position in range(1, self.kept):
                smallest = where(window[:, position] < smallest, window[:, position], smallest)
            lowered[left] = smallest
        block[self.held] = lowered

    def recent_of(self, series: int, column: Column) -> list[float]:
        """One series' `recent` statistics, oldest first."""
        recent: list[float] = self.recent[series, : int(column[self.count])].tolist()
        return recent

    def export(self, series: int, column: Array, component: CalibratedDetector) -> None:
        """Write one series' confirmation state into a scalar member (when it has confirmation)."""
        if isinstance(component, HeldStatistic):
            component.recent = self.recent_of(series, column)
            component.held = float(column[self.held])

    def load(self, series: int, column: Array, component: CalibratedDetector) -> None:
        """Read one series' confirmation state from a scalar member (none when it has no confirmation)."""
        recent: list[float] = []
        held = math.inf
        if isinstance(component, HeldStatistic):
            recent, held = list(component.recent), component.held
        if len(recent) > self.kept:
            raise ValueError(f"member state holds {len(recent)} recent statistics, the bank {self.kept}")
        if self.kept and series >= 0:  # series -1: the bank's fresh template column, no array row
            self.recent[series, : len(recent)] = recent
        column[self.count] = len(recent)
        column[self.held] = held
