"""Flat-line detector: a value stuck for longer than the series' own repeat rate makes likely.

`FlatLineDetector` learns the EW probability r that a point repeats the previous value (within a
relative tolerance) and the longest run seen so far L (decayed by 1% at each point that does not repeat,
a half-life of ~70 changing points, so a metric that idles in long stretches between short bursts keeps its
longest idle stretch as normal), and scores a run
of n repeats by ``-log10(r ** (n - L))``: a geometric model of going beyond the longest normal run, already
a calibrated surprise. A series that normally sits still (r near 1) needs a very long
run to be flagged; a noisy gauge that freezes is flagged after a few points. It does not flag constant
series from the start nor any change of level or variance.
"""

# ruff: noqa: PLR1730  # hot path: explicit comparisons instead of min()/max() calls, same results incl. NaN

from __future__ import annotations

import math
from typing import ClassVar

from aiops.detectors.metric.calibrated import CalibratedDetector, Judgement

REPEAT_TOLERANCE = 1e-9
"""A point repeats the previous value when they differ by at most this share of the larger (at least 1)."""


class FlatLineDetector(CalibratedDetector):
    """Geometric run-length surprise of repeated values."""

    name: str = "flatline"
    state_fields: ClassVar[tuple[str, ...]] = ("previous", "run", "longest_run", "repeat_rate")
    uses_tail: ClassVar[bool] = False
    lazy_statistic: ClassVar[bool] = True
    describes_shape: ClassVar[bool] = True

    def __init__(
        self,
        *,
        rate_alpha: float = 0.005,
        min_repeat_rate: float = 0.02,
        max_repeat_rate: float = 0.999,
        longest_decay: float = 0.99,
        warmup_points: int = 100,
    ) -> None:
        super().__init__(warmup_points)
        self.longest_decay = longest_decay
        self.rate_alpha = rate_alpha
        self.min_repeat_rate = min_repeat_rate
        self.max_repeat_rate = max_repeat_rate
        self.previous = 0.0
        self.run = 0
        self.longest_run = 0.0
        self.repeat_rate = 0.5

    def _repeats(self, value: float) -> bool:
        """Same value as the previous point within the relative tolerance (same NaN/inf rules as `max`)."""
        previous = self.previous
        largest = abs(value)
        if abs(previous) > largest:
            largest = abs(previous)
        if largest < 1.0:
            largest = 1.0
        return abs(value - previous) <= REPEAT_TOLERANCE * largest

    def judge(self, ts: float, value: float) -> Judgement:
        if not self._repeats(value):
            return 0.0, self.previous, None
        rate = min(max(self.repeat_rate, self.min_repeat_rate), self.max_repeat_rate)
        beyond = self.run + 1 - self.longest_run
        return max(beyond, 0.0) * -math.log10(rate), self.previous, None

    def absorb(self, ts: float, value: float, statistic: float | None) -> None:
        count = self.count  # the statistic is the surprise itself: no tail to feed
        if count:
            repeated = self._repeats(value)
            if repeated:
                self.run += 1
            else:
                decayed = self.longest_run * self.longest_decay
                self.longest_run = float(self.run) if float(self.run) > decayed else decayed
                self.run = 0
            rate = self.rate_alpha
            if 1.0 / (count + 1) > rate:
                rate = 1.0 / (count + 1)
            self.repeat_rate += rate * ((1.0 if repeated else 0.0) - self.repeat_rate)
        self.previous = value
        self.count = count + 1
        self.ready = count + 1 >= self.warmup_points
        self._cache = None
