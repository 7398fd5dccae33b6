"""Per-receiver circuit breaker and rate limit, applied around a `Sink` by `GuardedSink`.

`CircuitBreaker`: closed until `failure_threshold` consecutive retryable failures, then open for
`open_seconds` (calls fail fast with a `DeliveryError` whose ``retry_after`` is the time left, so the
retry loop waits instead of hammering), then half-open: one trial call closes it on success or re-opens
it on failure. A permanent rejection (4xx) means the receiver answered, so it counts as healthy.
`TokenBucket`: `rate` tokens per second up to `burst`; `acquire` sleeps until a token is free.
Clock and sleep are injected. No I/O, no retrying here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Literal

from aiops.errors import DeliveryError, DeliveryRejectedError
from aiops.incidents import Incident
from aiops.sinks.base import Sink

CircuitState = Literal["closed", "open", "half_open"]
CIRCUIT_STATE_VALUES: dict[CircuitState, int] = {"closed": 0, "half_open": 1, "open": 2}


class CircuitOpenError(DeliveryError):
    """Failing fast: the receiver's circuit is open."""


class CircuitBreaker:
    def __init__(self, failure_threshold: int, open_seconds: float, clock: Callable[[], float] = time.monotonic,
                 on_change: Callable[[CircuitState], None] | None = None) -> None:
        self.failure_threshold = failure_threshold
        self.open_seconds = open_seconds
        self.clock = clock
        self.on_change = on_change
        self.failures = 0
        self._state: CircuitState = "closed"
        self._opened_at = 0.0

    @property
    def state(self) -> CircuitState:
        if self._state == "open" and self.clock() - self._opened_at >= self.open_seconds:
            self._set("half_open")
        return self._state

    def _set(self, state: CircuitState) -> None:
        if state != self._state:
            self._state = state
            if self.on_change is not None:
                self.on_change(state)

    def before_call(self, name: str) -> None:
        """Raise `CircuitOpenError` while open; in half-open, let exactly one trial through."""
        state = self.state
        if state == "open":
            left = self.open_seconds - (self.clock() - self._opened_at)
            raise CircuitOpenError(f"{name}: circuit open for another {left:.1f}s", retry_after=max(left, 0.0))
        if state == "half_open":
            self._opened_at = self.clock()
            self._set("open")  # the trial is in flight; others fail fast until it reports

    def success(self) -> None:
        self.failures = 0
        self._set("closed")

    def failure(self) -> None:
        self.failures += 1
        if self._state == "open" or self.failures >= self.failure_threshold:
            self._opened_at = self.clock()
            self._set("open")


class TokenBucket:
    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.tokens = float(burst)
        self.clock = clock
        self.sleep = sleep
        self._at = clock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self._at) * self.rate)
        self._at = now

    async def acquire(self) -> float:
        """Take one token, sleeping as needed; the seconds waited."""
        waited = 0.0
        self._refill()
        while self.tokens < 1.0:
            delay = (1.0 - self.tokens) / self.rate
            await self.sleep(delay)
            waited += delay
            self._refill()
        self.tokens -= 1.0
        return waited


class GuardedSink:
    """A `Sink` that rate-limits and circuit-breaks another sink; same name, same errors."""

    def __init__(self, inner: Sink, breaker: CircuitBreaker, bucket: TokenBucket) -> None:
        self.inner = inner
        self.breaker = breaker
        self.bucket = bucket

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def last_status(self) -> int | None:
        status: int | None = getattr(self.inner, "last_status", None)
        return status

    async def deliver(self, incident: Incident) -> None:
        self.breaker.before_call(self.name)
        await self.bucket.acquire()
        try:
            await self.inner.deliver(incident)
        except DeliveryError:
            self.breaker.failure()
            raise
        except DeliveryRejectedError:
            self.breaker.success()
            raise
        self.breaker.success()

    async def close(self) -> None:
        await self.inner.close()
