"""Event-time watermark of one detection worker over the input partitions it owns.

Each input partition contributes the highest event time seen on it. The watermark is the minimum over
partitions that delivered something in the last `idle_seconds` of wall time (an idle partition must not
hold event time back forever, as in Flink's `withIdleness`), minus the allowed lateness. When every owned
partition is idle, event time advances with wall time from the last event seen (processing-time
fallback), so open incidents still resolve after traffic stops. Never moves backwards.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable


class PartitionWatermarks:
    def __init__(self, lateness: float, idle_seconds: float) -> None:
        self.lateness = lateness
        self.idle_seconds = idle_seconds
        self._max_event: dict[Hashable, float] = {}
        self._last_wall: dict[Hashable, float] = {}
        self._current = float("-inf")

    def observe(self, partition: Hashable, event_time: float, wall: float) -> None:
        if event_time > self._max_event.get(partition, float("-inf")):
            self._max_event[partition] = event_time
        self._last_wall[partition] = wall

    def forget(self, partitions: Iterable[Hashable]) -> None:
        for partition in partitions:
            self._max_event.pop(partition, None)
            self._last_wall.pop(partition, None)

    def current(self, wall: float) -> float:
        """The watermark at wall time `wall` (-inf before any event)."""
        if not self._max_event:
            return self._current
        active = [
            event_time for partition, event_time in self._max_event.items()
            if wall - self._last_wall[partition] < self.idle_seconds
        ]
        if active:
            base = min(active)
        else:
            newest = max(self._max_event.values())
            base = newest + max(0.0, wall - max(self._last_wall.values()) - self.idle_seconds)
        self._current = max(self._current, base - self.lateness)
        return self._current
