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

    def _tokens_at(self, now: float) -> float:
        """The tokens at `now` (a clock that went back refills nothing)."""
        if self._updated is not None and now > self._updated:
            return min(self.burst, self._tokens + (now - self._updated) * self.rate)
        return self._tokens

    def _refill(self, now: float) -> None:
        self._tokens = self._tokens_at(now)
        if self._updated is None or now > self._updated:
            self._updated = now

    def take(self, count: int, now: float) -> float:
        """0.0 when `count` events are admitted (tokens taken), else the seconds to wait (nothing taken): the
        same request is admitted at `now` + that wait (after a clock that went back, the gap counts too)."""
        self._refill(now)
        needed = min(float(count), self.burst)
        if self._tokens >= needed:
            self._tokens -= count  # may go negative for a batch above the burst: later requests wait it off
            return 0.0
        behind = self._updated - now if self._updated is not None else 0.0
        wait, step = max(0.001, behind + (needed - self._tokens) / self.rate), 1e-9
        while self._tokens_at(now + wait) < needed:  # float rounding of now + wait: lengthen until it holds
            wait, step = wait + step, step * 2
        return wait


def retry_after_header(seconds: float) -> str:
    """A Retry-After value in whole seconds (at least 1)."""
    return str(max(1, math.ceil(seconds)))
