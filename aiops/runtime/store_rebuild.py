"""`aiops store rebuild`: empty the incident store's projected tables, then project the three topics from the start.

`rebuild_store` first refuses (`UsageError`) while the store projector's consumer group (``<app_id>-store``)
has members (`active_members`: a running `aiops run` would write into the tables being emptied) unless
forced. It then resets the store (every projected row deleted; the `audit` rows stay, they exist nowhere
else), reads the incidents, decisions and notifications topics without a consumer group from their
beginning to the end offsets they had when it started (and whatever arrives meanwhile), projects each fetched
batch through the live projector's write path (`decode_records`, `project_with_fallback`: a record the
database refuses is counted and skipped, as the live projector dead-letters it), applies the retention at
`now` and returns the counts. It writes no dead letters and commits no offsets. The store holds what the
topics still hold: the incidents topic is compacted, so after compaction only each incident's latest
version comes back; decisions and notifications keep what their retention kept.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from aiops.config import AiopsConfig
from aiops.errors import BrokerUnavailableError, UsageError
from aiops.runtime.kafka_io import DEFAULT_REQUEST_TIMEOUT_MS
from aiops.runtime.kafka_io import _start as start_client
from aiops.runtime.kafka_io import _stop as stop_client
from aiops.runtime.store_projector import decode_records, project_with_fallback, topic_kinds
from aiops.store.models import RetentionCounts, StoreStats
from aiops.store.protocol import IncidentStore

_POLL_MS = 500


@dataclass
class RebuildSummary:
    """Records read per topic, records that could not be decoded (`rejected`) or that the database refused
    (`refused`), and the store afterwards."""

    read: dict[str, int] = field(default_factory=dict)
    rejected: int = 0
    refused: int = 0
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


async def active_members(bootstrap: str, group_id: str, request_timeout_ms: int = DEFAULT_REQUEST_TIMEOUT_MS) -> int:
    """Members of the consumer group `group_id` now (0 when it is empty or unknown); `BrokerUnavailableError`
    when the broker cannot answer."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=request_timeout_ms)
    try:
        await asyncio.wait_for(admin.start(), request_timeout_ms / 1000)
        responses = await asyncio.wait_for(admin.describe_consumer_groups([group_id]), request_timeout_ms / 1000)
    except (KafkaError, OSError, TimeoutError) as error:
        raise BrokerUnavailableError(f"cannot describe consumer group {group_id} at {bootstrap}: {error!r}") from None
    finally:
        await admin.close()
    groups = [group for response in responses for group in response.to_object()["groups"]]
    return sum(len(group["members"]) for group in groups
               if group["group"] == group_id and group["state"] not in ("Empty", "Dead"))


async def _refuse_while_projecting(config: AiopsConfig, bootstrap: str, request_timeout_ms: int) -> None:
    group_id = config.store.group_id(config.workers.app_id)
    members = await active_members(bootstrap, group_id, request_timeout_ms)
    if members:
        raise UsageError(f"the store projector's consumer group {group_id} has {members} active member(s): stop "
                         "aiops run first (a stopped worker stays listed until its session times out), or pass "
                         "--force")


async def rebuild_store(config: AiopsConfig, bootstrap: str, store: IncidentStore, now: datetime, *,
                        request_timeout_ms: int = DEFAULT_REQUEST_TIMEOUT_MS, force: bool = False) -> RebuildSummary:
    """Reset `store` and project every record of the three topics; `force`: even while the store projector's
    group has members. See the module docstring."""
    if not force:
        await _refuse_while_projecting(config, bootstrap, request_timeout_ms)
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
            summary.refused += len(await project_with_fallback(store, decoded))
            continue
        ends = await consumer.end_offsets(partitions)
        positions = {tp: await consumer.position(tp) for tp in ends}
        if all(positions[tp] >= end for tp, end in ends.items()):
            return
