"""Signals held until event time passes them, then released in one order fixed by their content.

Signals of one scope can come from several detection workers (each owns some input partitions), so the
order they arrive in depends on timing, and an incident's identity and members on that order. `SignalHold`
keeps each signal until the correlation watermark (the lowest over every input partition) is past its event
time, then releases the held ones sorted by (event time, fingerprint, status, JSON bytes): the order replay
gives too, since replay runs the same hold (`CorrelationStage`). Identical copies (re-sent after a crash)
that are held together leave once. A signal already behind the released watermark (a late event, or a
copy re-sent after its original left) is not held: the caller applies it at once, in arrival order, as
before. The worker checkpoints what is held (`changes`). Pure: no clock, no I/O.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

from aiops.signals import Signal


@dataclass(frozen=True, order=True, slots=True)
class HeldSignal:
    """One held signal; instances order by release order (`ident` and `signal` do not take part)."""

    epoch: float
    fingerprint: str
    status: str
    raw: bytes
    ident: int = field(compare=False)
    """Where it came from (the signals offset in the worker, a sequence number in replay)."""
    signal: Signal = field(compare=False)


class SignalHold:
    """The held signals of one signals partition (or of replay), and how far event time released them."""

    def __init__(self) -> None:
        self._heap: list[HeldSignal] = []
        self.released_to = -math.inf
        """The watermark of the last release: every signal before it has left (or was late)."""
        self.added: dict[int, bytes] = {}
        """Held since the last checkpoint and still held: ident -> JSON."""
        self.removed: set[int] = set()
        """Checkpointed as held, released since."""

    def __len__(self) -> int:
        return len(self._heap)

    def hold(self, signal: Signal, raw: bytes, ident: int) -> bool:
        """Keep `signal` (its JSON `raw`) for a later release; False when it is late: apply it now."""
        epoch = signal.epoch
        if epoch < self.released_to:
            return False
        heapq.heappush(self._heap, HeldSignal(epoch, signal.fingerprint, signal.status, raw, ident, signal))
        self.added[ident] = raw
        return True

    def earliest(self) -> float:
        """The event time of the earliest held signal (inf: none held)."""
        return self._heap[0].epoch if self._heap else math.inf

    def release(self, now: float) -> list[HeldSignal]:
        """The held signals with an event time before `now`, in release order (identical copies once)."""
        heap, out = self._heap, list[HeldSignal]()
        while heap and heap[0].epoch < now:
            item = heapq.heappop(heap)
            if self.added.pop(item.ident, None) is None:
                self.removed.add(item.ident)
            if not out or out[-1] != item:
                out.append(item)
        self.released_to = max(self.released_to, now)
        return out

    def restore(self, items: list[tuple[int, bytes, Signal]], released_to: float | None) -> None:
        """Held signals read back from a checkpoint (ident, JSON, signal), and the released watermark."""
        self._heap = [HeldSignal(s.epoch, s.fingerprint, s.status, raw, ident, s) for ident, raw, s in items]
        heapq.heapify(self._heap)
        self.released_to = -math.inf if released_to is None else released_to
        self.added, self.removed = {}, set()

    def raw_of(self, ident: int) -> bytes | None:
        """The JSON of a held signal (None: not held)."""
        return next((item.raw for item in self._heap if item.ident == ident), None)

    def changed(self) -> bool:
        return bool(self.added or self.removed)

    def take_changes(self) -> tuple[dict[int, bytes], set[int]]:
        """(held since the last call, released since the last call that had been reported held); clears."""
        changes = (self.added, self.removed)
        self.added, self.removed = {}, set()
        return changes

    def latest_ends_at(self) -> float | None:
        """The latest `ends_at` of a held firing signal (None: none has one)."""
        found = [item.signal.ends_at.timestamp() for item in self._heap
                 if item.signal.status == "firing" and item.signal.ends_at is not None]
        return max(found, default=None)
