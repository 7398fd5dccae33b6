"""Seasonal detector: residual against a time-of-day profile, with a weekly correction where the data has one.

`SeasonalDetector` splits the period (e.g. 86400 s) into buckets by event time, keeps an EW mean of the
de-levelled value per bucket plus a fast EW level offset, and scores the robust z of
``value - (profile[bucket] + offset)`` through the peaks-over-threshold tail. It only scores after a full
period has been seen and once `buckets` points have landed in a bucket visited before (on 30-min or
hourly series each bucket's first visit fits the profile exactly, so without that wait the scale and
the tail would be fitted on zero residuals and the member would never fire).

Weekly seasonality is a correction on top, per time-of-week block (`week_buckets`, 7 days x 3 hours by
default), turned on only while it predicts the daily model's residuals clearly better than a correction
without day-of-week knowledge (`weekly_gain`; how: `SeasonalDetector`): a weekend dip stops looking
unusual and the band tightens. A series without a weekly pattern never turns it on. Memory: one float
per daily bucket and two per weekly block. It does not detect other periods.
"""

# ruff: noqa: PLR1730  # hot path: explicit comparisons instead of min()/max() calls, same results incl. NaN

from __future__ import annotations

from typing import Any, ClassVar

from aiops.detectors.metric.calibrated import CalibratedDetector, Judgement
from aiops.detectors.metric.level import ABS_SCALE_FLOOR, BAND, REL_SCALE_FLOOR
from aiops.detectors.metric.tail import PeaksOverThreshold

WEEK_SECONDS = 7 * 86400.0
WEEKS_BEFORE_WEEKLY = 2
"""Weeks of data before the weekly correction may join the expected value."""
_WEEKLY_AFTER = WEEKS_BEFORE_WEEKLY * WEEK_SECONDS
_ADDED_FIELDS = {  # state fields added after the first snapshots, with the value an older snapshot implies
    "seasoned": None,
    "week": None,
    "week_visits": None,
    "daily_error": 0.0,
    "weekly_error": 0.0,
    "open_block": -1,
    "open_day_mean": 0.0,
    "open_sum": 0.0,
    "open_count": 0,
    "week_from": None,
}


class SeasonalDetector(CalibratedDetector):
    """Robust z of the value against a per-bucket seasonal profile plus level offset (and weekly correction).

    The weekly correction is, per time-of-week block, the mean of the daily model's residuals, folded in
    once per finished visit (so it only holds earlier weeks). Two out-of-sample errors are tracked: the
    daily residual against the weekly correction, and against the same correction averaged over the days
    of the week (what a correction without day-of-week knows). After two weeks of it (from the first point,
    or from restoring a snapshot taken before it existed), while the first is at most `weekly_gain` of the
    second, the weekly correction joins the expected value.
    """

    name: str = "seasonal"
    state_fields: ClassVar[tuple[str, ...]] = (
        "first_ts",
        "last_ts",
        "offset",
        "scale",
        "profile",
        "visits",
        "seasoned",
        "week",
        "week_visits",
        "daily_error",
        "weekly_error",
        "open_block",
        "open_day_mean",
        "open_sum",
        "open_count",
        "week_from",
    )
    lazy_statistic: ClassVar[bool] = True

    def __init__(
        self,
        *,
        period_seconds: float = 86400.0,
        buckets: int = 48,
        profile_alpha: float = 0.1,
        offset_alpha: float = 0.1,
        scale_alpha: float = 0.01,
        clip: float = 4.0,
        tail: PeaksOverThreshold | None = None,
        week_buckets: int = 56,
        week_alpha: float = 0.3,
        weekly_gain: float = 0.8,
        error_alpha: float = 0.01,
    ) -> None:
        super().__init__(warmup_points=2, tail=tail)
        if week_buckets <= 0 or week_buckets % 7:
            raise ValueError(f"week_buckets must be a positive multiple of 7 (days), got {week_buckets}")
        self.period_seconds = period_seconds
        self.buckets = buckets
        self.profile_alpha = profile_alpha
        self.offset_alpha = offset_alpha
        self.scale_alpha = scale_alpha
        self.clip = clip
        self.first_ts = 0.0
        self.last_ts = 0.0
        self.offset = 0.0
        self.scale = 0.0
        self.profile = [0.0] * buckets
        self.visits = [0] * buckets
        self.seasoned = 0
        """Points that landed in a bucket visited before (their residual says something about the scale)."""
        self.week_buckets = week_buckets
        self.week_alpha = week_alpha
        """EW rate per week of a block's correction (1/n over the first weeks)."""
        self.weekly_gain = weekly_gain
        self.error_alpha = error_alpha
        self.week = [0.0] * week_buckets
        self.week_visits = [0] * week_buckets
        """Weeks folded into each block's correction."""
        self.daily_error = 0.0
        """EW mean clipped |daily residual - the block's correction averaged over the days of the week|."""
        self.weekly_error = 0.0
        """EW mean clipped |daily residual - the block's weekly correction|."""
        self.open_block = -1
        self.open_day_mean = 0.0
        """The open block's correction averaged over the days of the week, as of the visit's start."""
        self.open_sum = 0.0
        self.open_count = 0
        """The weekly block being visited and its daily residuals so far (folded in when the visit ends)."""
        self.week_from = 0.0
        """Event time the weekly correction started learning (the first point, or the restore of a snapshot
        from before it): the two weeks count from here."""
        self.weekly = False
        """The weekly correction is part of the expected value (derived; refreshed after every change)."""
        self.ready = False

    def _bucket(self, ts: float) -> int:
        period = self.period_seconds
        buckets = self.buckets
        return int((ts % period) / period * buckets) % buckets

    def _ready(self) -> bool:
        return self.count > 0 and self._covered_period and self.seasoned >= self.buckets

    @property
    def _covered_period(self) -> bool:
        return self.last_ts - self.first_ts >= self.period_seconds

    def judge(self, ts: float, value: float) -> Judgement:
        period = self.period_seconds
        buckets = self.buckets
        expected = self.profile[int((ts % period) / period * buckets) % buckets] + self.offset
        if self.weekly:
            expected += self.week[int((ts % WEEK_SECONDS) / WEEK_SECONDS * self.week_buckets) % self.week_buckets]
        scale = abs(expected) * REL_SCALE_FLOOR
        if scale < ABS_SCALE_FLOOR:
            scale = ABS_SCALE_FLOOR
        if not self.scale < scale:  # max(self.scale, floor) keeps self.scale unless floor is larger
            scale = self.scale
        return abs(value - expected) / scale, expected, BAND * scale

    def absorb(self, ts: float, value: float, statistic: float | None) -> None:
        count = self.count
        if self.ready:
            if statistic is None:
                statistic = self.judge(ts, value)[0] if count else 0.0
            self.tail.learn(statistic)
        self.last_ts = ts
        if count == 0:
            self.first_ts = ts
            self.week_from = ts
            self.offset = value
        offset = self.offset
        profile = self.profile
        period = self.period_seconds
        bucket = int((ts % period) / period * self.buckets) % self.buckets
        seasonal = value - offset
        visits = self.visits[bucket]
        block = int((ts % WEEK_SECONDS) / WEEK_SECONDS * self.week_buckets) % self.week_buckets
        correction = self.week[block]
        if visits and count:
            self.seasoned += 1
            self._track_week(block, seasonal - profile[bucket], correction)
        if visits == 0:
            profile[bucket] = seasonal
        else:
            rate = self.profile_alpha
            if 1.0 / (visits + 1) > rate:
                rate = 1.0 / (visits + 1)
            profile[bucket] += rate * (seasonal - profile[bucket])
        self.visits[bucket] = visits + 1
        residual = value - profile[bucket] - offset
        if self.weekly:
            residual -= correction
        offset += self.offset_alpha * residual
        self.offset = offset
        covered = ts - self.first_ts >= period  # last_ts is ts
        seasoned = self.seasoned >= self.buckets
        self._learn_scale(abs(residual), offset, count, clip=covered and seasoned)
        self.count = count + 1
        self.ready = covered and seasoned  # and count > 0
        self.weekly = (  # `_weekly_fits`, inlined (once per point)
            ts - self.week_from >= _WEEKLY_AFTER and self.weekly_error < self.weekly_gain * self.daily_error
        )
        self._cache = None

    def _learn_scale(self, deviation: float, offset: float, count: int, *, clip: bool) -> None:
        """EW mean absolute residual, the residual capped at `clip` scales once the scale means something."""
        scale = abs(offset) * REL_SCALE_FLOOR
        if scale < ABS_SCALE_FLOOR:
            scale = ABS_SCALE_FLOOR
        old = self.scale
        if not old < scale:
            scale = old
        if clip:
            cap = self.clip * scale
            if cap < deviation:
                deviation = cap
        rate = self.scale_alpha
        if 1.0 / (count + 1) > rate:
            rate = 1.0 / (count + 1)
        self.scale = old + rate * (deviation - old)

    def _track_week(self, block: int, daily_residual: float, correction: float) -> None:
        """Add the residual to the open visit of `block` (folding the previous visit in first) and score both
        weekly hypotheses on it, out of sample (the corrections only hold earlier weeks)."""
        if block != self.open_block:
            self._fold_visit()
            self.open_block = block
            self.open_day_mean = self._day_mean(block)
        self.open_sum += daily_residual
        self.open_count += 1
        if self.week_visits[block]:
            scale = self.scale
            cap = self.clip * (scale if scale > ABS_SCALE_FLOOR else ABS_SCALE_FLOOR)
            plain = abs(daily_residual - self.open_day_mean)
            weekly = abs(daily_residual - correction)
            plain = cap if plain > cap else plain
            weekly = cap if weekly > cap else weekly
            self.daily_error += self.error_alpha * (plain - self.daily_error)
            self.weekly_error += self.error_alpha * (weekly - self.weekly_error)

    def _fold_visit(self) -> None:
        """Fold the finished visit of a weekly block (its mean daily residual) into the block's correction."""
        block = self.open_block
        if block < 0 or self.open_count == 0:
            return
        mean = self.open_sum / self.open_count
        weeks = self.week_visits[block]
        rate = self.week_alpha
        if 1.0 / (weeks + 1) > rate:
            rate = 1.0 / (weeks + 1)
        self.week[block] = mean if weeks == 0 else self.week[block] + rate * (mean - self.week[block])
        self.week_visits[block] = weeks + 1
        self.open_sum = 0.0
        self.open_count = 0

    def _day_mean(self, block: int) -> float:
        """The block's correction averaged over the days of the week seen (no day-of-week knowledge)."""
        per_day = self.week_buckets // 7
        total, days = 0.0, 0
        for day_block in range(block % per_day, self.week_buckets, per_day):
            if self.week_visits[day_block]:
                total += self.week[day_block]
                days += 1
        return total / days if days else 0.0

    def _weekly_fits(self) -> bool:
        """Two weeks seen and the weekly correction predicts clearly better than the day-of-week-blind one."""
        return (
            self.last_ts - self.week_from >= _WEEKLY_AFTER and self.weekly_error < self.weekly_gain * self.daily_error
        )

    def load(self, snapshot: dict[str, Any]) -> None:
        """`CalibratedDetector.load`, accepting snapshots from before the weekly correction (none learnt yet)."""
        state = snapshot["state"]
        missing = [field for field in _ADDED_FIELDS if field not in state]
        if missing:
            state = dict(state)
            for field in missing:
                state[field] = _ADDED_FIELDS[field]
            if state["seasoned"] is None:  # an older detector that was scoring keeps scoring
                state["seasoned"] = int(snapshot["count"])
            if state["week"] is None:
                state["week"] = [0.0] * self.week_buckets
            if state["week_visits"] is None:
                state["week_visits"] = [0] * self.week_buckets
            if state["week_from"] is None:  # a snapshot without the weekly fields has learnt none: from now
                state["week_from"] = state["first_ts"] if "week" in snapshot["state"] else state["last_ts"]
            snapshot = {**snapshot, "state": state}
        if len(snapshot["state"]["week"]) != self.week_buckets:
            raise ValueError(
                f"seasonal state has {len(snapshot['state']['week'])} weekly blocks, not {self.week_buckets}"
            )
        super().load(snapshot)

    def refresh_derived(self) -> None:
        super().refresh_derived()
        self.weekly = self._weekly_fits()
