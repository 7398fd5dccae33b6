"""`fetch_batch`: a consumer error is logged and gives an empty batch after a pause; cancellation propagates."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from aiops.runtime import fetch
from aiops.runtime.fetch import fetch_batch


class Consumer:
    def __init__(self, outcome: Any) -> None:
        self.outcome = outcome
        self.asked: list[tuple[int, int]] = []

    async def getmany(self, timeout_ms: int, max_records: int) -> Any:
        self.asked.append((timeout_ms, max_records))
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome


async def test_a_batch_is_returned_as_fetched() -> None:
    consumer = Consumer({"tp": ["record"]})
    assert await fetch_batch(consumer, 50, 10, "detection") == {"tp": ["record"]}  # type: ignore[arg-type]
    assert consumer.asked == [(50, 10)]


async def test_a_consumer_error_is_logged_and_gives_an_empty_batch(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    pauses: list[float] = []

    async def pause(seconds: float) -> None:
        pauses.append(seconds)

    monkeypatch.setattr(fetch.asyncio, "sleep", pause)
    with caplog.at_level(logging.ERROR, logger="aiops.runtime.fetch"):
        batch = await fetch_batch(Consumer(RuntimeError("coordinator moved")), 50, 10, "correlation")  # type: ignore[arg-type]
    assert batch == {}
    assert pauses == [fetch.RETRY_PAUSE_SECONDS]
    assert "correlation fetch failed" in caplog.text


async def test_cancellation_propagates() -> None:
    with pytest.raises(asyncio.CancelledError):
        await fetch_batch(Consumer(asyncio.CancelledError()), 50, 10, "detection")  # type: ignore[arg-type]
