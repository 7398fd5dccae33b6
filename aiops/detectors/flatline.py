"""Flat-line detector: a value stuck for longer than the series' own repeat rate makes likely.

`FlatLineDetector` learns the EW probability r that a point repeats the previous value (within a
relative tolerance) and the longest run seen so far L (decayed a little at each new run), and scores a run
of n repeats by ``-log10(r ** (n - L))``: a geometric model of going beyond the longest normal run, already
a calibrated surprise. A series that normally sits still (r near 1) needs a very long
run to be flagged; a noisy gauge that freezes is flagged after a few points. It does not flag constant
series from the start nor any change of level or variance.
"""

from __future__ import annotations

import math
from typing import ClassVar

from aiops.detectors.calibrated import Baseline, CalibratedDetector

_REL_TOLERANCE = 1e-9


class FlatLineDetector(CalibratedDetector):
    """Geometric run-length surprise of repeated values."""

    name: str = "flatline"
    state_fields: ClassVar[tuple[str, ...]] = ("previous", "run", "longest_run", "repeat_rate")
    uses_tail: ClassVar[bool] = False

    def __init__(
        self,
        *,
        rate_alpha: float = 0.005,
        min_repeat_rate: float = 0.02,
        max_repeat_rate: float = 0.999,
        longest_decay: float = 0.9,
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
        return abs(value - self.previous) <= _REL_TOLERANCE * max(abs(value), abs(self.previous), 1.0)

    def _statistic(self, ts: float, value: float) -> tuple[float, Baseline]:
        if not self._repeats(value):
            return 0.0, Baseline(self.previous)
        rate = min(max(self.repeat_rate, self.min_repeat_rate), self.max_repeat_rate)
        beyond = self.run + 1 - self.longest_run
        return max(beyond, 0.0) * -math.log10(rate), Baseline(self.previous)

    def _update(self, ts: float, value: float, statistic: float) -> None:
        if self.count == 0:
            self.previous = value
            return
        repeated = self._repeats(value)
        if not repeated:
            self.longest_run = max(self.longest_run * self.longest_decay, float(self.run))
        self.run = self.run + 1 if repeated else 0
        rate = max(self.rate_alpha, 1.0 / (self.count + 1))
        self.repeat_rate += rate * ((1.0 if repeated else 0.0) - self.repeat_rate)
        self.previous = value
