"""The wall clock: the one place aiops reads the time of day (aware UTC).

Adapters take it as an injected `Wall` (this function by default): the delivery workers (routing time
intervals, notification and dead-letter timestamps, latency), the receivers they build (``Retry-After``
dates, signature timestamps), dead-letter replay and the CLI (silences, ``routes test``). The pure core
never imports it: it takes ``now`` as an argument. Monotonic clocks (retry, circuit breaker, rate limit)
are separate and injected where they are used.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Wall = Callable[[], datetime]


def utc_now() -> datetime:
    """The current wall time, timezone-aware UTC."""
    return datetime.now(tz=UTC)  # noqa: TID251 (the one wall clock; everything else has it injected)


__all__ = ["Wall", "utc_now"]
