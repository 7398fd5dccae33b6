"""Deliver one incident through a `Sink` with exponential backoff, full jitter and a deadline.

`deliver_with_retry` retries `DeliveryError` (honouring the receiver's ``retry_after`` as a lower bound
on the wait), never retries `DeliveryRejectedError`, and gives up when the next attempt would start after
``deadline_seconds``. Clock, sleep and randomness are injected so tests run instantly and reproducibly.
It does not dead-letter or count metrics: the caller inspects the returned `DeliveryOutcome` (and may
observe every attempt through `on_attempt`). Errors that
are not aiops delivery errors (bugs in a sink) and cancellation propagate unchanged.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiops.errors import DeliveryError, DeliveryRejectedError
from aiops.incidents import Incident
from aiops.sinks.base import Sink

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
OnAttempt = Callable[[int, "DeliveryError | DeliveryRejectedError | None", float], Awaitable[None]]
"""Called after every attempt with (attempt number, its error or None, its duration in seconds)."""


@dataclass(frozen=True)
class DeliveryOutcome:
    """What happened to one incident version at one sink."""

    delivered: bool
    attempts: int
    last_error: DeliveryError | DeliveryRejectedError | None
    elapsed: float

    @property
    def rejected(self) -> bool:
        """True when the receiver refused the payload for good (not worth dead-letter replay as is)."""
        return isinstance(self.last_error, DeliveryRejectedError) and not self.delivered

    @property
    def outcome(self) -> str:
        """``delivered``, ``rejected`` or ``expired`` (deadline reached): a metric label value."""
        if self.delivered:
            return "delivered"
        return "rejected" if self.rejected else "expired"


def backoff_ceiling(attempt: int, initial_backoff: float, max_backoff: float) -> float:
    """Upper bound of the jittered wait after failed attempt number `attempt` (1-based)."""
    exponent = min(attempt - 1, 62)  # keeps 2**exponent finite
    return float(min(max_backoff, initial_backoff * (2**exponent)))


def next_delay(
    attempt: int, error: DeliveryError, *, initial_backoff: float, max_backoff: float, rng: random.Random
) -> float:
    """Full jitter in ``[0, ceiling]``, raised to the receiver's ``retry_after`` when it asked for more."""
    delay = rng.uniform(0.0, backoff_ceiling(attempt, initial_backoff, max_backoff))
    if error.retry_after is not None:
        delay = max(delay, error.retry_after)
    return delay


async def deliver_with_retry(
    sink: Sink,
    incident: Incident,
    *,
    deadline_seconds: float,
    initial_backoff: float,
    max_backoff: float,
    rng: random.Random,
    sleep: Sleep = asyncio.sleep,
    clock: Clock = time.monotonic,
    on_attempt: OnAttempt | None = None,
) -> DeliveryOutcome:
    """Try `sink.deliver(incident)` until it succeeds, is rejected, or the deadline would be passed."""
    started = clock()
    attempt = 0
    while True:
        attempt += 1
        attempt_started = clock()
        try:
            await sink.deliver(incident)
        except (DeliveryRejectedError, DeliveryError) as failure:
            if on_attempt is not None:
                await on_attempt(attempt, failure, clock() - attempt_started)
            if isinstance(failure, DeliveryRejectedError):
                log.warning("sink %s rejected %s: %s", sink.name, incident.idempotency_key, failure)
                return DeliveryOutcome(False, attempt, failure, clock() - started)
            error = failure
            delay = next_delay(
                attempt, error, initial_backoff=initial_backoff, max_backoff=max_backoff, rng=rng
            )
            elapsed = clock() - started
            if elapsed + delay > deadline_seconds:
                log.warning(
                    "sink %s gave up on %s after %d attempts in %.1fs: %s",
                    sink.name, incident.idempotency_key, attempt, elapsed, error,
                )
                return DeliveryOutcome(False, attempt, error, elapsed)
            log.info(
                "sink %s attempt %d for %s failed (%s); retrying in %.2fs",
                sink.name, attempt, incident.idempotency_key, error, delay,
            )
            await sleep(delay)
        else:
            if on_attempt is not None:
                await on_attempt(attempt, None, clock() - attempt_started)
            return DeliveryOutcome(True, attempt, None, clock() - started)
