"""Trend and drift detector: EWMA control chart of a fast mean against a slow mean.

`DriftDetector` keeps a fast and a slow EWMA of the value; their gap is small and centred while the
series is stable and grows steadily under a drift or a sustained shift. The gap is standardised by its
own slowly-learnt centre and mean absolute deviation (self-normalising, so autocorrelated series are not
over-flagged) and scored through the peaks-over-threshold tail. With `confirm_points` N > 1 the statistic
(scored and fed to the tail) is the smallest standardised gap of the last N points, this one included
(`HeldStatistic`): an excursion must hold for N points, about the gap's memory (1 / `fast_alpha`), before
it counts, so the short excursions the gap makes on noise stop alerting while a drift, which keeps the
gap open, is reported N points later. It reacts slowly by design and does not catch single spikes (the
level detector does).
"""

# ruff: noqa: PLR1730  # hot path: explicit comparisons instead of min()/max() calls, same results incl. NaN

from __future__ import annotations

from typing import ClassVar

from aiops.detectors.metric.calibrated import CalibratedDetector, Judgement
from aiops.detectors.metric.confirm import HeldStatistic
from aiops.detectors.metric.level import ABS_SCALE_FLOOR, REL_SCALE_FLOOR
from aiops.detectors.metric.tail import PeaksOverThreshold

_NAN = float("nan")


class DriftDetector(HeldStatistic, CalibratedDetector):
    """Standardised gap between a fast and a slow EWMA."""

    name: str = "drift"
    state_fields: ClassVar[tuple[str, ...]] = ("fast", "slow", "gap_centre", "gap_scale", "recent")
    lazy_statistic: ClassVar[bool] = True

    def __init__(
        self,
        *,
        fast_alpha: float = 0.05,
        slow_alpha: float = 0.005,
        gap_alpha: float = 0.002,
        clip: float = 4.0,
        warmup_points: int = 100,
        confirm_points: int = 1,
        tail: PeaksOverThreshold | None = None,
    ) -> None:
        # The gap is strongly autocorrelated: its tail must adapt slowly or a drift calibrates itself away.
        super().__init__(warmup_points, tail if tail is not None else PeaksOverThreshold(rate=0.005))
        self.fast_alpha = fast_alpha
        self.slow_alpha = slow_alpha
        self.gap_alpha = gap_alpha
        self.clip = clip
        self.fast = 0.0
        self.slow = 0.0
        self.gap_centre = 0.0
        self.gap_scale = 0.0
        self._init_held(confirm_points)

    def judge(self, ts: float, value: float) -> Judgement:
        fast = self.fast
        slow = self.slow
        gap = (fast + self.fast_alpha * (value - fast)) - (slow + self.slow_alpha * (value - slow))
        scale = abs(slow) * REL_SCALE_FLOOR
        if scale < ABS_SCALE_FLOOR:
            scale = ABS_SCALE_FLOOR
        if not self.gap_scale < scale:  # max(gap_scale, floor) keeps gap_scale unless floor is larger
            scale = self.gap_scale
        statistic = abs(gap - self.gap_centre) / scale
        held = self.held
        return (held if held < statistic else statistic), slow, None

    def absorb(self, ts: float, value: float, statistic: float | None) -> None:  # noqa: PLR0912, PLR0915 - hot path, one frame
        count = self.count
        if self.ready:
            if statistic is None:
                statistic = self.judge(ts, value)[0] if count else 0.0
            self.tail.learn(statistic)
        if count == 0:
            self.fast = self.slow = value
        else:
            fast = self.fast
            slow = self.slow
            gap = (fast + self.fast_alpha * (value - fast)) - (slow + self.slow_alpha * (value - slow))
            if self.confirm_points > 1:
                held_scale = abs(slow) * REL_SCALE_FLOOR  # judge's scale: the slow mean before this point
                if held_scale < ABS_SCALE_FLOOR:
                    held_scale = ABS_SCALE_FLOOR
                if not self.gap_scale < held_scale:
                    held_scale = self.gap_scale
                latest = abs(gap - self.gap_centre) / held_scale if held_scale else _NAN  # 0: slow is NaN
                recent = self.recent  # inlined on purpose: a shared method cost the ensemble ~8% (52.9k vs 57.7k pts/s)
                recent.append(latest)
                held = self.held
                if len(recent) >= self.confirm_points and recent.pop(0) == held:
                    self.held = min(recent)  # the minimum left the window
                elif latest < held:
                    self.held = latest
            self.fast = fast + self.fast_alpha * (value - fast)
            step = self.slow_alpha
            if 1.0 / (count + 1) > step:
                step = 1.0 / (count + 1)
            slow = slow + step * (value - slow)
            self.slow = slow
            centre = self.gap_centre
            deviation = gap - centre
            scale = abs(slow) * REL_SCALE_FLOOR
            if scale < ABS_SCALE_FLOOR:
                scale = ABS_SCALE_FLOOR
            if not self.gap_scale < scale:
                scale = self.gap_scale
            if count > self.warmup_points:
                bound = self.clip * scale
                if bound < deviation:  # min(deviation, bound)
                    deviation = bound
                if not deviation > -bound:  # max(-bound, ...), which keeps -bound unless strictly exceeded
                    deviation = -bound
            rate = self.gap_alpha
            if 1.0 / count > rate:
                rate = 1.0 / count
            self.gap_centre = centre + rate * deviation
            self.gap_scale += rate * (abs(deviation) - self.gap_scale)
        self.count = count + 1
        self.ready = count + 1 >= self.warmup_points
        self._cache = None
