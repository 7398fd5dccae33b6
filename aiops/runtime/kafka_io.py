"""Small Kafka clients behind the CLI: produce a JSONL file to the input topic, follow the incidents topic.

`produce_lines` sends each non-empty line as one message (keyed by service when the line is JSON with a
`service` field, so one series stays in one partition). `follow_incidents` yields incidents from the
incidents topic (from the beginning or only new ones) without joining a consumer group.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pydantic import ValidationError

from aiops.incidents import Incident


def event_key(line: bytes) -> bytes | None:
    """Partition key of a raw event: its service and host (the series' entity), when readable."""
    try:
        parsed = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if isinstance(parsed, dict) and isinstance(parsed.get("service"), str):
        return f"{parsed['service']}|{parsed.get('host', '')}".encode()
    return None


async def produce_lines(
    bootstrap: str, topic: str, lines: Iterable[bytes], pace_seconds: float = 0.0
) -> int:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all")
    await producer.start()
    sent = 0
    try:
        futures = []
        for raw in lines:
            line = raw.rstrip(b"\r\n")
            if not line:
                continue
            futures.append(await producer.send(topic, value=line, key=event_key(line)))
            sent += 1
            if pace_seconds:
                await asyncio.sleep(pace_seconds)
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return sent


async def follow_incidents(
    bootstrap: str, topic: str, from_beginning: bool = True, idle_timeout: float | None = None
) -> AsyncIterator[Incident]:
    """Yield incidents as they arrive; stop after `idle_timeout` seconds without one (None: never)."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None,
        auto_offset_reset="earliest" if from_beginning else "latest", enable_auto_commit=False,
    )
    await consumer.start()
    try:
        idle = 0.0
        while idle_timeout is None or idle < idle_timeout:
            batch = await consumer.getmany(timeout_ms=500)
            if not batch:
                idle += 0.5
                continue
            idle = 0.0
            for records in batch.values():
                for record in records:
                    try:
                        yield Incident.model_validate_json(record.value)
                    except ValidationError:
                        continue
    finally:
        await consumer.stop()


def describe(incident: Incident) -> str:
    """One human line per incident change."""
    cause = incident.root_cause[0].service if incident.root_cause else "-"
    change = incident.change
    delta = f"+{len(change.added)} member(s)" if change.added else ""
    if change.resolved:
        delta += f" {len(change.resolved)} resolved"
    return (f"{incident.last_seen:%H:%M:%S} {incident.status.upper():8} {incident.priority} {incident.id} "
            f"v{incident.version} services={','.join(incident.services)} root_cause={cause} "
            f"members={len(incident.members)} {delta.strip()} | {incident.title}")
