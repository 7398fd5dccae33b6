"""The `Sink` protocol every incident destination implements.

A sink makes one delivery attempt per `deliver` call and classifies failure: `DeliveryError` (retryable,
optionally with the receiver's ``retry_after`` seconds) or `DeliveryRejectedError` (permanent). Sinks do not
retry, sleep or dead-letter; `aiops.sinks.retry.deliver_with_retry` owns that policy.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from aiops.incidents import Incident


@runtime_checkable
class Sink(Protocol):
    """One incident destination. Implementations must be safe to `close` more than once."""

    @property
    def name(self) -> str:
        """Stable, human-readable sink name used in logs and metric labels."""
        ...

    async def deliver(self, incident: Incident) -> None:
        """Deliver one incident version once; raise `DeliveryError` or `DeliveryRejectedError` on failure."""
        ...

    async def close(self) -> None:
        """Release connections; idempotent."""
        ...
