"""The Faust driver fixes in `aiops.runtime.faust_patches`, on the real broker.

The rewind fix: a partition with no committed offset must go back to the reset position after
`seek_to_committed()`, even when records were already fetched (Faust drops such a prefetch when table
recovery stops the flow; without the rewind those records were never processed).
"""

from __future__ import annotations

import faust.transport.drivers.aiokafka as faust_aiokafka_driver
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from support.worker import produce

from aiops.runtime.faust_patches import apply_faust_patches, seek_to_committed_or_reset
from aiops.runtime.topics import TopicSpec, ensure_topics

pytestmark = [pytest.mark.integration]


async def _fetched_consumer(bootstrap: str, topic: str, group: str) -> AIOKafkaConsumer:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                                auto_offset_reset="earliest", fetch_max_wait_ms=20)
    await consumer.start()
    consumer.assign([TopicPartition(topic, 0)])
    fetched = 0
    for _ in range(50):
        batch = await consumer.getmany(timeout_ms=200)
        fetched += sum(len(records) for records in batch.values())
        if fetched >= 5:
            break
    assert fetched == 5
    return consumer


async def test_uncommitted_partition_rewinds_to_earliest_after_a_prefetch(
    kafka_bootstrap: str, unique_topic_prefix: str
) -> None:
    topic = f"{unique_topic_prefix}stream"
    await ensure_topics(kafka_bootstrap, [TopicSpec(topic, 1)])
    await produce(kafka_bootstrap, topic, [b"%d" % i for i in range(5)])
    tp = TopicPartition(topic, 0)

    plain = await _fetched_consumer(kafka_bootstrap, topic, f"{unique_topic_prefix}plain")
    try:
        assert await plain.seek_to_committed() == {tp: None}
        assert await plain.position(tp) == 5, "aiokafka alone keeps the position after the prefetch"
    finally:
        await plain.stop()

    patched = await _fetched_consumer(kafka_bootstrap, topic, f"{unique_topic_prefix}patched")
    try:
        assert await seek_to_committed_or_reset(patched) == {tp: None}
        assert await patched.position(tp) == 0
        await patched.commit({tp: 3})
        await patched.getmany(timeout_ms=200)
        assert await seek_to_committed_or_reset(patched) == {tp: 3}
        assert await patched.position(tp) == 3
    finally:
        await patched.stop()


def test_patches_install_once() -> None:
    apply_faust_patches()
    thread_class = faust_aiokafka_driver.AIOKafkaConsumerThread
    installed = thread_class.seek_to_committed
    consumer_class = faust_aiokafka_driver.aiokafka.AIOKafkaConsumer  # type: ignore[attr-defined]
    apply_faust_patches()
    assert thread_class.seek_to_committed is installed
    assert faust_aiokafka_driver.aiokafka.AIOKafkaConsumer is consumer_class  # type: ignore[attr-defined]
    assert consumer_class._aiops_short_wait
