"""The dynamic silences topic: publish, expire, load and follow silences over Kafka.

Layout: one compacted topic (default ``aiops.silences``, 1 partition), key = silence id, value = the
`Silence` as JSON. The latest record per key wins; expiring a silence re-publishes it with ``ends_at`` =
the expiry time, so the history stays readable (``aiops silence list --all``). A record without a value
(tombstone) deletes the id. After each silence, `publish_silence` writes a small marker record
(key ``__marker__/<partition>``) to the same partition: tansu can report a partition's end offset one
short, and this way the record a reader may miss is a marker, never a silence (readers skip markers).
tansu also does not enforce compaction; readers fold the whole log, so that only costs read time.

`load_silences` reads every partition from the beginning up to its end offset and returns the latest
version of every silence (expired ones included: filter with `Silence.state`/`active`). `follow_silences`
does the same, then keeps consuming and yields the full set again after every change (for a worker that
feeds `SuppressionPolicy.with_silences`). Neither joins a consumer group nor commits offsets. This module
does not decide what a silence suppresses (see `aiops.correlation.suppression`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from datetime import datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import RecordMetadata
from pydantic import ValidationError

from aiops.clock import utc_now  # re-exported: the CLI takes its wall clock from here
from aiops.correlation.suppression.config import DEFAULT_SILENCES_TOPIC
from aiops.correlation.suppression.rules import Silence
from aiops.errors import BrokerUnavailableError, PermanentError
from aiops.runtime.topics import TopicSpec, ensure_topics

__all__ = [
    "DEFAULT_SILENCES_TOPIC", "MARKER_PREFIX", "SilenceLog", "SilenceNotFoundError", "apply_silence_records",
    "expire_silence", "follow_silences", "load_silences", "open_silences_reader", "publish_silence",
    "read_silences_to_end", "send_silence", "silences_topic_spec", "utc_now",
]

log = logging.getLogger(__name__)

MARKER_PREFIX = "__marker__/"
_METADATA_ATTEMPTS = 20


class SilenceNotFoundError(PermanentError):
    """No silence with that id on the silences topic."""


def silences_topic_spec(topic: str = DEFAULT_SILENCES_TOPIC) -> TopicSpec:
    return TopicSpec(topic, partitions=1, configs={"cleanup.policy": "compact"})


class SilenceLog:
    """Fold of the silences topic: latest valid silence per key (markers skipped, tombstones delete).

    Given record offsets, a record older than the version already held for its id is ignored, so a writer
    may apply its own acknowledged record before its reader gets there (read your writes)."""

    def __init__(self) -> None:
        self._by_id: dict[str, Silence] = {}
        self._offsets: dict[str, int] = {}
        self._updated: dict[str, float] = {}

    def apply(self, key: bytes | None, value: bytes | None, offset: int | None = None,
              timestamp_ms: int | None = None) -> bool:
        """Apply one record; True when the set of silences changed."""
        if key is None:
            return False
        silence_id = key.decode("utf-8", errors="replace")
        if silence_id.startswith(MARKER_PREFIX):
            return False
        if offset is not None:
            if offset <= self._offsets.get(silence_id, -1):
                return False
            self._offsets[silence_id] = offset
        if value is None:
            self._updated.pop(silence_id, None)
            return self._by_id.pop(silence_id, None) is not None
        silence = _parse(silence_id, value)
        if silence is None or self._by_id.get(silence_id) == silence:
            return False
        self._by_id[silence_id] = silence
        if timestamp_ms is not None and timestamp_ms >= 0:
            self._updated[silence_id] = timestamp_ms / 1000
        return True

    def silences(self) -> list[Silence]:
        return sorted(self._by_id.values(), key=lambda s: (s.created_at, s.id))

    def get(self, silence_id: str) -> Silence | None:
        return self._by_id.get(silence_id)

    def updated_at(self, silence_id: str) -> float | None:
        """Epoch seconds of the record holding the current version (None: unknown)."""
        return self._updated.get(silence_id)


def _parse(silence_id: str, value: bytes) -> Silence | None:
    try:
        silence = Silence.model_validate_json(value)
    except ValidationError as error:
        log.warning("skipping invalid silence record %s: %s", silence_id, error)
        return None
    if silence.id != silence_id:
        log.warning("skipping silence record keyed %s carrying id %s", silence_id, silence.id)
        return None
    return silence


async def publish_silence(
    bootstrap: str, topic: str, silence: Silence, *, request_timeout_ms: int = 30000
) -> None:
    """Write `silence` (creating the topic if needed); returns once the broker acknowledged it."""
    await _publish(bootstrap, topic, [silence], request_timeout_ms)


async def expire_silence(
    bootstrap: str, topic: str, silence_id: str, now: datetime | None = None, *, timeout_seconds: float = 30.0
) -> Silence:
    """End silence `silence_id` at `now` (default: the wall clock); return the expired version.

    Raises `SilenceNotFoundError` for an unknown id. An already-ended silence is returned unchanged and
    not re-published.
    """
    at = now or utc_now()
    current = {s.id: s for s in await load_silences(bootstrap, topic, timeout_seconds=timeout_seconds)}
    if silence_id not in current:
        raise SilenceNotFoundError(f"no silence {silence_id!r} on topic {topic}")
    expired = current[silence_id].expired(at)
    if expired != current[silence_id]:
        await _publish(bootstrap, topic, [expired], int(timeout_seconds * 1000))
    return expired


async def load_silences(bootstrap: str, topic: str, *, timeout_seconds: float = 30.0) -> list[Silence]:
    """Every silence on the topic (latest version per id, expired ones included), read to the end."""
    silences = SilenceLog()
    consumer, partitions = await open_silences_reader(bootstrap, topic, int(timeout_seconds * 1000))
    try:
        await read_silences_to_end(consumer, partitions, silences, timeout_seconds)
    except KafkaError as error:
        raise BrokerUnavailableError(f"cannot read silences from {topic} at {bootstrap}: {error!r}") from error
    finally:
        await consumer.stop()
    return silences.silences()


async def follow_silences(
    bootstrap: str, topic: str, *, idle_timeout: float | None = None, poll_ms: int = 1000
) -> AsyncIterator[list[Silence]]:
    """Yield the full silence set once read to the end, then again after every change.

    Stops after `idle_timeout` seconds without any record (None: never).
    """
    silences = SilenceLog()
    consumer, partitions = await open_silences_reader(bootstrap, topic, 30000)
    try:
        await read_silences_to_end(consumer, partitions, silences, None)
        yield silences.silences()
        idle = 0.0
        while idle_timeout is None or idle < idle_timeout:
            batch = await consumer.getmany(*partitions, timeout_ms=poll_ms)
            idle = 0.0 if batch else idle + poll_ms / 1000
            if apply_silence_records(batch.values(), silences):
                yield silences.silences()
    finally:
        await consumer.stop()


async def _publish(bootstrap: str, topic: str, silences: list[Silence], request_timeout_ms: int) -> None:
    await ensure_topics(bootstrap, [silences_topic_spec(topic)], request_timeout_ms=request_timeout_ms)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", request_timeout_ms=request_timeout_ms)
    try:
        await producer.start()
        for silence in silences:
            await send_silence(producer, topic, silence)
    except (KafkaError, OSError) as error:
        raise BrokerUnavailableError(f"cannot publish silences to {topic} at {bootstrap}: {error!r}") from error
    finally:
        await producer.stop()


async def send_silence(producer: AIOKafkaProducer, topic: str, silence: Silence) -> RecordMetadata:
    """Write `silence` and its partition's marker with a started `acks="all"` producer; the silence's record
    metadata once both are acknowledged (KafkaError as aiokafka raises it)."""
    value = silence.model_dump_json().encode()
    sent = await producer.send_and_wait(topic, key=silence.id.encode(), value=value)
    marker = f"{MARKER_PREFIX}{sent.partition}".encode()
    await producer.send_and_wait(topic, key=marker, value=b"{}", partition=sent.partition)
    return sent


async def open_silences_reader(
    bootstrap: str, topic: str, request_timeout_ms: int
) -> tuple[AIOKafkaConsumer, list[TopicPartition]]:
    """A started, group-less consumer assigned to every partition of `topic` (created if absent)."""
    await ensure_topics(bootstrap, [silences_topic_spec(topic)], request_timeout_ms=request_timeout_ms)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, auto_offset_reset="earliest",
        request_timeout_ms=request_timeout_ms,
    )
    try:
        await consumer.start()
        numbers: set[int] | None = None
        for _ in range(_METADATA_ATTEMPTS):  # a topic created just now may take a moment to show up
            await consumer.topics()
            numbers = consumer.partitions_for_topic(topic)
            if numbers:
                break
            await asyncio.sleep(0.1)
        if not numbers:
            raise BrokerUnavailableError(f"topic {topic} has no partitions at {bootstrap}")
        partitions = [TopicPartition(topic, number) for number in sorted(numbers)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
    except (KafkaError, OSError) as error:
        await consumer.stop()
        raise BrokerUnavailableError(f"cannot read {topic} at {bootstrap}: {error!r}") from error
    except BrokerUnavailableError:
        await consumer.stop()
        raise
    return consumer, partitions


async def read_silences_to_end(
    consumer: AIOKafkaConsumer, partitions: list[TopicPartition], silences: SilenceLog, limit_seconds: float | None
) -> None:
    loop = asyncio.get_running_loop()
    deadline = None if limit_seconds is None else loop.time() + limit_seconds
    end = await consumer.end_offsets(partitions)
    while True:
        positions = [await consumer.position(tp) for tp in partitions]
        if all(position >= end[tp] for position, tp in zip(positions, partitions, strict=True)):
            return
        if deadline is not None and loop.time() > deadline:
            raise BrokerUnavailableError(f"timed out reading {partitions[0].topic} to its end")
        apply_silence_records((await consumer.getmany(*partitions, timeout_ms=200)).values(), silences)


def apply_silence_records(batches: Iterable[Iterable[object]], silences: SilenceLog) -> bool:
    changed = False
    for records in batches:
        for record in records:
            changed |= silences.apply(getattr(record, "key", None), getattr(record, "value", None),
                                      getattr(record, "offset", None), getattr(record, "timestamp", None))
    return changed
