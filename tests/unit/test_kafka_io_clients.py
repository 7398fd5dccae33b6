"""The CLI's Kafka clients (`aiops produce`, `tail`): closed on Ctrl-C without a broker error replacing the
interrupt, and `--idle-exit` measured in time. Fake clients, no broker."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError

from aiops.runtime import kafka_io


class _FakeClient:
    """Connects forever (until cancelled); `stop` records the call and may fail like a client whose broker
    is gone; `getmany` finds nothing after 10 ms."""

    def __init__(self, *_args: Any, stop_error: Exception | None = None, **_kwargs: Any) -> None:
        self.stop_error = stop_error
        self.connecting = asyncio.Event()
        self.stopped = False

    async def start(self) -> None:
        self.connecting.set()
        await asyncio.sleep(3600)

    async def stop(self) -> None:
        self.stopped = True
        if self.stop_error is not None:
            raise self.stop_error

    async def getmany(self, timeout_ms: int) -> dict[Any, Any]:
        await asyncio.sleep(0.01)  # returns early, as a poll may
        return {}

    async def topics(self) -> set[str]:
        return set()


async def test_ctrl_c_while_closing_a_client_whose_broker_is_gone_stays_an_interrupt() -> None:
    client = _FakeClient(stop_error=KafkaConnectionError("broker gone"))

    async def follow() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            await kafka_io._stop(client)

    task = asyncio.create_task(follow())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):  # not KafkaConnectionError: asyncio.run turns this into Ctrl-C
        await task
    assert client.stopped


async def test_ctrl_c_while_connecting_closes_the_client() -> None:
    client = _FakeClient()
    task = asyncio.create_task(kafka_io._start(client, "127.0.0.1:1", 60.0))
    await client.connecting.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert client.stopped


async def test_idle_exit_is_measured_in_time_not_in_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    class _Connected(_FakeClient):
        async def start(self) -> None:
            return None

    monkeypatch.setattr(kafka_io, "AIOKafkaConsumer", _Connected)
    loop = asyncio.get_running_loop()
    started = loop.time()
    seen = [incident async for incident in kafka_io.follow_incidents("127.0.0.1:1", "t", idle_timeout=0.3)]
    assert seen == []
    assert loop.time() - started >= 0.3  # counting 0.5 s per poll would have stopped after the first 10 ms
