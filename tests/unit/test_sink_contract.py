"""Contract every `Sink` implementation must honour, run against the webhook receiver (`SignedWebhookSink`) and
`RecordingSink`."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
from support.incidents import make_incident
from support.receiver import HttpReceiver

from aiops.errors import DeliveryError, DeliveryRejectedError
from aiops.sinks.base import Sink
from aiops.sinks.config import SecurityConfig
from aiops.sinks.memory import RecordingSink
from aiops.sinks.receiver_config import WebhookReceiverConfig
from aiops.sinks.receivers import SignedWebhookSink, SinkOptions
from aiops.sinks.retry import deliver_with_retry

LOOPBACK = SecurityConfig(allow_loopback=True)  # the local receiver listens on 127.0.0.1


@dataclass
class Harness:
    """A sink plus the means to script its receiver and read what it accepted."""

    sink: Sink
    fail_retryable: Callable[[int], None]
    fail_permanent: Callable[[], None]
    accepted_keys: Callable[[], list[str]]


def _memory_harness() -> Harness:
    sink = RecordingSink()
    return Harness(
        sink=sink,
        fail_retryable=lambda n: sink.fail_next([DeliveryError("scripted")] * n),
        fail_permanent=lambda: sink.fail_next([DeliveryRejectedError("scripted")]),
        accepted_keys=lambda: sink.keys,
    )


def _webhook_harness(receiver: HttpReceiver) -> Harness:
    config = WebhookReceiverConfig.model_validate({"url": receiver.url, "reliability": {"timeout_seconds": 2.0}})
    sink = SignedWebhookSink("contract", config, SinkOptions(security=LOOPBACK), url=receiver.url,
                             secret="contract-secret", headers={})
    failed_indices: list[int] = []  # requests the receiver was scripted to fail

    def keys() -> list[str]:
        # Requests answered 2xx are the accepted ones; the receiver answers in script order.
        requests = enumerate(receiver.requests)
        return [r.headers["Idempotency-Key"] for i, r in requests if i not in failed_indices]

    def fail_permanent() -> None:
        failed_indices.append(len(receiver.requests))
        receiver.reject_next(1, 422)

    def fail_retryable(count: int) -> None:
        failed_indices.extend(range(len(receiver.requests), len(receiver.requests) + count))
        receiver.fail_next(count, 503)

    return Harness(sink, fail_retryable, fail_permanent, keys)


@pytest.fixture(params=["memory", "webhook"])
async def harness(request: pytest.FixtureRequest, http_receiver: HttpReceiver) -> AsyncIterator[Harness]:
    built = _memory_harness() if request.param == "memory" else _webhook_harness(http_receiver)
    yield built
    await built.sink.close()


def test_is_a_sink_with_a_name(harness: Harness) -> None:
    assert isinstance(harness.sink, Sink)
    assert isinstance(harness.sink.name, str)
    assert harness.sink.name


async def test_delivers_each_version_with_its_idempotency_key(harness: Harness) -> None:
    await harness.sink.deliver(make_incident("inc-a", 1))
    await harness.sink.deliver(make_incident("inc-a", 2))
    assert harness.accepted_keys() == ["inc-a:1", "inc-a:2"]


async def test_retryable_failure_raises_delivery_error(harness: Harness) -> None:
    harness.fail_retryable(1)
    with pytest.raises(DeliveryError):
        await harness.sink.deliver(make_incident())
    await harness.sink.deliver(make_incident())
    assert harness.accepted_keys() == ["inc-1:1"]


async def test_permanent_failure_raises_rejected(harness: Harness) -> None:
    harness.fail_permanent()
    with pytest.raises(DeliveryRejectedError):
        await harness.sink.deliver(make_incident())
    assert harness.accepted_keys() == []


async def test_works_with_retry_policy(harness: Harness) -> None:
    harness.fail_retryable(2)
    outcome = await deliver_with_retry(
        harness.sink, make_incident(), deadline_seconds=5.0, initial_backoff=0.001, max_backoff=0.01,
        rng=random.Random(0),
    )
    assert outcome.delivered
    assert outcome.attempts == 3
    assert harness.accepted_keys() == ["inc-1:1"]


async def test_close_is_idempotent(harness: Harness) -> None:
    await harness.sink.deliver(make_incident())
    await harness.sink.close()
    await harness.sink.close()
