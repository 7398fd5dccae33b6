"""deliver_with_retry: backoff growth, full-jitter bounds, deadline, Retry-After, permanent errors."""

from __future__ import annotations

import random

import pytest
from support.incidents import make_incident

from aiops.errors import DeliveryError, DeliveryRejectedError
from aiops.sinks.memory import RecordingSink
from aiops.sinks.retry import DeliveryOutcome, backoff_ceiling, deliver_with_retry, next_delay


class FakeTime:
    """Monotonic clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


async def _run(
    sink: RecordingSink, fake: FakeTime, *, deadline: float = 60.0, initial: float = 0.2, cap: float = 10.0,
    seed: int = 7,
) -> DeliveryOutcome:
    return await deliver_with_retry(
        sink, make_incident(), deadline_seconds=deadline, initial_backoff=initial, max_backoff=cap,
        rng=random.Random(seed), sleep=fake.sleep, clock=fake.clock,
    )


def test_backoff_ceiling_doubles_then_caps() -> None:
    ceilings = [backoff_ceiling(attempt, 0.2, 3.0) for attempt in range(1, 8)]
    assert ceilings == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.0, 3.0, 3.0])
    assert backoff_ceiling(10_000, 0.2, 3.0) == 3.0


def test_full_jitter_stays_within_zero_and_ceiling() -> None:
    rng = random.Random(1)
    error = DeliveryError("boom")
    for attempt in range(1, 12):
        ceiling = backoff_ceiling(attempt, 0.1, 5.0)
        delays = [
            next_delay(attempt, error, initial_backoff=0.1, max_backoff=5.0, rng=rng) for _ in range(200)
        ]
        assert all(0.0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8  # really spread over the range, not a constant
        assert min(delays) < ceiling * 0.2


async def test_succeeds_first_time_without_sleeping() -> None:
    sink, fake = RecordingSink(), FakeTime()
    outcome = await _run(sink, fake)
    assert outcome == DeliveryOutcome(True, 1, None, 0.0)
    assert outcome.outcome == "delivered"
    assert fake.sleeps == []
    assert sink.keys == ["inc-1:1"]


async def test_500s_then_success_retries_with_growing_ceilings() -> None:
    sink, fake = RecordingSink(), FakeTime()
    sink.fail_next([DeliveryError("HTTP 500")] * 4)
    outcome = await _run(sink, fake, initial=1.0, cap=100.0)
    assert outcome.delivered
    assert outcome.attempts == 5
    assert len(fake.sleeps) == 4
    for attempt, slept in enumerate(fake.sleeps, start=1):
        assert 0.0 <= slept <= 2 ** (attempt - 1)
    assert outcome.elapsed == pytest.approx(sum(fake.sleeps))


async def test_same_seed_gives_same_schedule() -> None:
    schedules = []
    for _ in range(2):
        sink, fake = RecordingSink(), FakeTime()
        sink.fail_next([DeliveryError("x")] * 3)
        await _run(sink, fake, seed=42)
        schedules.append(fake.sleeps)
    assert schedules[0] == schedules[1]


async def test_permanent_error_is_not_retried() -> None:
    sink, fake = RecordingSink(), FakeTime()
    sink.fail_next([DeliveryRejectedError("HTTP 400")])
    outcome = await _run(sink, fake)
    assert not outcome.delivered
    assert outcome.rejected
    assert outcome.outcome == "rejected"
    assert outcome.attempts == 1
    assert fake.sleeps == []
    assert sink.delivered == []


async def test_gives_up_at_deadline() -> None:
    sink, fake = RecordingSink(), FakeTime()
    sink.fail_next([DeliveryError("down")] * 1000)
    outcome = await _run(sink, fake, deadline=30.0, initial=1.0, cap=4.0)
    assert not outcome.delivered
    assert not outcome.rejected
    assert outcome.outcome == "expired"
    assert isinstance(outcome.last_error, DeliveryError)
    assert outcome.elapsed <= 30.0
    assert sum(fake.sleeps) <= 30.0
    assert outcome.attempts == len(fake.sleeps) + 1
    assert outcome.attempts > 5  # kept trying until the deadline, not a fixed count


async def test_retry_after_is_a_lower_bound_on_the_wait() -> None:
    sink, fake = RecordingSink(), FakeTime()
    sink.fail_next([DeliveryError("HTTP 429", retry_after=7.5), DeliveryError("HTTP 429", retry_after=0.0)])
    outcome = await _run(sink, fake, initial=0.1, cap=0.5)
    assert outcome.delivered
    assert fake.sleeps[0] == 7.5  # above the 0.5 s backoff cap: the receiver's wish wins
    assert 0.0 <= fake.sleeps[1] <= 0.2


async def test_retry_after_beyond_deadline_gives_up_immediately() -> None:
    sink, fake = RecordingSink(), FakeTime()
    sink.fail_next([DeliveryError("HTTP 429", retry_after=120.0)])
    outcome = await _run(sink, fake, deadline=60.0)
    assert not outcome.delivered
    assert outcome.attempts == 1
    assert fake.sleeps == []


async def test_unexpected_exceptions_propagate() -> None:
    class BrokenSink(RecordingSink):
        async def deliver(self, incident: object) -> None:  # type: ignore[override]
            raise ValueError("bug")

    with pytest.raises(ValueError, match="bug"):
        await _run(BrokenSink(), FakeTime())
