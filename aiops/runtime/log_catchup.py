"""Log shards of partitions taken over behind event time, caught up on their own clock.

A worker that takes partitions over from a stopped one re-reads them from their last snapshot while its own
event time is already ahead (its other partitions went on). Closing the taken-over shard's log windows at that
event time would count every re-read line in one window and fake a rate spike (issue 18's rebalance runs).
`LogCatchUp` holds such a shard in the detection stage and advances it on a clock of its own partition's
records (each tick, like replay's clock, once the record is processed), until that clock reaches the stage's
event time or the partition has nothing more to deliver; then the shard follows the stage again. It does not
decide which partitions were taken over (the worker does: newly assigned while event time was known), and
does no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable

from aiokafka import TopicPartition

from aiops.detectors.stage import DetectionStage
from aiops.eventtime import EventClock
from aiops.signals import Signal


class LogCatchUp:
    """Per taken-over input partition, the clock its log shard advances on while it is behind."""

    def __init__(self, stage: DetectionStage, lateness: float,
                 shard_of: Callable[[TopicPartition], Hashable]) -> None:
        self._stage = stage
        self._lateness = lateness
        self._shard_of = shard_of
        self._clocks: dict[TopicPartition, EventClock] = {}

    def begin(self, partitions: Iterable[TopicPartition]) -> None:
        """Partitions just taken over: hold their log shards, unless event time is not known yet (a worker
        starting restores every partition before any event time, as replay starts)."""
        if self._stage.now == -math.inf:
            return
        for tp in partitions:
            if tp not in self._clocks:
                self._stage.hold_logs(self._shard_of(tp))
                self._clocks[tp] = EventClock(self._lateness)

    def catching_up(self) -> list[TopicPartition]:
        return list(self._clocks)

    def observed(self, tp: TopicPartition, event_time: float) -> list[Signal]:
        """A record of `tp` was processed: its shard's windows closed up to its own watermark, and the shard
        released once that watermark reaches the stage's event time."""
        clock = self._clocks.get(tp)
        if clock is None or event_time == -math.inf:
            return []
        tick = clock.observe(event_time)
        if tick is None:
            return []
        if tick >= self._stage.now:
            return self.finish(tp)
        return self._stage.advance_logs(self._shard_of(tp), tick)

    def finish(self, tp: TopicPartition) -> list[Signal]:
        """`tp` caught up (or has nothing more to deliver): its shard follows the stage's event time again."""
        if self._clocks.pop(tp, None) is None:
            return []
        return self._stage.release_logs(self._shard_of(tp))

    def finish_drained(self, drained: Callable[[TopicPartition], bool]) -> list[Signal]:
        """`finish` every partition caught up with what it delivered (`drained`: nothing more to process)."""
        signals: list[Signal] = []
        for tp in [tp for tp in self._clocks if drained(tp)]:
            signals += self.finish(tp)
        return signals

    def forget(self, partitions: Iterable[TopicPartition]) -> None:
        """Partitions given up (their shards are dropped by the worker)."""
        for tp in partitions:
            self._clocks.pop(tp, None)
