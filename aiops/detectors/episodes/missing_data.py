"""Missing data: metric series that stop reporting, found as event time passes (pure, no timers, no I/O).

`SilenceWatch` learns each series' reporting cadence from the gaps between its samples (the longest
recent gap, decaying slowly towards newer gaps) and, as the watermark advances, reports a series whose
next sample is overdue: nothing for `factor` times that gap, and at least `min_silence_seconds`. A
series is judged only after `min_points` samples (a new or one-off series is never "missing").

Telling a series that stopped from the input that paused: a series is only suspected once some other
sample beyond its deadline has been seen (if every series went quiet, the input stopped, not the series),
and reported only when the watermark also passes the newest event time seen when it was suspected,
without a sample from it in between; so a jump in the input's event time does not make every series
"missing". A silent series is reported again every `refresh_seconds` of event time (so correlation keeps
the member alive) until it reports again. Deadlines sit in heaps: `advance` costs O(log n) per overdue
series (`SilenceWatch`). It does not build signals (the episode tracker does) nor evict series.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, replace
from typing import Any

_CADENCE_FIELDS = ("last_ts", "gap", "points", "suspected_at", "silent_since", "last_report")


@dataclass(slots=True)
class Cadence:
    """One series' reporting rhythm and silence state."""

    last_ts: float
    gap: float = 0.0
    """Longest recent gap between samples (s), decaying towards newer gaps."""
    points: int = 1
    suspected_at: float | None = None
    """Newest event time of the input when the series was found overdue (None: not suspected)."""
    silent_since: float | None = None
    """Deadline it missed, once reported silent (None: reporting)."""
    last_report: float = 0.0
    """Watermark of the last report of its silence."""
    queued: bool = False
    ticket: int = 0
    """Ticket of its valid heap entry (others for its key are stale)."""
    due: float = 0.0
    """Event time of its valid heap entry."""


@dataclass(frozen=True, slots=True)
class Silence:
    """A series reported silent: `new` on its first report, else a refresh."""

    key: str
    cadence: Cadence
    new: bool


class SilenceWatch:
    """Per-series cadence and overdue detection driven by the watermark.

    Deadlines live in a heap with lazy invalidation (one entry per series, re-queued when popped early; an entry
    carries a ticket, so one left behind by a forgotten or replaced record is dropped, never adopted), so
    `advance` costs O(log n) per series whose deadline passed, not O(live series). A series whose deadline came
    much nearer than its entry (its usual gap shrank after a long one, or a silence ended) is re-queued once the
    distance halved: found at most one allowed silence late, with O(log) stale entries. A series overdue while
    the input paused waits in a second heap until the input's newest event time passes its deadline. Memory: one
    small record and about one heap entry per series.

    Why suspicion first: if every series went quiet, the input stopped, not the series (the watermark may
    still move on wall time); and after a jump in the input's event time (a replay after a pause) every
    series shows a gap, but their next samples follow at once.
    """

    def __init__(
        self,
        *,
        factor: float = 5.0,
        min_silence_seconds: float = 60.0,
        min_points: int = 10,
        gap_decay: float = 0.01,
        refresh_seconds: float = 60.0,
    ) -> None:
        self.factor = factor
        self.min_silence_seconds = min_silence_seconds
        self.min_points = min_points
        self.gap_decay = gap_decay
        self.refresh_seconds = refresh_seconds
        self._series: dict[str, Cadence] = {}
        self._heap: list[tuple[float, str, int]] = []
        self._waiting: list[tuple[float, str, int]] = []
        """Overdue series not suspected because the input paused, by deadline (checked as `newest` passes it)."""
        self._tickets = itertools.count(1)

    def __len__(self) -> int:
        return len(self._series)

    def deadline(self, cadence: Cadence) -> float:
        """Event time by which the series' next sample is due."""
        allowed = self.factor * cadence.gap
        return cadence.last_ts + (allowed if allowed > self.min_silence_seconds else self.min_silence_seconds)

    def cadence(self, key: str) -> Cadence | None:
        return self._series.get(key)

    def observe(self, key: str, ts: float) -> Cadence | None:
        """Learn a sample of `key` at event time `ts`; when it ends a reported silence, a copy of the cadence
        before it (the silence is still marked: `resume` clears it once its end is announced)."""
        cadence = self._series.get(key)
        if cadence is None:
            cadence = self._series[key] = Cadence(ts)
            self._queue(key, cadence)
            return None
        if not ts > cadence.last_ts:  # repeated or late sample: says nothing about the cadence
            return None
        before = replace(cadence) if cadence.silent_since is not None else None
        gap = ts - cadence.last_ts
        if cadence.points == 1 or gap > cadence.gap:
            cadence.gap = gap
        else:
            cadence.gap += self.gap_decay * (gap - cadence.gap)
        cadence.last_ts = ts
        cadence.points += 1
        cadence.suspected_at = None
        if not cadence.queued or self.deadline(cadence) - ts < (cadence.due - ts) / 2:
            self._queue(key, cadence)  # re-queued when its deadline came much nearer than its entry (a shrunk gap)
        return before

    def resume(self, key: str) -> None:
        """Clear a reported silence (after its end was announced)."""
        cadence = self._series.get(key)
        if cadence is not None:
            cadence.silent_since = None

    def advance(self, watermark: float, newest: float) -> list[Silence]:
        """Series found silent (or still silent and due a refresh) now that event time reached `watermark`;
        `newest` is the newest event time seen in the input."""
        found: list[Silence] = []
        heap, waiting = self._heap, self._waiting
        while waiting and waiting[0][0] < newest:  # the input got past their deadlines: judge them again
            heapq.heappush(heap, heapq.heappop(waiting))
        while heap and heap[0][0] <= watermark:
            _, key, ticket = heapq.heappop(heap)
            cadence = self._series.get(key)
            if cadence is None or cadence.ticket != ticket:
                continue  # forgotten, or a stale entry of a replaced record
            cadence.queued = False
            check = self._check(key, cadence, watermark, newest, found)
            if check is not None:
                self._push(heap, check, key, cadence)
        return found

    def _check(self, key: str, cadence: Cadence, watermark: float, newest: float, found: list[Silence]) -> float | None:
        """Judge one popped series; the event time to look at it again (None: when it next reports)."""
        if cadence.silent_since is not None:
            if cadence.last_report + self.refresh_seconds <= watermark:
                cadence.last_report = watermark
                found.append(Silence(key, cadence, new=False))
            return cadence.last_report + self.refresh_seconds
        deadline = self.deadline(cadence)
        if deadline > watermark:
            return deadline
        if cadence.points < self.min_points:
            return None  # too few samples to know its cadence; judged again once it reports
        if cadence.suspected_at is None:
            if not newest > deadline:  # nothing beyond its deadline: the input paused, not this series
                self._push(self._waiting, deadline, key, cadence)
                return None
            cadence.suspected_at = newest
        if watermark < cadence.suspected_at:
            return cadence.suspected_at
        cadence.silent_since = deadline
        cadence.last_report = watermark
        found.append(Silence(key, cadence, new=True))
        return watermark + self.refresh_seconds

    def _queue(self, key: str, cadence: Cadence) -> None:
        self._push(self._heap, self.deadline(cadence), key, cadence)

    def _push(self, heap: list[tuple[float, str, int]], when: float, key: str, cadence: Cadence) -> None:
        cadence.queued, cadence.due = True, when
        cadence.ticket = next(self._tickets)
        heapq.heappush(heap, (when, key, cadence.ticket))

    def forget(self, key: str) -> None:
        """Stop watching `key` (evicted, or its partition moved); its heap entry is dropped when popped."""
        self._series.pop(key, None)

    def export(self, key: str) -> dict[str, Any] | None:
        cadence = self._series.get(key)
        if cadence is None:
            return None
        return {field: getattr(cadence, field) for field in _CADENCE_FIELDS}

    def restore(self, key: str, state: dict[str, Any]) -> None:
        """Watch `key` again from `export` output (a restarted or new owner of its partition)."""
        cadence = Cadence(float(state["last_ts"]))
        cadence.gap = float(state["gap"])
        cadence.points = int(state["points"])
        for field in ("suspected_at", "silent_since"):
            value = state.get(field)
            setattr(cadence, field, None if value is None else float(value))
        cadence.last_report = float(state.get("last_report", 0.0))
        self._series[key] = cadence
        self._queue(key, cadence)
