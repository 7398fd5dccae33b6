"""Alert-storm detection: far more new incident members per unit of event time than usual.

`StormGuard.observe_new_member(group_key, ts)` counts one new member for `group_key` (a correlation scope,
an incident, or "global": the caller chooses) in the event-time bucket ``floor(ts / bucket_seconds)`` and
returns a `StormState`. ``rate`` is the number of new members in the current bucket and ``baseline`` the
exponentially decayed mean of the completed buckets' counts (half-life ``baseline_half_life_seconds``;
empty buckets count as zero); both are *members per bucket*. A storm is ``rate > ratio * baseline`` and
``rate > min_rate``. With no history the baseline is 0, so the first busy bucket is a storm as soon as it
passes ``min_rate``. Storm buckets feed the baseline too, so a storm that lasts becomes the new normal
(with ratio 10 after about 0.15 half-lives).

Event time only: a member whose bucket is older than the group's current bucket (late) counts in the
current bucket; the guard never moves a group's clock back. Memory is bounded to ``max_groups`` groups
(least recently observed evicted first). `snapshot`/`restore` round-trip the state as a JSON-friendly dict.
Pure: no I/O, no clock. It does not decide what a storm does to incidents (the correlator does).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

SNAPSHOT_VERSION = 1


class StormState(BaseModel):
    """A group's storm status after an observation (rate and baseline in new members per bucket)."""

    model_config = ConfigDict(frozen=True)

    active: bool
    rate: float
    baseline: float


@dataclass
class _Group:
    bucket: int
    count: int
    baseline: float


class _GroupSnapshot(BaseModel):
    bucket: int
    count: int
    baseline: float


class _StormSnapshot(BaseModel):
    version: int = SNAPSHOT_VERSION
    groups: dict[str, _GroupSnapshot] = Field(default_factory=dict)


class StormGuard:
    """Per-group new-member rate against a decaying baseline, on event-time buckets."""

    def __init__(
        self,
        bucket_seconds: float = 60.0,
        ratio: float = 10.0,
        min_rate: float = 100.0,
        baseline_half_life_seconds: float = 3600.0,
        max_groups: int = 10_000,
    ) -> None:
        if bucket_seconds <= 0 or ratio <= 0 or min_rate < 0 or baseline_half_life_seconds <= 0 or max_groups < 1:
            raise ValueError("StormGuard: bucket_seconds, ratio, half-life > 0, min_rate >= 0, max_groups >= 1")
        self.bucket_seconds = bucket_seconds
        self.ratio = ratio
        self.min_rate = min_rate
        self.baseline_half_life_seconds = baseline_half_life_seconds
        self.max_groups = max_groups
        # Weight kept by the old baseline per completed bucket.
        self._keep = 0.5 ** (bucket_seconds / baseline_half_life_seconds)
        self._groups: OrderedDict[str, _Group] = OrderedDict()

    def __len__(self) -> int:
        return len(self._groups)

    def observe_new_member(self, group_key: str, ts: float) -> StormState:
        """Count one new member of `group_key` at event time `ts`; return the group's storm state."""
        group = self._advanced(group_key, ts)
        group.count += 1
        return self._state(group)

    def state(self, group_key: str, at: float) -> StormState:
        """The group's storm state at `at` without counting anything (read-only)."""
        group = self._groups.get(group_key)
        if group is None:
            return StormState(active=False, rate=0.0, baseline=0.0)
        probe = _Group(group.bucket, group.count, group.baseline)
        self._roll(probe, self._bucket_of(at))
        return self._state(probe)

    def forget(self, group_key: str) -> None:
        self._groups.pop(group_key, None)

    def expire(self, now: float, min_baseline: float = 0.01) -> int:
        """Drop groups whose baseline decayed below `min_baseline` by `now` and have no recent count."""
        current = self._bucket_of(now)
        dropped = []
        for key, group in self._groups.items():
            probe = _Group(group.bucket, group.count, group.baseline)
            self._roll(probe, current)
            if probe.count == 0 and probe.baseline < min_baseline:
                dropped.append(key)
        for key in dropped:
            del self._groups[key]
        return len(dropped)

    def _bucket_of(self, ts: float) -> int:
        return math.floor(ts / self.bucket_seconds)

    def _advanced(self, group_key: str, ts: float) -> _Group:
        bucket = self._bucket_of(ts)
        group = self._groups.get(group_key)
        if group is None:
            group = _Group(bucket=bucket, count=0, baseline=0.0)
            self._groups[group_key] = group
            while len(self._groups) > self.max_groups:
                self._groups.popitem(last=False)
            return group
        self._groups.move_to_end(group_key)
        self._roll(group, bucket)
        return group

    def _roll(self, group: _Group, bucket: int) -> None:
        """Close the group's buckets up to (excluding) `bucket`; a bucket in the past changes nothing."""
        if bucket <= group.bucket:
            return
        keep = self._keep
        baseline = group.baseline * keep + group.count * (1.0 - keep)
        empty = bucket - group.bucket - 1
        if empty:
            baseline *= keep ** empty
        group.bucket, group.count, group.baseline = bucket, 0, baseline

    def _state(self, group: _Group) -> StormState:
        rate = float(group.count)
        active = rate > self.min_rate and rate > self.ratio * group.baseline
        return StormState(active=active, rate=rate, baseline=group.baseline)

    def snapshot(self) -> dict[str, Any]:
        """JSON-friendly copy of the state."""
        groups = {key: _GroupSnapshot(bucket=g.bucket, count=g.count, baseline=g.baseline)
                  for key, g in self._groups.items()}
        return _StormSnapshot(groups=groups).model_dump()

    def restore(self, snapshot: Mapping[str, Any]) -> None:
        """Replace the state with a `snapshot()` result (validated; raises pydantic's ValidationError)."""
        parsed = _StormSnapshot.model_validate(snapshot)
        self._groups = OrderedDict(
            (key, _Group(bucket=g.bucket, count=g.count, baseline=g.baseline)) for key, g in parsed.groups.items()
        )
        while len(self._groups) > self.max_groups:
            self._groups.popitem(last=False)
