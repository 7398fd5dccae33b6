"""Detector-state snapshots on a compacted Kafka topic, partitioned like the input topic.

The detection worker writes the state of every series that changed since the last snapshot (key = series
key, value = JSON from `MetricEpisodeTracker.export_series`) to the partition of the state topic that
matches the input partition the series came from, followed by one marker record per written partition.
On assignment of an input partition it reads the same state partition from the beginning up to a fence it
writes first (`state_topic.read_fenced`; tansu under-reports end offsets by up to a whole batch) and
restores those series before fetching resumes. Log detector state of an input
partition is one record keyed `__logs__` (or `__logs__|<raw-log topic>`), zlib-compressed JSON, written
before the marker; a multivariate entity's state is one compressed record keyed `__mv__|<entity>`.
The marker names, per input topic of that partition number, the offset the snapshot covers up to (the next
record to process): offsets are committed after the snapshot, so a worker killed in between has state
ahead of its committed offsets, and the next owner resumes from the marker instead (never learning a record
twice). Records after a partition's last marker are a snapshot cut short and are not restored.
Serialisation and I/O only; what a snapshot contains is the detectors' business.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterable, Mapping
from typing import NamedTuple

import orjson

from aiops.runtime.state_topic import read_fenced

log = logging.getLogger("aiops.detector_state")

MARKER_KEY = b"__marker__"
LOGS_KEY = "__logs__"
"""Key prefix of compressed log detector state records."""
MULTIVARIATE_KEY = "__mv__"
"""Key prefix (`__mv__|<entity>`) of compressed multivariate entity state records."""


class PartitionState(NamedTuple):
    """What a state partition holds: the latest state per key, and per input topic the offset it covers up to."""

    states: dict[str, dict[str, object]]
    resume: dict[str, int]


def encode_marker(offsets: Mapping[str, int]) -> bytes:
    """A snapshot's last record: per input topic (of the partition's number), the next offset to process."""
    return orjson.dumps({"offsets": dict(offsets)})


def _marker_offsets(value: bytes | None) -> dict[str, int]:
    try:
        offsets = orjson.loads(value or b"{}").get("offsets", {})
        return {str(topic): int(offset) for topic, offset in offsets.items()}
    except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError):
        log.warning("unreadable snapshot marker %r: resuming from the committed offsets", value)
        return {}


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
) -> dict[int, PartitionState]:
    """Per given partition, the latest state per key (series, or `LOGS_KEY`...) as of its last marker and
    that marker's offsets, read up to a fence written now (`state_topic.read_fenced`: the broker's end
    offsets are not trusted); fences, tombstones and unreadable records skipped, records after the last
    marker (a snapshot cut short) left out."""
    records = await read_fenced(bootstrap, topic, partitions, client_id)
    return {partition: _replay(partition, read) for partition, read in records.items()}


def _replay(partition: int, read: Iterable[tuple[bytes | None, bytes | None, object]]) -> PartitionState:
    latest: dict[str, dict[str, object]] = {}
    pending: dict[str, dict[str, object] | None] = {}
    resume: dict[str, int] = {}
    for raw_key, value, _ in read:
        if raw_key is None:
            continue
        if raw_key == MARKER_KEY:  # the snapshot is complete: its records count
            for key, state in pending.items():
                if state is None:
                    latest.pop(key, None)
                else:
                    latest[key] = state
            pending = {}
            resume.update(_marker_offsets(value))  # a marker names the input topics its writer processed
            continue
        key = raw_key.decode()
        pending[key] = decode_value(key, value) if value is not None else None
    if pending:
        log.warning("state partition %d ends with %d records of a snapshot cut short: not restored", partition,
                    len(pending))
    return PartitionState(latest, resume)
