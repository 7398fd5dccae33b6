"""Circuit breaker, token bucket and GuardedSink, on a fake clock."""

from __future__ import annotations

import random

import pytest
from support.incidents import make_incident

from aiops.errors import DeliveryError, DeliveryRejectedError
from aiops.sinks.circuit import CircuitBreaker, CircuitOpenError, GuardedSink, TokenBucket
from aiops.sinks.memory import RecordingSink
from aiops.sinks.retry import deliver_with_retry


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_breaker_opens_half_opens_and_closes() -> None:
    clock = Clock()
    changes: list[str] = []
    breaker = CircuitBreaker(3, 10.0, clock, on_change=changes.append)
    for _ in range(3):
        breaker.before_call("r")
        breaker.failure()
    assert breaker.state == "open"
    with pytest.raises(CircuitOpenError) as caught:
        breaker.before_call("r")
    assert caught.value.retry_after == pytest.approx(10.0)
    clock.now += 10
    assert breaker.state == "half_open"
    breaker.before_call("r")  # the one trial
    with pytest.raises(CircuitOpenError):
        breaker.before_call("r")  # others fail fast while the trial is in flight
    breaker.failure()
    assert breaker.state == "open"
    clock.now += 10
    breaker.before_call("r")
    breaker.success()
    assert breaker.state == "closed"
    assert changes == ["open", "half_open", "open", "half_open", "open", "closed"]


async def test_token_bucket_paces_after_burst() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=2.0, burst=2, clock=clock, sleep=clock.sleep)
    waits = [await bucket.acquire() for _ in range(4)]
    assert waits[:2] == [0.0, 0.0]
    assert waits[2] == pytest.approx(0.5)
    assert waits[3] == pytest.approx(0.5)


async def test_guarded_sink_fails_fast_when_open_and_retry_waits_for_half_open() -> None:
    clock = Clock()
    inner = RecordingSink("r")
    inner.fail_next([DeliveryError("down")] * 3)
    guarded = GuardedSink(inner, CircuitBreaker(2, 5.0, clock), TokenBucket(100, 100, clock, clock.sleep))
    outcome = await deliver_with_retry(guarded, make_incident(), deadline_seconds=60, initial_backoff=0.1,
                                       max_backoff=0.2, rng=random.Random(1), sleep=clock.sleep, clock=clock)
    assert outcome.delivered
    # 2 failures open the circuit; the retry then waits for the open period instead of hammering
    assert inner.attempts == 4
    assert any(s >= 4.5 for s in clock.sleeps)
    assert guarded.breaker.state == "closed"


async def test_rejection_counts_as_healthy() -> None:
    clock = Clock()
    inner = RecordingSink("r")
    inner.fail_next([DeliveryError("x"), DeliveryRejectedError("400")])
    breaker = CircuitBreaker(2, 5.0, clock)
    guarded = GuardedSink(inner, breaker, TokenBucket(100, 100, clock, clock.sleep))
    with pytest.raises(DeliveryError):
        await guarded.deliver(make_incident())
    with pytest.raises(DeliveryRejectedError):
        await guarded.deliver(make_incident())
    assert breaker.failures == 0
    assert breaker.state == "closed"
