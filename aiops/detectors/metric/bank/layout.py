"""Column layout of the micro-batched ensemble's state: one float64 row per state field, one column per series.

`Layout` hands out row numbers for named fields (a member's `count`, its tail's `quantile`, ...); the
bank stores a `[fields, series]` float64 matrix (struct of arrays), gathers the columns of one round's
series into a `[fields, m]` block, works on whole rows of that block and scatters it back. Integer and
boolean fields are kept as float64 too (exact below 2**53), so one gather moves a series' whole state.
`TailColumns` is the vectorised `PeaksOverThreshold` (surprise and learn on a block) plus a pool for the
initial batches of tails that are not fitted yet; the batch fit itself runs the scalar
`PeaksOverThreshold` per series (once per tail and series), so it is identical by construction.
This module does not know the ensemble's members (see `members.py`) and does no I/O.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import numpy.typing as npt

from aiops.detectors.metric.tail import MAX_SURPRISE, PeaksOverThreshold

Array = npt.NDArray[np.float64]
Index = npt.NDArray[np.intp]
Mask = npt.NDArray[np.bool_]
Column = Array | list[float]
"""One series' state column, as an array or (read faster per field) as a list."""
_LOG10_E = math.log10(math.e)


class Layout:
    """Row numbers of named state fields, and each field's value in a fresh detector."""

    def __init__(self) -> None:
        self.rows: dict[str, int] = {}
        self.fresh: list[float] = []

    def add(self, name: str, fresh: float) -> int:
        """Register `name` (unique) with its initial value; returns its row."""
        if name in self.rows:
            raise ValueError(f"duplicate state field {name}")
        self.rows[name] = len(self.fresh)
        self.fresh.append(float(fresh))
        return self.rows[name]

    @property
    def size(self) -> int:
        return len(self.fresh)


def where(condition: Mask, yes: Array | float, no: Array | float) -> Array:
    """`np.where` typed as float rows."""
    return np.where(condition, yes, no).astype(np.float64, copy=False)


class TailColumns:
    """`PeaksOverThreshold` over a block: rows quantile, excess, fitted, log_scale, pool slot, batch length."""

    def __init__(self, layout: Layout, prefix: str, prototype: PeaksOverThreshold) -> None:
        self.prototype = copy.deepcopy(prototype)
        fresh = copy.deepcopy(prototype)
        self.quantile = layout.add(f"{prefix}.quantile", fresh.quantile)
        self.excess = layout.add(f"{prefix}.excess", fresh.excess)
        self.fitted = layout.add(f"{prefix}.fitted", fresh.fitted)
        self.log_scale = layout.add(f"{prefix}.log_scale", fresh.log_scale)
        self.slot = layout.add(f"{prefix}.slot", -1.0)
        self.length = layout.add(f"{prefix}.length", len(fresh.batch))
        self.rate, self.tail_fraction = prototype.rate, prototype.tail_fraction
        self.keep = 1.0 - prototype.tail_fraction
        self.min_excess, self.excess_cap = prototype.min_excess, prototype.excess_cap
        self.quantile_surprise = prototype.quantile_surprise
        self.width = prototype.init_points
        self.pool: Array = np.zeros((0, max(self.width, 1)))
        self.free: list[int] = []

    def surprise(self, block: Array, statistic: Array) -> Array:
        """`PeaksOverThreshold.surprise` per column (0 where not fitted)."""
        tailed = self._scaled(block, statistic)
        quantile, excess = block[self.quantile], block[self.excess]
        below = tailed <= quantile
        low = where(quantile > 0, self.quantile_surprise * tailed / quantile, 0.0)
        high = self.quantile_surprise + _LOG10_E * (tailed - quantile) / excess
        high = where(high > MAX_SURPRISE, MAX_SURPRISE, high)
        return where(block[self.fitted] != 0, where(below, low, high), 0.0)

    def _scaled(self, block: Array, statistic: Array) -> Array:
        logged = block[self.log_scale] != 0
        if not logged.any():
            return statistic
        tailed = statistic.copy()
        tailed[logged] = np.log1p(statistic[logged])
        return tailed

    def learn(self, block: Array, series: Index, statistic: Array, mask: Mask) -> None:
        """`PeaksOverThreshold.learn(statistic)` for the columns in `mask`; `series` maps columns to series."""
        fitted = block[self.fitted] != 0
        online = mask & fitted
        if online.any():
            self._learn_fitted(block, statistic, online)
        collecting = mask & ~fitted
        if collecting.any():
            self._collect(block, series, statistic, np.flatnonzero(collecting))

    def _learn_fitted(self, block: Array, statistic: Array, online: Mask) -> None:
        tailed = self._scaled(block, statistic)
        quantile, excess = block[self.quantile], block[self.excess]
        exceeded = tailed > quantile
        moved = quantile + self.rate * excess * where(exceeded, self.keep, -self.tail_fraction)
        moved = where(moved < 0.0, 0.0, moved)
        capped = tailed - moved
        cap = self.excess_cap * excess
        capped = where(cap < capped, cap, capped)
        grown = excess + self.rate * (capped - excess)
        grown = where(self.min_excess > grown, self.min_excess, grown)
        block[self.quantile] = where(online, moved, quantile)
        block[self.excess] = where(online & exceeded, grown, excess)

    def _collect(self, block: Array, series: Index, statistic: Array, columns: Index) -> None:
        """Append to the initial batches; a batch that fills up is fitted by the scalar tail."""
        lengths = block[self.length, columns]
        full = lengths + 1 >= self.width
        for column in columns[full]:
            self._fit(block, int(column), float(statistic[column]))
        appending = columns[~full]
        if appending.size == 0:
            return
        slots = block[self.slot, appending]
        for position in np.flatnonzero(slots < 0):
            slots[position] = self._allocate()
        block[self.slot, appending] = slots
        tailed = self._scaled(block[:, appending], statistic[appending])
        self.pool[slots.astype(np.intp), lengths[~full].astype(np.intp)] = tailed
        block[self.length, appending] = lengths[~full] + 1

    def _fit(self, block: Array, column: int, last: float) -> None:
        """The scalar tail learns the batch's last point (and fits), then its state goes back to the block."""
        tail = copy.deepcopy(self.prototype)
        tail.load(self.state(block[:, column]))
        tail.learn(last)
        self.load(block[:, column], tail)

    def _allocate(self) -> int:
        if not self.free:
            old = self.pool.shape[0]
            grown = np.zeros((max(2 * old, 64), self.pool.shape[1]))
            grown[:old] = self.pool
            self.pool = grown
            self.free = list(range(grown.shape[0] - 1, old - 1, -1))
        return self.free.pop()

    def _release(self, slot: int) -> None:
        self.free.append(slot)
        if len(self.free) == self.pool.shape[0]:  # nothing collecting: give the pool back
            self.pool = np.zeros((0, self.pool.shape[1]))
            self.free = []

    def state(self, column: Column) -> dict[str, Any]:
        """One series' tail state from its `column`, in `PeaksOverThreshold.snapshot` form (for `load`)."""
        slot, length = int(column[self.slot]), int(column[self.length])
        return {
            "batch": self.pool[slot, :length].tolist() if slot >= 0 else [],
            "quantile": float(column[self.quantile]),
            "excess": float(column[self.excess]),
            "fitted": bool(column[self.fitted]),
            "log_scale": bool(column[self.log_scale]),
        }

    def load(self, column: Array, tail: PeaksOverThreshold) -> None:
        """Overwrite one series' `column` with a scalar tail's state (batch into the pool)."""
        column[self.quantile] = tail.quantile
        column[self.excess] = tail.excess
        column[self.fitted] = tail.fitted
        column[self.log_scale] = tail.log_scale
        slot = int(column[self.slot])
        if tail.batch and slot < 0:
            slot = self._allocate()
        elif not tail.batch and slot >= 0:
            self._release(slot)
            slot = -1
        if tail.batch:
            if len(tail.batch) > self.width:
                raise ValueError("tail batch longer than its initial batch size")
            self.pool[slot, : len(tail.batch)] = tail.batch
        column[self.slot] = slot
        column[self.length] = len(tail.batch)

    def reset(self, column: Array) -> None:
        """Fresh tail state for one series (its pool slot released)."""
        self.load(column, copy.deepcopy(self.prototype))
