"""Vectorised seasonal member: `SeasonalDetector` over a block of series (see `members.py` for the others).

`SeasonalColumns` keeps the scalar robust z against a per-bucket daily profile plus level offset and,
where it fits, the weekly correction. The block holds the scalar fields; the daily profiles, their visit
counts and the weekly blocks live in `[series, buckets]` arrays outside it. Formulas and operation order
are the scalar member's (same contract as `members.py`). It does not fit tails nor combine members.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from aiops.detectors.metric.bank.layout import Array, Index, Layout, Mask, where
from aiops.detectors.metric.bank.members import Judged, MemberColumns, at_least, scale_floor
from aiops.detectors.metric.level import ABS_SCALE_FLOOR, BAND
from aiops.detectors.metric.seasonal import WEEK_SECONDS, WEEKS_BEFORE_WEEKLY, SeasonalDetector


class SeasonalColumns(MemberColumns[SeasonalDetector]):
    """`SeasonalDetector`: robust z against a per-bucket profile plus level offset and, where it fits, the
    weekly correction (profiles and weekly blocks kept outside the block)."""

    mirrors = SeasonalDetector
    fields = (
        "first_ts", "last_ts", "offset", "scale", "seasoned",
        "daily_error", "weekly_error", "open_block", "open_day_mean", "open_sum", "open_count", "week_from",
    )  # fmt: skip
    int_fields = frozenset({"seasoned", "open_block", "open_count"})
    outside_fields = frozenset({"profile", "visits", "week", "week_visits"})
    _outside_names = ("profile", "visits", "week", "week_visits")

    def __init__(self, layout: Layout, label: str, component: SeasonalDetector) -> None:
        super().__init__(layout, label, component)
        seasonal = component
        self.period, self.buckets = seasonal.period_seconds, seasonal.buckets
        self.profile_alpha, self.offset_alpha = seasonal.profile_alpha, seasonal.offset_alpha
        self.scale_alpha, self.clip = seasonal.scale_alpha, seasonal.clip
        self.week_buckets, self.week_alpha = seasonal.week_buckets, seasonal.week_alpha
        self.weekly_gain, self.error_alpha = seasonal.weekly_gain, seasonal.error_alpha
        self.profile: Array = np.zeros((0, self.buckets))
        self.visits: Array = np.zeros((0, self.buckets))
        self.week: Array = np.zeros((0, self.week_buckets))
        self.week_visits: Array = np.zeros((0, self.week_buckets))

    def grow(self, capacity: int) -> None:
        super().grow(capacity)
        for name in self._outside_names:
            old: Array = getattr(self, name)
            grown = np.zeros((capacity, old.shape[1]))
            grown[: old.shape[0]] = old
            setattr(self, name, grown)

    def ready(self, block: Array) -> Mask:
        covered = block[self.rows["last_ts"]] - block[self.rows["first_ts"]] >= self.period
        ready: Mask = (block[self.count] > 0) & covered & (block[self.rows["seasoned"]] >= self.buckets)
        return ready

    def _weekly(self, block: Array) -> Mask:
        """`SeasonalDetector.weekly` of every column, as the scalar derives it from its state."""
        span = block[self.rows["last_ts"]] - block[self.rows["week_from"]]
        errors = block[self.rows["weekly_error"]] < self.weekly_gain * block[self.rows["daily_error"]]
        weekly: Mask = (span >= WEEKS_BEFORE_WEEKLY * WEEK_SECONDS) & errors
        return weekly

    def _bucket(self, ts: Array) -> Index:
        position = (np.remainder(ts, self.period) / self.period * self.buckets).astype(np.intp)
        return position % self.buckets

    def _week_block(self, ts: Array) -> Index:
        position = (np.remainder(ts, WEEK_SECONDS) / WEEK_SECONDS * self.week_buckets).astype(np.intp)
        return position % self.week_buckets

    def _scale(self, scale: Array, around: Array) -> Array:
        floor = scale_floor(around)
        return where(~(scale < floor), scale, floor)

    def judge(self, block: Array, series: Index, ts: Array, seen: Array) -> Judged:
        expected = self.profile[series, self._bucket(ts)] + block[self.rows["offset"]]
        expected = where(self._weekly(block), expected + self.week[series, self._week_block(ts)], expected)
        scale = self._scale(block[self.rows["scale"]], expected)
        return np.abs(seen - expected) / scale, expected, BAND * scale

    def update(self, block: Array, series: Index, ts: Array, seen: Array) -> None:
        count, first = block[self.count], block[self.count] == 0
        weekly = self._weekly(block)
        first_ts = where(first, ts, block[self.rows["first_ts"]])
        offset = where(first, seen, block[self.rows["offset"]])
        bucket = self._bucket(ts)
        seasonal = seen - offset
        visits, profile = self.visits[series, bucket], self.profile[series, bucket]
        week_block = self._week_block(ts)
        correction = self.week[series, week_block]
        tracked = (visits > 0) & (count > 0)
        seasoned = block[self.rows["seasoned"]] + where(tracked, 1.0, 0.0)
        block[self.rows["seasoned"]] = seasoned
        self._track_week(block, series, tracked, week_block, seasonal - profile, correction)
        profile = where(
            visits == 0, seasonal, profile + at_least(self.profile_alpha, 1.0 / (visits + 1)) * (seasonal - profile)
        )
        self.profile[series, bucket] = profile
        self.visits[series, bucket] = visits + 1
        residual = seen - profile - offset
        residual = where(weekly, residual - correction, residual)
        offset = offset + self.offset_alpha * residual
        old = block[self.rows["scale"]]
        scale = self._scale(old, offset)
        clipped = np.abs(residual)
        cap = self.clip * scale
        clip = (ts - first_ts >= self.period) & (seasoned >= self.buckets)
        clipped = where(clip & (cap < clipped), cap, clipped)
        block[self.rows["scale"]] = old + at_least(self.scale_alpha, 1.0 / (count + 1)) * (clipped - old)
        block[self.rows["first_ts"]] = first_ts
        block[self.rows["week_from"]] = where(first, ts, block[self.rows["week_from"]])
        block[self.rows["last_ts"]] = ts
        block[self.rows["offset"]] = offset
        block[self.count] = count + 1

    def _track_week(
        self, block: Array, series: Index, tracked: Mask, week_block: Index, residual: Array, correction: Array
    ) -> None:
        """`SeasonalDetector._track_week` on the `tracked` columns: the open visit, then both errors."""
        open_block = block[self.rows["open_block"]]
        moved = tracked & (week_block != open_block)
        folded = moved & (open_block >= 0) & (block[self.rows["open_count"]] > 0)
        self._fold_visits(block, series[folded], folded)
        block[self.rows["open_block"]] = where(moved, week_block.astype(np.float64), open_block)
        day_mean = block[self.rows["open_day_mean"]]
        if moved.any():
            day_mean = where(moved, self._day_mean(series, week_block), day_mean)
            block[self.rows["open_day_mean"]] = day_mean
        open_sum, open_count = block[self.rows["open_sum"]], block[self.rows["open_count"]]
        block[self.rows["open_sum"]] = where(tracked, open_sum + residual, open_sum)
        block[self.rows["open_count"]] = where(tracked, open_count + 1, open_count)
        scored = tracked & (self.week_visits[series, week_block] > 0)
        scale = block[self.rows["scale"]]
        cap = self.clip * where(scale > ABS_SCALE_FLOOR, scale, ABS_SCALE_FLOOR)
        plain = np.abs(residual - day_mean)
        weekly = np.abs(residual - correction)
        plain = where(plain > cap, cap, plain)
        weekly = where(weekly > cap, cap, weekly)
        for name, error in (("daily_error", plain), ("weekly_error", weekly)):
            old = block[self.rows[name]]
            block[self.rows[name]] = where(scored, old + self.error_alpha * (error - old), old)

    def _fold_visits(self, block: Array, series: Index, folded: Mask) -> None:
        """`SeasonalDetector._fold_visit` for the `folded` columns (`series` are theirs, in order)."""
        if not folded.any():
            return
        open_block = block[self.rows["open_block"]][folded].astype(np.intp)
        mean = block[self.rows["open_sum"]][folded] / block[self.rows["open_count"]][folded]
        weeks, correction = self.week_visits[series, open_block], self.week[series, open_block]
        rate = at_least(self.week_alpha, 1.0 / (weeks + 1))
        self.week[series, open_block] = where(weeks == 0, mean, correction + rate * (mean - correction))
        self.week_visits[series, open_block] = weeks + 1
        block[self.rows["open_sum"]] = where(folded, 0.0, block[self.rows["open_sum"]])
        block[self.rows["open_count"]] = where(folded, 0.0, block[self.rows["open_count"]])

    def _day_mean(self, series: Index, week_block: Index) -> Array:
        """`SeasonalDetector._day_mean`: the block's correction averaged over the days of the week seen."""
        per_day = self.week_buckets // 7
        first = week_block % per_day
        total = np.zeros(len(series))
        days = np.zeros(len(series))
        for day in range(7):
            day_block = first + day * per_day
            seen = self.week_visits[series, day_block] > 0
            total = where(seen, total + self.week[series, day_block], total)
            days = days + where(seen, 1.0, 0.0)
        return where(days > 0, total / np.where(days > 0, days, 1.0), 0.0)

    def _outside(self, series: int, column: list[float], name: str) -> Any:
        if name in ("profile", "week"):
            return getattr(self, name)[series].tolist()
        if name in ("visits", "week_visits"):
            counts: list[int] = getattr(self, name)[series].astype(np.int64).tolist()
            return counts
        return super()._outside(series, column, name)

    def export(self, series: int, column: Array, component: SeasonalDetector) -> None:
        seasonal = component
        seasonal.profile = self.profile[series].tolist()
        seasonal.visits = [int(visits) for visits in self.visits[series]]
        seasonal.week = self.week[series].tolist()
        seasonal.week_visits = [int(weeks) for weeks in self.week_visits[series]]
        super().export(series, column, component)  # ends with `refresh_derived` (`weekly` included)

    def load(self, series: int, column: Array, component: SeasonalDetector) -> None:
        seasonal = component
        for name in self._outside_names:
            values, width = getattr(seasonal, name), getattr(self, name).shape[1]
            if len(values) != width:
                raise ValueError(f"seasonal {name} has {len(values)} entries, the bank {width}")
            getattr(self, name)[series] = values
        super().load(series, column, component)
