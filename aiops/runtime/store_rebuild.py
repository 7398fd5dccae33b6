"""`aiops store rebuild`: drop and recreate the incident store, then project the three topics from the start.

`rebuild_store` resets the schema (every migration down, then up), reads the incidents, decisions and
notifications topics without a consumer group from their beginning to the end offsets they had when it
started (and whatever arrives meanwhile), projects each fetched batch through the same write path as the live projector
(`aiops.runtime.store_projector.decode_records`, `IncidentStore.project`), applies the retention at `now`
and returns the counts. It writes no dead letters (the live projector did) and commits no offsets. The
store holds what the topics still hold: the incidents topic is compacted (key = incident id), so after
compaction only each incident's latest version comes back; decisions and notifications keep what their
retention kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from aiokafka import AIOKafkaConsumer, TopicPartition

from aiops.config import AiopsConfig
from aiops.runtime.kafka_io import DEFAULT_REQUEST_TIMEOUT_MS
from aiops.runtime.kafka_io import _start as start_client
from aiops.runtime.kafka_io import _stop as stop_client
from aiops.runtime.store_projector import decode_records, topic_kinds
from aiops.store.models import RetentionCounts, StoreStats
from aiops.store.protocol import IncidentStore

_POLL_MS = 500


@dataclass
class RebuildSummary:
    """Records read per topic, records that could not be decoded, and the store afterwards."""

    read: dict[str, int] = field(default_factory=dict)
    rejected: int = 0
    missing_topics: list[str] = field(default_factory=list)
    retention: RetentionCounts = field(default_factory=RetentionCounts)
    stats: StoreStats = field(default_factory=StoreStats)


async def _partitions(consumer: AIOKafkaConsumer, topics: list[str], summary: RebuildSummary) -> list[TopicPartition]:
    existing = await consumer.topics()
    found: list[TopicPartition] = []
    for topic in topics:
        partitions = consumer.partitions_for_topic(topic) if topic in existing else None
        if not partitions:
            summary.missing_topics.append(topic)
            continue
        found += [TopicPartition(topic, p) for p in sorted(partitions)]
    return found


async def rebuild_store(config: AiopsConfig, bootstrap: str, store: IncidentStore, now: datetime, *,
                        request_timeout_ms: int = DEFAULT_REQUEST_TIMEOUT_MS) -> RebuildSummary:
    """Reset `store` and project every record of the three topics; see the module docstring."""
    kinds = topic_kinds(config)
    summary = RebuildSummary(read=dict.fromkeys(kinds.values(), 0))
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest", request_timeout_ms=request_timeout_ms)
    await start_client(consumer, bootstrap, request_timeout_ms / 1000)  # BrokerUnavailableError when unreachable
    try:
        partitions = await _partitions(consumer, list(kinds), summary)
        await store.reset()
        if partitions:
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            await _read_to_end(consumer, partitions, kinds, store, summary)
    finally:
        await stop_client(consumer)
    summary.retention = await store.apply_retention(now)
    summary.stats = await store.stats()
    return summary


async def _read_to_end(consumer: AIOKafkaConsumer, partitions: list[TopicPartition], kinds: dict[str, str],
                       store: IncidentStore, summary: RebuildSummary) -> None:
    """Project batches until a poll comes back empty with every position at its partition's end offset (an
    empty poll alone is not the end; end offsets alone may under-report, as tansu's do)."""
    while True:
        batch = await consumer.getmany(timeout_ms=_POLL_MS, max_records=2000)
        if batch:
            records = [record for records in batch.values() for record in records]
            decoded = decode_records(records, kinds)
            summary.rejected += len(decoded.rejected)
            for record in records:
                summary.read[kinds[record.topic]] += 1
            await store.project(decoded.batch)
            continue
        ends = await consumer.end_offsets(partitions)
        positions = {tp: await consumer.position(tp) for tp in ends}
        if all(positions[tp] >= end for tp, end in ends.items()):
            return
