"""The detection worker's outputs to Kafka: publish, classify failures, retry only what was not acknowledged.

`OutputPublisher.publish` sends a batch's outputs (signals, watermarks, dead letters, detector snapshots) and
waits for every acknowledgement. An output the broker refuses for good (too large, invalid or corrupt record)
is replaced by a dead letter (`stage` ``detection``, reason ``publish_rejected``, the refused value cut to
`MAX_ORIGINAL_BYTES`; a refused dead letter is replaced by one keeping only size and digest) and the batch goes
on. Any other failure is retried with backoff, re-sending only the outputs not yet acknowledged, for at most
`ingest.publish_give_up_seconds`; then `PublishFailedError` ends the worker (exit status 1) instead of wedging.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiokafka.errors import (
    CorruptRecordException,
    InvalidMessageError,
    InvalidTimestampError,
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
)

from aiops.deadletter import MAX_ORIGINAL_BYTES, dead_letter
from aiops.errors import RetryableError
from aiops.runtime.detector_checkpoints import Output

log = logging.getLogger("aiops.detect")

PERMANENT_RECORD_ERRORS: tuple[type[Exception], ...] = (
    MessageSizeTooLargeError, RecordListTooLargeError, RecordTooLargeError, CorruptRecordException,
    InvalidMessageError, InvalidTimestampError,
)
"""Errors that say *this record* can never be written: retrying it cannot help."""
FIRST_DELAY_SECONDS = 0.2
MAX_DELAY_SECONDS = 5.0


class PublishFailedError(RetryableError):
    """The broker did not acknowledge outputs for `ingest.publish_give_up_seconds`: the worker stops."""


class OutputPublisher:
    """Publishes outputs with the failure policy of the module docstring."""

    def __init__(
        self, send: Callable[[Output], Awaitable[Awaitable[Any]]], deadletter_topic: str, give_up_seconds: float,
        *, on_failure: Callable[[str], None] = lambda kind: None, monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """`send(output)` queues one output and returns its acknowledgement future (aiokafka's `send`);
        `on_failure(kind)` counts each ``permanent`` / ``retryable`` failure."""
        self._send = send
        self._deadletter_topic = deadletter_topic
        self._give_up = give_up_seconds
        self._on_failure = on_failure
        self._monotonic = monotonic
        self._wall = wall
        self._sleep = sleep

    async def publish(self, outputs: list[Output]) -> None:
        """Every output acknowledged (or replaced by its dead letter, acknowledged); else `PublishFailedError`."""
        pending = [(output, False) for output in outputs]  # (output, is a bare replacement letter)
        started = self._monotonic()
        delay = FIRST_DELAY_SECONDS
        while pending:
            errors = await self._send_all([output for output, _ in pending])
            retry: list[tuple[Output, bool]] = []
            last_error: BaseException | None = None
            for (output, bare), error in zip(pending, errors, strict=True):
                if error is None:
                    continue  # acknowledged: never sent again
                if isinstance(error, PERMANENT_RECORD_ERRORS):
                    self._on_failure("permanent")
                    if not bare:
                        retry.append(self._replacement(output, error))
                    else:
                        log.error("even a dead letter without the original was refused (%r): dropped", error)
                    continue
                self._on_failure("retryable")
                last_error = error
                retry.append((output, bare))
            pending = retry
            if last_error is None:
                continue  # only replacements left: send them at once
            waited = self._monotonic() - started
            if waited >= self._give_up:
                raise PublishFailedError(f"{len(pending)} output(s) not acknowledged for {waited:.0f} s "
                                         f"(ingest.publish_give_up_seconds); last error: {last_error!r}")
            log.warning("publishing %d output(s) failed (%r); retrying in %.1fs", len(pending), last_error, delay)
            await self._sleep(delay)
            delay = min(delay * 2, MAX_DELAY_SECONDS)

    async def _send_all(self, outputs: list[Output]) -> list[BaseException | None]:
        """Send each output; per output, None when acknowledged, else the error."""
        futures: list[Awaitable[Any] | BaseException] = []
        for output in outputs:
            try:
                futures.append(await self._send(output))
            except asyncio.CancelledError:
                raise
            except (KafkaError, OSError, ValueError) as error:  # e.g. too large, raised before it is queued
                futures.append(error)
        waiting = [item for item in futures if not isinstance(item, BaseException)]
        results = iter(await asyncio.gather(*waiting, return_exceptions=True))
        errors: list[BaseException | None] = []
        for item in futures:
            outcome = item if isinstance(item, BaseException) else next(results)
            if isinstance(outcome, asyncio.CancelledError):
                raise outcome
            errors.append(outcome if isinstance(outcome, BaseException) else None)
        return errors

    def _replacement(self, output: Output, error: BaseException) -> tuple[Output, bool]:
        """The dead letter that takes a refused output's place, and whether it is bare (a refused dead letter
        is replaced by one that keeps only its size and digest)."""
        topic, key, value, partition = output
        bare = topic == self._deadletter_topic
        log.error("the broker refused a %d-byte output to %s for good (%r); %s", len(value), topic, error,
                  "a dead letter without its original takes its place" if bare else "it is dead-lettered")
        letter = dead_letter(
            "detection", "publish_rejected", f"the broker refused this output: {error!r}", value,
            datetime.fromtimestamp(self._wall(), tz=UTC), topic=topic, partition=partition, key=key,
            keep_bytes=0 if bare else MAX_ORIGINAL_BYTES,
        )
        return (self._deadletter_topic, key, letter.model_dump_json().encode(), None), bare
