"""Token-bucket rate limit per integration: sustained events per second plus a burst.

`TokenBucket.take(count, now)` admits `count` events or returns how many seconds to wait before they would
be admitted (the Retry-After of a 429). A request bigger than the burst is admitted when the bucket is full,
so a large but legitimate batch is never refused for ever. Pure: the caller passes the time.
"""

from __future__ import annotations

import math


class TokenBucket:
    def __init__(self, rate_per_second: float, burst: int) -> None:
        self.rate = rate_per_second
        self.burst = float(burst)
        self._tokens = float(burst)
        self._updated: float | None = None

    def _refill(self, now: float) -> None:
        if self._updated is not None and now > self._updated:
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        if self._updated is None or now > self._updated:
            self._updated = now

    def take(self, count: int, now: float) -> float:
        """0.0 when `count` events are admitted (tokens taken), else the seconds to wait (nothing taken)."""
        self._refill(now)
        needed = min(float(count), self.burst)
        if self._tokens >= needed:
            self._tokens -= count  # may go negative for a batch above the burst: later requests wait it off
            return 0.0
        return max(0.001, (needed - self._tokens) / self.rate)


def retry_after_header(seconds: float) -> str:
    """A Retry-After value in whole seconds (at least 1)."""
    return str(max(1, math.ceil(seconds)))
