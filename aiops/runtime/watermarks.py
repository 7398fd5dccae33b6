"""Event-time order over the input partitions of one detection worker, and when the input counts as idle.

Replay sees one stream in file order; a worker sees several partitions, fetched in batches whose sizes and
timing depend on the broker, the producer and the load. `InputAlignment` turns them back into one stream in
event-time order, so a bulk drain, a pause shorter than `idle_seconds` and partitions at different event
times all release the same sequence, while a partition that stays silent longer stops holding the others
back (as Flink's `withIdleness`). When every partition is idle, `idle_for(wall)` says how long the input
has been idle beyond `idle_seconds`: the worker's processing-time fallback turns that into whole seconds of
event time (`aiops.eventtime.EventClock.idle_ticks`, the ticks replay's end of file uses), so open
incidents still resolve after traffic stops. This is the only place wall time enters, and it is in the
adapter.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)
Item = TypeVar("Item")
Backlog = Callable[[Key], bool]
"""Whether the broker is known to hold more records for a partition than were fetched."""


def _no_backlog(partition: Hashable) -> bool:
    return False


class InputAlignment(Generic[Key, Item]):
    """Per-partition queues of records released in event-time order.

    Each partition's records wait in a queue, and the record with the lowest event time at the head of a
    queue is released only while every other partition either has a queued record or is **idle**: its queue
    is empty, the broker holds nothing more for it (no known backlog), and it has delivered nothing new for
    `idle_seconds` of wall time counted from its last record that was newer than every earlier one of the
    partition (its *frontier*) or from the moment the whole input resumed after being idle (or the partition
    was assigned), whichever is later. Re-sends stamped in the past (Prometheus repeats a resolved alert with
    its old `endsAt` for 15 minutes) are released as usual but do not keep a partition busy, so they cannot
    stop event time. Records that cannot be decoded have no event time: they leave as soon as they reach the
    head of their queue."""

    def __init__(self, idle_seconds: float) -> None:
        self.idle_seconds = idle_seconds
        self._queues: dict[Key, deque[tuple[float, int, Item]]] = {}
        self._last_arrival: dict[Key, float] = {}
        self._frontier: dict[Key, float] = {}
        self._resumed = -math.inf
        self._sequence = 0

    def assigned(self, partitions: Iterable[Key], wall: float) -> None:
        """Partitions now owned: each holds the others back until it delivered or was idle for a while."""
        for partition in partitions:
            self._queues.setdefault(partition, deque())
            self._last_arrival.setdefault(partition, wall)

    def forget(self, partitions: Iterable[Key]) -> None:
        """Partitions given up: their queued records are dropped (uncommitted, the next owner reads them)."""
        for partition in partitions:
            self._queues.pop(partition, None)
            self._last_arrival.pop(partition, None)
            self._frontier.pop(partition, None)

    def add(self, partition: Key, items: Iterable[tuple[float | None, Item]], wall: float,
            backlog: Backlog[Key] = _no_backlog) -> None:
        """Queue a partition's fetched records in their order; `None` event time: undecodable."""
        queued = [(-math.inf if event_time is None else event_time, item) for event_time, item in items]
        if not queued:
            return
        newest = max(event_time for event_time, _ in queued)
        progressed = newest > self._frontier.get(partition, -math.inf)
        if progressed and self.is_idle(wall, backlog):  # the input resumes: every partition gets a fresh grace
            self._resumed = wall
        first = self._sequence
        self._sequence += len(queued)
        self._queues.setdefault(partition, deque()).extend(
            (event_time, sequence, item) for sequence, (event_time, item) in enumerate(queued, first))
        self._last_arrival.setdefault(partition, wall)
        if progressed:
            self._frontier[partition] = newest
            self._last_arrival[partition] = wall

    def release(self, wall: float, backlog: Backlog[Key] = _no_backlog) -> list[tuple[Key, float, Item]]:
        """The records that may be processed now, in event-time order (ties: arrival order), each with its
        partition and event time (-inf: undecodable)."""
        heads = [(queue[0][0], queue[0][1], partition) for partition, queue in self._queues.items() if queue]
        heapq.heapify(heads)
        waiting = {partition for partition, queue in self._queues.items()
                   if not queue and not self._partition_idle(partition, wall, backlog)}
        out: list[tuple[Key, float, Item]] = []
        while heads and not (waiting and heads[0][0] > -math.inf):
            _, _, partition = heapq.heappop(heads)
            queue = self._queues[partition]
            # A run: this partition's records up to the next partition's head leave without heap operations.
            bound = (heads[0][0], heads[0][1]) if heads else (math.inf, 0)
            while queue and (queue[0][0], queue[0][1]) < bound and not (waiting and queue[0][0] > -math.inf):
                event_time, _, item = queue.popleft()
                out.append((partition, event_time, item))
            if queue:
                heapq.heappush(heads, (queue[0][0], queue[0][1], partition))
            elif not self._partition_idle(partition, wall, backlog):
                waiting.add(partition)  # it may deliver an earlier record next
        return out

    def _partition_idle(self, partition: Key, wall: float, backlog: Backlog[Key]) -> bool:
        if self._queues[partition] or backlog(partition):
            return False
        return wall - max(self._last_arrival[partition], self._resumed) >= self.idle_seconds

    def grace_ends(self, wall: float, backlog: Backlog[Key] = _no_backlog) -> float | None:
        """While queued records wait only for partitions inside their idle grace (silent, no known backlog, not
        idle yet): the wall time the last of those graces ends, when the records will leave whatever arrives.
        None when nothing is queued or a wait is for a known backlog (the fetch, not the rule, decides)."""
        if not any(self._queues.values()):
            return None
        ends: list[float] = []
        for partition, queue in self._queues.items():
            if queue or self._partition_idle(partition, wall, backlog):
                continue
            if backlog(partition):
                return None
            ends.append(max(self._last_arrival[partition], self._resumed) + self.idle_seconds)
        return max(ends, default=None)

    def partition_idle(self, partition: Key, wall: float, backlog: Backlog[Key] = _no_backlog) -> bool:
        """Whether an owned `partition` is idle (see the class docstring); False for one not owned."""
        return partition in self._queues and self._partition_idle(partition, wall, backlog)

    def is_idle(self, wall: float, backlog: Backlog[Key] = _no_backlog) -> bool:
        """Whether every owned partition is idle (and at least one is owned)."""
        return bool(self._queues) and all(self._partition_idle(p, wall, backlog) for p in self._queues)

    def idle_for(self, wall: float, backlog: Backlog[Key] = _no_backlog) -> float | None:
        """Seconds the whole input has been idle beyond `idle_seconds`, or None while it is not idle."""
        if not self.is_idle(wall, backlog):
            return None
        return wall - max(self._resumed, *self._last_arrival.values()) - self.idle_seconds

    def queued(self, partition: Key | None = None) -> int:
        """Records of `partition` (None: of every partition) waiting for release."""
        if partition is None:
            return sum(len(queue) for queue in self._queues.values())
        queue = self._queues.get(partition)
        return len(queue) if queue is not None else 0
