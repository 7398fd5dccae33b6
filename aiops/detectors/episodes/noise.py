"""A series' point-to-point noise scale, for the episode tracker's significance gate and recovery rule.

`NoiseScale` keeps an EW mean of the absolute difference of consecutive values, each difference clipped
at a multiple of the current mean (a spike does not inflate it), and reads it as a Gaussian sigma. It is
not a detector: it says how far "far" is for one series. Pure state, no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

NOISE_WARMUP = 30
"""Differences a series' noise scale needs before it gates anything."""
_MEAN_ABS_DIFF_PER_SIGMA = 2.0 / math.sqrt(math.pi)
"""E|x_t - x_t-1| / sigma for independent Gaussian noise."""
_NOISE_CLIP = 6.0
"""A difference counts at most this many times the current mean (a spike does not inflate the noise)."""


@dataclass(slots=True)
class NoiseScale:
    """A series' point-to-point noise: EW mean absolute difference of consecutive values, as a sigma."""

    mean_abs_diff: float = 0.0
    count: int = 0
    previous: float = 0.0

    @property
    def sigma(self) -> float | None:
        """Noise sigma, or None while warming up."""
        return self.mean_abs_diff / _MEAN_ABS_DIFF_PER_SIGMA if self.count > NOISE_WARMUP else None

    def learn(self, value: float) -> None:
        if self.count:
            difference = abs(value - self.previous)
            mean = self.mean_abs_diff
            if self.count > 3 and mean > 0.0 and difference > _NOISE_CLIP * mean:
                difference = _NOISE_CLIP * mean
            rate = 1.0 / (self.count + 1)
            self.mean_abs_diff = mean + (rate if rate > 0.01 else 0.01) * (difference - mean)
        self.count += 1
        self.previous = value

    def dump(self) -> dict[str, float | int]:
        """`dataclasses.asdict(self)`, written out: a snapshot per series and checkpoint made asdict's ~5 µs
        count (its fields are plain numbers, so there is nothing to copy deeply)."""
        return {"mean_abs_diff": self.mean_abs_diff, "count": self.count, "previous": self.previous}
