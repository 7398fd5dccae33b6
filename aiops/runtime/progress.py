"""Is the correlation consumer making progress? Per assigned signals partition: processed vs end offsets.

`ConsumerProgress` is fed by the correlate agent (`processed`), by rebalances (`assigned`) and by a periodic
end-offset poll (`observe_ends`), all with an explicit `now`. A partition is *stalled* when records arrived
beyond what the agent processed and nothing was processed on it for `stall_seconds` since they were first
seen waiting. The detection worker sends a watermark to every signals partition every second, so on a live
system a healthy agent makes progress on every partition within milliseconds; a consumer that stopped
fetching (faust-streaming #629-like) shows up here, in `aiops_correlation_lag_records`, and in `/healthz`
(503, so an orchestrator's liveness probe restarts the worker). No I/O and no clock here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class _Partition:
    next_offset: int | None = None  # the offset after the last processed one (or the end when first seen)
    waiting_since: float | None = None
    lag: int = 0


class ConsumerProgress:
    """Processed vs end offsets per assigned partition; see the module docstring for *stalled*."""

    def __init__(self, stall_seconds: float) -> None:
        self.stall_seconds = stall_seconds
        self._partitions: dict[int, _Partition] = {}

    def assigned(self, partitions: Iterable[int]) -> None:
        """The partitions this worker owns now; progress of the others is forgotten."""
        wanted = set(partitions)
        self._partitions = {p: self._partitions.get(p, _Partition()) for p in sorted(wanted)}

    def processed(self, partition: int, offset: int) -> None:
        state = self._partitions.setdefault(partition, _Partition())
        state.next_offset = offset + 1 if state.next_offset is None else max(state.next_offset, offset + 1)
        state.waiting_since = None

    def observe_ends(self, ends: dict[int, int], now: float) -> None:
        """End offsets of the assigned partitions, polled periodically."""
        for partition, end in ends.items():
            state = self._partitions.get(partition)
            if state is None:
                continue
            if state.next_offset is None:
                state.next_offset = end  # nothing processed yet: only records arriving from now on count
            state.lag = max(0, end - state.next_offset)
            if state.lag == 0:
                state.waiting_since = None
            elif state.waiting_since is None:
                state.waiting_since = now

    def lag(self) -> dict[int, int]:
        return {p: s.lag for p, s in self._partitions.items()}

    def stalled(self, now: float) -> list[int]:
        return [p for p, s in self._partitions.items()
                if s.waiting_since is not None and now - s.waiting_since >= self.stall_seconds]

    def status(self, now: float) -> dict[str, Any]:
        """For `/healthz`: ok unless a partition is stalled."""
        stalled = self.stalled(now)
        return {"ok": not stalled, "stalled_partitions": stalled, "lag_records": self.lag()}
