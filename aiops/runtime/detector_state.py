"""Detector-state snapshots on a compacted Kafka topic, partitioned like the input topic.

The detection worker writes the state of every series that changed since the last snapshot (key = series
key, value = JSON from `MetricEpisodeTracker.export_series`) to the partition of the state topic that
matches the input partition the series came from, followed by one marker record per written partition.
On assignment of an input partition it reads the same state partition from the beginning up to a fence it
writes first (`state_topic.read_fenced`; tansu under-reports end offsets by up to a whole batch) and
restores those series before fetching resumes. Log detector state of an input
partition is one record keyed `__logs__` (or `__logs__|<raw-log topic>`), zlib-compressed JSON, written
before the marker; a multivariate entity's state is one compressed record keyed `__mv__|<entity>`.
Serialisation and I/O only; what a snapshot contains is the detectors' business.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterable

import orjson

from aiops.runtime.state_topic import read_fenced

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
    """Latest state per key (series, or `LOGS_KEY`...) for each given partition, read up to a fence written
    now (`state_topic.read_fenced`: the broker's end offsets are not trusted); markers, fences, tombstones
    and unreadable records skipped."""
    records = await read_fenced(bootstrap, topic, partitions, client_id)
    result: dict[int, dict[str, dict[str, object]]] = {}
    for partition, read in records.items():
        latest = result[partition] = {}
        for raw_key, value, _ in read:
            if raw_key is None or raw_key == MARKER_KEY:
                continue
            key = raw_key.decode()
            state = decode_value(key, value) if value is not None else None
            if state is None:
                latest.pop(key, None)
            else:
                latest[key] = state
    return result
