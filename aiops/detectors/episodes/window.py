"""A metric series' last N samples with the detector's expected value and band, for an episode's evidence.

`RecentSamples` is a fixed-size ring: event time as float64, observed / expected / lower / upper as float32
(NaN: no band; beyond float32: clamped), so a live series costs about 24 bytes per point (~0.85 KB at the
default 30 points). `window()` turns it into the contract's `SampleWindow` (oldest first, values rounded to
6 significant digits to keep the JSON short). `dump`/`load` carry it in the series' snapshot, so a restarted
worker's evidence is what an uninterrupted run gives. It does not decide anything: the tracker records every
scored sample and attaches the window to the signals it emits.
"""

from __future__ import annotations

import math
from array import array

from aiops.signals import SampleWindow, dt_from_epoch

NAN = math.nan
FLOAT32_MAX = 3.4028234663852886e38


def _compact(value: float) -> float | None:
    """6 significant digits; None for NaN (an absent band); a value beyond float32 is kept at its limit (the
    contract's JSON has no infinity)."""
    if math.isnan(value):
        return None
    return float(f"{max(-FLOAT32_MAX, min(FLOAT32_MAX, value)):.6g}")


class RecentSamples:
    """The last `size` (ts, observed, expected, lower, upper) of one series, oldest overwritten first."""

    __slots__ = ("_count", "_next", "_times", "_values", "size")

    def __init__(self, size: int) -> None:
        self.size = size
        self._times = array("d", bytes(8 * size))
        self._values = array("f", bytes(16 * size))  # 4 per point: observed, expected, lower, upper
        self._next = 0
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def record(self, ts: float, observed: float, expected: float | None, lower: float | None,
               upper: float | None) -> None:
        slot = self._next
        self._times[slot] = ts
        base = 4 * slot
        values = self._values
        values[base] = observed
        values[base + 1] = NAN if expected is None else expected
        values[base + 2] = NAN if lower is None else lower
        values[base + 3] = NAN if upper is None else upper
        self._next = slot + 1 if slot + 1 < self.size else 0
        if self._count < self.size:
            self._count += 1

    def _slots(self) -> list[int]:
        """Ring slots of the samples held, oldest first."""
        first = (self._next - self._count) % self.size
        return [(first + offset) % self.size for offset in range(self._count)]

    def dump(self) -> list[list[float | None]]:
        """The samples held, oldest first, each [ts, observed, expected, lower, upper] (None: no band), as the
        ring holds them (float32 values, exact through JSON)."""
        return [[self._times[slot], *(None if math.isnan(value) else value
                                      for value in self._values[4 * slot: 4 * slot + 4])]
                for slot in self._slots()]

    @classmethod
    def load(cls, size: int, samples: list[list[float | None]]) -> RecentSamples:
        """A ring of `size` holding the newest of `samples` (from `dump`; a smaller `size` keeps the newest)."""
        ring = cls(size)
        for ts, observed, expected, lower, upper in samples[-size:]:
            ring.record(float(ts or 0.0), float(observed or 0.0), expected, lower, upper)
        return ring

    def window(self) -> SampleWindow | None:
        """The samples held, oldest first, as the evidence's window; None when empty."""
        if not self._count:
            return None
        slots = self._slots()
        start = self._times[slots[0]]
        columns: list[list[float | None]] = [[], [], [], []]
        for slot in slots:
            for column, value in enumerate(self._values[4 * slot: 4 * slot + 4]):
                columns[column].append(_compact(value))
        observed = [0.0 if value is None else value for value in columns[0]]  # never None: input is finite
        return SampleWindow(start=dt_from_epoch(start), seconds=[round(self._times[slot] - start, 3) for slot in slots],
                            observed=observed, expected=columns[1], lower=columns[2], upper=columns[3])
