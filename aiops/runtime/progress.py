"""Is a consumer making progress? Per assigned partition: processed vs end offsets, for every stage.

`ConsumerProgress` is fed by its worker (`processed`, `fetched`, `active`), by rebalances (`assigned`) and by a
periodic end-offset poll (`observe_ends`), all with an explicit `now`. A partition is *stalled* when records
wait beyond what was processed and nothing counted as progress for `stall_seconds` since they were first
seen waiting (0 disables the check). Progress is a processed record, or `active`: work on a record that is
not finished yet (a delivery attempt, a backoff wait the retry policy chose, until its end). End offsets
may under-report (tansu: the last batch's base offset + 1), so records the consumer already fetched also
count as waiting. Detection, correlation and each delivery receiver keep one; `aiops.runtime.health` turns
their `status` into `/healthz` (503 when any is stalled, so a liveness probe restarts the worker) and the
`aiops_stage_healthy` gauge. No I/O and no clock here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class _Partition:
    next_offset: int | None = None  # the offset after the last processed one (or the end when first seen)
    fetched_end: int = 0  # the offset after the last record the consumer holds
    waiting_since: float | None = None
    lag: int = 0


class ConsumerProgress:
    """Processed vs end offsets per assigned partition; see the module docstring for *stalled*."""

    def __init__(self, stall_seconds: float) -> None:
        self.stall_seconds = stall_seconds
        self._partitions: dict[int, _Partition] = {}
        self._busy_until = float("-inf")

    def assigned(self, partitions: Iterable[int]) -> None:
        """The partitions this worker owns now; progress of the others is forgotten."""
        wanted = set(partitions)
        self._partitions = {p: self._partitions.get(p, _Partition()) for p in sorted(wanted)}

    def processed(self, partition: int, offset: int) -> None:
        state = self._partitions.setdefault(partition, _Partition())
        state.next_offset = offset + 1 if state.next_offset is None else max(state.next_offset, offset + 1)
        state.waiting_since = None

    def fetched(self, partition: int, first: int, last: int) -> None:
        """The consumer holds records `first`..`last` of `partition`, about to process them: they are work
        waiting, whatever the broker's end offsets say."""
        state = self._partitions.setdefault(partition, _Partition())
        if state.next_offset is None:
            state.next_offset = first
        state.fetched_end = max(state.fetched_end, last + 1)

    def starts_at(self, partition: int, offset: int) -> None:
        """The first offset to process on a newly assigned partition (its committed offset), so records
        already waiting at assignment count; ignored once anything is known about the partition."""
        state = self._partitions.get(partition)
        if state is not None and state.next_offset is None:
            state.next_offset = offset

    def unknown(self) -> list[int]:
        """Assigned partitions with no known position yet (see `starts_at`)."""
        return [p for p, s in self._partitions.items() if s.next_offset is None]

    def active(self, now: float, until: float | None = None) -> None:
        """Work in progress on a record: an attempt made at `now`, or a chosen wait lasting `until`. Every
        partition counts as progressing; a partition seen waiting after that counts from `until`."""
        self._busy_until = max(self._busy_until, now if until is None else until)
        for state in self._partitions.values():
            state.waiting_since = None

    def observe_ends(self, ends: dict[int, int], now: float) -> None:
        """End offsets of the assigned partitions, polled periodically."""
        for partition, reported in ends.items():
            state = self._partitions.get(partition)
            if state is None:
                continue
            end = max(reported, state.fetched_end)
            if state.next_offset is None:
                state.next_offset = end  # nothing processed yet: only records arriving from now on count
            state.lag = max(0, end - state.next_offset)
            if state.lag == 0:
                state.waiting_since = None
            elif state.waiting_since is None:
                state.waiting_since = max(now, self._busy_until)

    def lag(self) -> dict[int, int]:
        return {p: s.lag for p, s in self._partitions.items()}

    def stalled(self, now: float) -> list[int]:
        if self.stall_seconds <= 0:
            return []
        return [p for p, s in self._partitions.items()
                if s.waiting_since is not None and now - s.waiting_since >= self.stall_seconds]

    def status(self, now: float) -> dict[str, Any]:
        """For `/healthz`: ok unless a partition is stalled."""
        stalled = self.stalled(now)
        return {"ok": not stalled, "stalled_partitions": stalled, "lag_records": self.lag()}
