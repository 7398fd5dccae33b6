"""The event-time clock: when the watermark advances. Shared by replay (`Pipeline`) and the live detection worker.

The watermark is the highest event time seen minus the allowed lateness. It advances (timers fire) after
an event that moved it by at least `tick_seconds` since the last advance, never backwards. Once the input
has ended (replay's end of file) or gone idle (the live worker's processing-time fallback), it goes on in
whole seconds from `newest - lateness`: `idle_ticks(elapsed)` lists the watermarks `elapsed` seconds of
idleness have reached. Replay calls it per event and, at the end of the file, for the whole horizon; the
worker calls it per event in the event-time order it releases events in, and per wall second once every
input partition is idle. The same calls in the same order give the same advances, which is what makes
the incidents of a live run those of a replay of the same events. Pure: no clock, no I/O.
"""

from __future__ import annotations

import math

DEFAULT_TICK_SECONDS = 1.0


class EventClock:
    """The watermark of one input stream and the points at which it advances."""

    def __init__(self, lateness: float, tick_seconds: float = DEFAULT_TICK_SECONDS) -> None:
        self.lateness = lateness
        self.tick_seconds = tick_seconds
        self.newest = -math.inf
        """Highest event time observed."""
        self.watermark = -math.inf
        """The watermark last advanced to."""
        self._idle_steps = -1
        """Whole seconds of idleness already turned into watermarks since the newest event (-1: none)."""

    def observe(self, event_time: float) -> float | None:
        """One event processed: the watermark to advance to now, or None when it moved less than a tick."""
        if event_time > self.newest:
            self.newest = event_time
            self._idle_steps = -1
        candidate = self.newest - self.lateness
        if candidate - self.watermark >= self.tick_seconds:
            self.watermark = candidate
            return candidate
        return None

    def advance_to(self, now: float) -> bool:
        """Move the watermark to `now` (an explicit advance); False when that would not move it forward."""
        if now <= self.watermark:
            return False
        self.watermark = now
        return True

    def idle_ticks(self, elapsed: float) -> list[float]:
        """Watermarks reached after `elapsed` seconds of idle input, not returned before: `newest - lateness + k`
        for every whole k <= `elapsed` (from k = 0) that is ahead of the watermark. Advances to them."""
        if self.newest == -math.inf or elapsed < 0:
            return []
        origin = self.newest - self.lateness
        last = math.floor(elapsed)
        ticks = [origin + step for step in range(self._idle_steps + 1, last + 1) if origin + step > self.watermark]
        self._idle_steps = max(self._idle_steps, last)
        if ticks:
            self.watermark = ticks[-1]
        return ticks
