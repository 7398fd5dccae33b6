"""`OutputPublisher`: a record the broker refuses for good is dead-lettered and the batch goes on; other
failures are retried without re-sending what was acknowledged, up to a bound, then the worker stops."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable
from typing import Any

import pytest
from aiokafka.errors import KafkaTimeoutError, MessageSizeTooLargeError, RecordTooLargeError

from aiops.deadletter import MAX_ORIGINAL_BYTES
from aiops.runtime.detect_publish import OutputPublisher, PublishFailedError
from aiops.runtime.detector_checkpoints import Output

DLQ = "dlq"
LIMIT = 1024 * 1024


class FakeBroker:
    """Acknowledges outputs, except: larger than `LIMIT` -> too large (at send, as aiokafka does); a value in
    `refuse` -> refused for good at acknowledgement; the first `outages` sends of a value in `flaky` time out."""

    def __init__(self, refuse: set[bytes] | None = None, flaky: set[bytes] | None = None, outages: int = 0) -> None:
        self.refuse = refuse or set()
        self.flaky = flaky or set()
        self.outages = outages
        self.sends: list[Output] = []
        self.acked: list[Output] = []

    async def send(self, output: Output) -> Awaitable[Any]:
        self.sends.append(output)
        value = output[2]
        if len(value) > LIMIT:
            raise MessageSizeTooLargeError(f"{len(value)} bytes")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if value in self.refuse:
            future.set_exception(RecordTooLargeError("refused"))
        elif value in self.flaky and self.outages > 0:
            self.outages -= 1
            future.set_exception(KafkaTimeoutError())
        else:
            self.acked.append(output)
            future.set_result(None)
        return future


def publisher(broker: FakeBroker, give_up: float = 10.0) -> tuple[OutputPublisher, list[str], list[float]]:
    failures: list[str] = []
    slept: list[float] = []
    clock = [0.0]

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    return (OutputPublisher(broker.send, DLQ, give_up, on_failure=failures.append, monotonic=lambda: clock[0],
                            wall=lambda: 1.7e9, sleep=sleep), failures, slept)


def test_an_output_too_large_for_the_broker_is_dead_lettered_once_and_the_rest_is_sent_once() -> None:
    broker = FakeBroker()
    big = b"x" * (2 * LIMIT)
    outputs: list[Output] = [("signals", b"a", b"s1", None), ("signals", b"k", big, None), ("signals", b"b", b"s2", 1)]
    sender, failures, slept = publisher(broker)
    asyncio.run(sender.publish(outputs))
    assert failures == ["permanent"]
    assert slept == []
    assert [o[2] for o in broker.acked if o[0] == "signals"] == [b"s1", b"s2"]
    [letter] = [json.loads(o[2]) for o in broker.acked if o[0] == DLQ]
    assert (letter["stage"], letter["reason"], letter["source_topic"]) == ("detection", "publish_rejected", "signals")
    assert (letter["original_size"], letter["original_truncated"]) == (len(big), True)
    assert len(letter["original_b64"]) <= MAX_ORIGINAL_BYTES * 4 // 3 + 4
    assert len(broker.sends) == 4  # each output once, plus its dead letter


def test_a_refused_dead_letter_is_replaced_by_one_without_its_original() -> None:
    letter = json.dumps({"original_b64": "eA==" * 10}).encode()
    broker = FakeBroker(refuse={letter})
    sender, failures, _ = publisher(broker)
    asyncio.run(sender.publish([(DLQ, b"key", letter, None)]))
    assert failures == ["permanent"]
    [bare] = [json.loads(o[2]) for o in broker.acked]
    assert (bare["original_b64"], bare["original_size"], bare["original_truncated"]) == ("", len(letter), True)


def test_retryable_failures_resend_only_what_was_not_acknowledged() -> None:
    broker = FakeBroker(flaky={b"s2"}, outages=2)
    outputs: list[Output] = [("signals", None, value, None) for value in (b"s1", b"s2", b"s3")]
    sender, failures, slept = publisher(broker)
    asyncio.run(sender.publish(outputs))
    assert [o[2] for o in broker.sends] == [b"s1", b"s2", b"s3", b"s2", b"s2"]
    assert sorted(o[2] for o in broker.acked) == [b"s1", b"s2", b"s3"]
    assert failures == ["retryable", "retryable"]
    assert slept == [0.2, 0.4]


def test_a_broker_that_never_acknowledges_ends_in_an_error_after_the_bound() -> None:
    broker = FakeBroker(flaky={b"s"}, outages=10**6)
    sender, _, slept = publisher(broker, give_up=30.0)
    with pytest.raises(PublishFailedError, match=r"not acknowledged for 3[0-9] s"):
        asyncio.run(sender.publish([("signals", None, b"s", None)]))
    assert 30.0 <= sum(slept) < 40.0
    assert max(slept) == 5.0
