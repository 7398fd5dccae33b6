"""Detector-state snapshots on a compacted Kafka topic, partitioned like the input topic.

The detection worker writes the state of every series that changed since the last snapshot (key = series
key, value = JSON from `MetricEpisodeTracker.export_series`) to the partition of the state topic that
matches the input partition the series came from, followed by one marker record per written partition.
On assignment of an input partition it reads the same state partition from the beginning to its end and
restores those series before fetching resumes. The marker exists because tansu can report an end offset
one short: the record lost that way is then a marker, never a series. Log detector state of an input
partition is one record keyed `__logs__` (or `__logs__|<raw-log topic>`), zlib-compressed JSON, written
before the marker; a multivariate entity's state is one compressed record keyed `__mv__|<entity>`.
Serialisation and I/O only; what a snapshot contains is the detectors' business.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterable

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

log = logging.getLogger("aiops.detector_state")

MARKER_KEY = b"__marker__"
LOGS_KEY = "__logs__"
"""Key prefix of compressed log detector state records."""
MULTIVARIATE_KEY = "__mv__"
"""Key prefix (`__mv__|<entity>`) of compressed multivariate entity state records."""


def encode_state(state: dict[str, object]) -> bytes:
    return orjson.dumps(state)


def encode_compressed(state: dict[str, object]) -> bytes:
    return zlib.compress(orjson.dumps(state))


def decode_value(key: str, value: bytes) -> dict[str, object] | None:
    """A state record's JSON (decompressed for log and multivariate state); None, with a warning, when it
    is unreadable."""
    try:
        compressed = key.startswith((LOGS_KEY, MULTIVARIATE_KEY))
        return orjson.loads(zlib.decompress(value) if compressed else value)  # type: ignore[no-any-return]
    except (zlib.error, orjson.JSONDecodeError) as error:
        log.warning("skipping unreadable detector state %r: %r", key, error)
        return None


async def read_partitions(
    bootstrap: str, topic: str, partitions: Iterable[int], client_id: str
) -> dict[int, dict[str, dict[str, object]]]:
    """Latest state per key (series, or `LOGS_KEY`...) for each given partition (markers, tombstones and
    unreadable records skipped)."""
    wanted = [TopicPartition(topic, p) for p in sorted(set(partitions))]
    result: dict[int, dict[str, dict[str, object]]] = {tp.partition: {} for tp in wanted}
    if not wanted:
        return result
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                client_id=f"{client_id}-state-restore", fetch_max_wait_ms=20)
    await consumer.start()
    try:
        consumer.assign(wanted)
        await consumer.seek_to_beginning(*wanted)
        ends = await consumer.end_offsets(wanted)
        pending = {tp for tp in wanted if ends[tp] > 0}
        while pending:
            batch = await consumer.getmany(*pending, timeout_ms=500)
            for tp, records in batch.items():
                for record in records:
                    if record.key is None or record.key == MARKER_KEY or record.value is None:
                        continue
                    key = record.key.decode()
                    state = decode_value(key, record.value)
                    if state is not None:
                        result[tp.partition][key] = state
            pending = {tp for tp in pending if await consumer.position(tp) < ends[tp]}
    finally:
        await consumer.stop()
    return result
