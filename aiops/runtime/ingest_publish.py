"""HTTP ingest's writes to Kafka: one request's events in per-partition batches, acknowledged or refused.

`EventWriter.write` partitions (key, value) records exactly as aiokafka's default partitioner does (so an
entity lands where `aiops produce` would put it), sends one record batch per partition (`send_batch`, about
four times aiokafka's per-message `send`) and returns once the broker acknowledged every batch, or raises
`BrokerUnavailableError` when it did not within the timeout (the front then answers 503: the sender retries,
and a request is never accepted and dropped; a timed-out batch may still land: at least once).
`dead_letter` writes a refused payload's dead letter, best effort with the same bound. Kafka I/O only.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.partitioner import DefaultPartitioner

from aiops.deadletter import DeadLetter, letter_key
from aiops.errors import BrokerUnavailableError

log = logging.getLogger("aiops.ingest")
MAX_REQUEST_BYTES = 4 * 1024 * 1024
"""Largest record batch sent at once (tansu and Kafka accept 1 MiB messages; a batch holds many)."""


class EventWriter:
    def __init__(self, bootstrap: str, topic: str, deadletter_topic: str, *, client_id: str = "aiops-ingest",
                 request_timeout_ms: int = 30000, ack_seconds: float = 10.0) -> None:
        self.topic = topic
        self.ack_seconds = ack_seconds
        """How long `write` and `dead_letter` wait for the broker's acknowledgement."""
        self.deadletter_topic = deadletter_topic
        self._settings: dict[str, Any] = {
            "bootstrap_servers": bootstrap, "client_id": client_id, "acks": "all", "linger_ms": 2,
            "request_timeout_ms": request_timeout_ms, "max_request_size": MAX_REQUEST_BYTES}
        self._started: AIOKafkaProducer | None = None
        self._partitioner = DefaultPartitioner()
        self._partitions: list[int] = []

    @property
    def _producer(self) -> AIOKafkaProducer:
        if self._started is None:
            raise RuntimeError("EventWriter used before start()")
        return self._started

    async def start(self) -> None:
        """Create and start the producer (here, not in __init__: aiokafka binds it to the running loop, and
        the service builds its runners before `asyncio.run`)."""
        self._started = AIOKafkaProducer(**self._settings)
        await self._started.start()

    async def stop(self) -> None:
        if self._started is not None:
            await self._started.stop()

    async def _partitions_of(self, topic: str) -> list[int]:
        if topic == self.topic and self._partitions:
            return self._partitions
        partitions = sorted(await self._producer.partitions_for(topic))
        if topic == self.topic:
            self._partitions = partitions
        return partitions

    async def _send_all(self, records: list[tuple[bytes, bytes]]) -> None:
        partitions = await self._partitions_of(self.topic)
        by_partition: dict[int, list[tuple[bytes, bytes]]] = defaultdict(list)
        for key, value in records:
            by_partition[self._partitioner(key, partitions, partitions)].append((key, value))
        acknowledgements: list[asyncio.Future[Any]] = []
        for partition, items in by_partition.items():
            batch = self._producer.create_batch()
            for key, value in items:
                if batch.append(key=key, value=value, timestamp=None) is None:  # full: send it, start another
                    batch.close()
                    acknowledgements.append(await self._producer.send_batch(batch, self.topic, partition=partition))
                    batch = self._producer.create_batch()
                    batch.append(key=key, value=value, timestamp=None)
            batch.close()
            acknowledgements.append(await self._producer.send_batch(batch, self.topic, partition=partition))
        await asyncio.gather(*acknowledgements)

    async def write(self, records: list[tuple[bytes, bytes]]) -> None:
        """Every record acknowledged by the broker within `ack_seconds`, or `BrokerUnavailableError`."""
        if not records:
            return
        try:
            async with asyncio.timeout(self.ack_seconds):
                await self._send_all(records)
        except TimeoutError:
            raise BrokerUnavailableError(f"the broker did not acknowledge within {self.ack_seconds:g} s") from None
        except KafkaError as error:
            raise BrokerUnavailableError(f"the broker refused the events: {type(error).__name__}") from None

    async def dead_letter(self, letter: DeadLetter, key: bytes | None) -> bool:
        """Write `letter` to the dead-letter topic; False (logged) when the broker did not take it in time."""
        try:
            async with asyncio.timeout(self.ack_seconds):
                acknowledgement = await self._producer.send(
                    self.deadletter_topic, letter.model_dump_json().encode(), key=letter_key(key))
                await acknowledgement
        except (TimeoutError, KafkaError) as error:
            log.warning("dead letter of a refused %s payload not written: %s", letter.stage, type(error).__name__)
            return False
        return True
