"""Read state partitions of a compacted topic completely, without trusting the broker's end offsets.

tansu reports a partition's end offset as its last batch's base offset + 1 (three batches of 10 -> 21), so
"read to the end offset" can miss the last batch of a state topic. `read_fenced` writes a fence record
(key `__fence__`) to every partition first and reads until the fence's own offset, which the broker
acknowledged: everything written before the fence is read, whatever the broker reports as the end.
Fences are tiny, carry no state and are skipped by every reader; on a compacted topic each partition
keeps one. The detection worker's snapshot restore and the correlation worker's state restore use it.
I/O only: what the records mean is the caller's business.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

FENCE_KEY = b"__fence__"
Record = tuple[bytes | None, bytes | None, int]
"""(key, value, offset) of one record read back; value None is a tombstone."""


async def write_fences(producer: AIOKafkaProducer, topic: str, partitions: Iterable[int]) -> dict[int, int]:
    """One fence per partition; the acknowledged offset of each."""
    futures = {p: await producer.send(topic, key=FENCE_KEY, value=b"{}", partition=p) for p in sorted(set(partitions))}
    return {p: (await future).offset for p, future in futures.items()}


async def read_fenced(bootstrap: str, topic: str, partitions: Iterable[int], client_id: str,
                      *, timeout_seconds: float = 120.0) -> dict[int, list[Record]]:
    """Every record of each partition up to (not including) a fence written now, in offset order."""
    wanted = sorted(set(partitions))
    result: dict[int, list[Record]] = {p: [] for p in wanted}
    if not wanted:
        return result
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, client_id=f"{client_id}-fence", acks="all")
    await producer.start()
    try:
        fences = await write_fences(producer, topic, wanted)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                client_id=f"{client_id}-state-restore", fetch_max_wait_ms=20)
    await consumer.start()
    try:
        await asyncio.wait_for(_read_until(consumer, topic, fences, result), timeout_seconds)
    finally:
        await consumer.stop()
    return result


async def _read_until(consumer: AIOKafkaConsumer, topic: str, fences: dict[int, int],
                      result: dict[int, list[Record]]) -> None:
    tps = {TopicPartition(topic, p): fence for p, fence in fences.items()}
    consumer.assign(list(tps))
    await consumer.seek_to_beginning(*tps)
    pending = {tp for tp, fence in tps.items() if fence > 0}
    while pending:
        batch = await consumer.getmany(*pending, timeout_ms=200)
        for tp, records in batch.items():
            fence = tps[tp]
            for record in records:
                if record.offset >= fence:
                    pending.discard(tp)
                    break
                if record.key != FENCE_KEY:
                    result[tp.partition].append((record.key, record.value, record.offset))
        pending = {tp for tp in pending if await consumer.position(tp) < tps[tp]}
