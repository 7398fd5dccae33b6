"""Reading a state topic to a fence finds every record, where reading to the broker's end offset does not.

tansu reports a partition's end offset as its last batch's base offset + 1, so a reader that stops at the
end offset misses the tail of the last batch. `read_fenced` writes a fence and reads to the fence's
acknowledged offset instead; the detection and correlation restores both rest on it.
"""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from aiops.runtime.state_topic import FENCE_KEY, read_fenced
from aiops.runtime.topics import TopicSpec, ensure_topics

pytestmark = pytest.mark.integration


async def _write_batches(bootstrap: str, topic: str, batches: int, size: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=50, acks="all")
    await producer.start()
    try:
        for b in range(batches):
            futures = [await producer.send(topic, key=f"k{b}-{i}".encode(), value=b"{}", partition=0)
                       for i in range(size)]
            for future in futures:
                await future
    finally:
        await producer.stop()


async def test_a_fenced_read_sees_every_record_of_multi_record_batches(kafka_bootstrap: str,
                                                                       unique_topic_prefix: str) -> None:
    topic = f"{unique_topic_prefix}state"
    await ensure_topics(kafka_bootstrap, [TopicSpec(topic, 2, 1, {"cleanup.policy": "compact"})])
    await _write_batches(kafka_bootstrap, topic, batches=3, size=10)

    records = await read_fenced(kafka_bootstrap, topic, [0, 1], "test")

    assert [key for key, _, _ in records[0]] == [f"k{b}-{i}".encode() for b in range(3) for i in range(10)]
    assert records[1] == []
    again = await read_fenced(kafka_bootstrap, topic, [0], "test")  # earlier fences are skipped
    assert [key for key, _, _ in again[0]] == [key for key, _, _ in records[0]]
    assert FENCE_KEY not in {key for key, _, _ in again[0]}


async def test_the_broker_end_offset_alone_would_have_missed_records(kafka_bootstrap: str,
                                                                     unique_topic_prefix: str) -> None:
    """Documents why the fence exists; passes on a broker that reports true end offsets too (then the end
    offset simply covers everything)."""
    topic = f"{unique_topic_prefix}state"
    await ensure_topics(kafka_bootstrap, [TopicSpec(topic, 1, 1)])
    await _write_batches(kafka_bootstrap, topic, batches=3, size=10)
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=None)
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        end = (await consumer.end_offsets([tp]))[tp]
    finally:
        await consumer.stop()
    fenced = await read_fenced(kafka_bootstrap, topic, [0], "test")
    assert len(fenced[0]) == 30
    assert end <= 30  # tansu: 21 (the last batch's base offset + 1); a true end offset: 30
