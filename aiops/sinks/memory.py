"""`RecordingSink`: an in-memory `Sink` for tests, replay and dry runs.

It records every delivered incident in order and can be scripted to fail the next calls with given
delivery errors. It does no I/O and keeps everything in memory (unbounded: not for production traffic).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from aiops.errors import DeliveryError, DeliveryRejectedError
from aiops.incidents import Incident


class RecordingSink:
    """Records delivered incidents; `fail_next` scripts failures consumed one per `deliver` call."""

    def __init__(self, name: str = "memory") -> None:
        self._name = name
        self.delivered: list[Incident] = []
        self.attempts = 0
        self.closed = False
        self._script: deque[DeliveryError | DeliveryRejectedError] = deque()

    @property
    def name(self) -> str:
        return self._name

    def fail_next(self, errors: Iterable[DeliveryError | DeliveryRejectedError]) -> None:
        """Raise these errors, one per call, before succeeding again."""
        self._script.extend(errors)

    @property
    def keys(self) -> list[str]:
        """Idempotency keys of delivered incidents, in delivery order (duplicates kept)."""
        return [incident.idempotency_key for incident in self.delivered]

    def latest_by_id(self) -> dict[str, Incident]:
        """The highest delivered version of each incident id (what a deduplicating receiver keeps)."""
        latest: dict[str, Incident] = {}
        for incident in self.delivered:
            current = latest.get(incident.id)
            if current is None or incident.version >= current.version:
                latest[incident.id] = incident
        return latest

    async def deliver(self, incident: Incident) -> None:
        self.attempts += 1
        if self.closed:
            raise DeliveryError(f"sink {self._name} is closed")
        if self._script:
            raise self._script.popleft()
        self.delivered.append(incident)

    async def close(self) -> None:
        self.closed = True
