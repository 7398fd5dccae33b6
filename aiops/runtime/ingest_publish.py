"""HTTP ingest's writes to Kafka: the events of every request in flight, group-committed in record batches.

`EventWriter.write` queues one request's (key, value) records and waits for them to be acknowledged. One
flusher task takes everything queued, partitions it as aiokafka's default partitioner does (`KeyPartitioner`:
an entity lands where `aiops produce` puts it), sends one record batch per partition (`send_batch`) and,
once the broker acknowledged them (`acks=all`), releases every request of that flush; requests arriving
meanwhile wait for the next flush. So a batch of 10 alerts does not pay a broker round trip of its own: the
more load, the larger each flush. A request not acknowledged within `ack_seconds`, or arriving while more
than `max_queued_records` wait, gets `BrokerUnavailableError` (the front answers 503 and the sender retries;
a request given up on before its flush started is not written; one whose flush was under way may land:
at least once). `dead_letter` writes a refused payload's dead letter, best effort with the same bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from aiops.deadletter import DeadLetter, letter_key
from aiops.errors import BrokerUnavailableError
from aiops.runtime.partitioner import KeyPartitioner

log = logging.getLogger("aiops.ingest")
MAX_BATCH_BYTES = 512 * 1024
"""Largest record batch (a Kafka broker's default `message.max.bytes` is 1 MiB per batch)."""
MAX_REQUEST_BYTES = 4 * 1024 * 1024

Record = tuple[bytes, bytes]


@dataclass
class _Queued:
    records: list[Record]
    done: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class EventWriter:
    def __init__(self, bootstrap: str, topic: str, deadletter_topic: str, *, client_id: str = "aiops-ingest",
                 request_timeout_ms: int = 30000, ack_seconds: float = 10.0,
                 max_queued_records: int = 200_000, linger_seconds: float = 0.0) -> None:
        self.topic = topic
        self.deadletter_topic = deadletter_topic
        self.ack_seconds = ack_seconds
        """How long `write` and `dead_letter` wait for the broker's acknowledgement."""
        self.max_queued_records = max_queued_records
        self.linger_seconds = linger_seconds
        """How long a flush waits after the first queued request for others to join it."""
        self._settings: dict[str, Any] = {
            "bootstrap_servers": bootstrap, "client_id": client_id, "acks": "all", "linger_ms": 0,
            "request_timeout_ms": request_timeout_ms, "max_request_size": MAX_REQUEST_BYTES,
            "max_batch_size": MAX_BATCH_BYTES}
        self._started: AIOKafkaProducer | None = None
        self._partitioner = KeyPartitioner()
        self._partitions: list[int] = []
        self._queue: list[_Queued] = []
        self._queued_records = 0
        self._wake: asyncio.Event | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._in_flight: list[_Queued] = []
        self._failed: BaseException | None = None
        self.flushes = 0
        """Flushes made (each: one record batch per partition it touched)."""

    @property
    def _producer(self) -> AIOKafkaProducer:
        if self._started is None:
            raise RuntimeError("EventWriter used before start()")
        return self._started

    async def start(self) -> None:
        """Create and start the producer and the flusher (here, not in __init__: aiokafka binds the producer to
        the running loop, and the service builds its runners before `asyncio.run`)."""
        self._started = AIOKafkaProducer(**self._settings)
        await self._started.start()
        self._wake = asyncio.Event()
        self._flusher = asyncio.create_task(self._flush_forever(), name="aiops-ingest-flusher")
        self._flusher.add_done_callback(self._flusher_ended)

    @property
    def healthy(self) -> bool:
        """False once the flusher has died (then every write fails at once and the front answers 503)."""
        return self._failed is None

    def _flusher_ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self._failed = task.exception()
            log.error("the ingest flusher failed; HTTP ingest answers 503 until restart", exc_info=self._failed)
            self._fail_all(BrokerUnavailableError("the ingest writer failed"))

    def _fail_all(self, failure: BrokerUnavailableError) -> None:
        for queued in [*self._in_flight, *self._queue]:
            if not queued.done.done():
                queued.done.set_exception(failure)
                queued.done.exception()
        self._queue.clear()
        self._queued_records = 0

    async def stop(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        self._fail_all(BrokerUnavailableError("stopping"))
        if self._started is not None:
            await self._started.stop()

    async def write(self, records: list[Record]) -> None:
        """Every record acknowledged by the broker within `ack_seconds`, or `BrokerUnavailableError`."""
        if not records:
            return
        if self._wake is None or self._failed is not None:
            raise BrokerUnavailableError("the writer is not started" if self._failed is None else "the writer failed")
        if self._queued_records + len(records) > self.max_queued_records:
            raise BrokerUnavailableError(f"{self._queued_records} events already wait for the broker")
        queued = _Queued(records)
        self._queue.append(queued)
        self._queued_records += len(records)
        self._wake.set()
        try:
            async with asyncio.timeout(self.ack_seconds):
                await asyncio.shield(queued.done)
        except TimeoutError:
            queued.done.cancel()  # not yet flushed: it will not be; under way: it may land (at least once)
            raise BrokerUnavailableError(f"the broker did not acknowledge within {self.ack_seconds:g} s") from None

    async def _flush_forever(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            if self.linger_seconds:
                await asyncio.sleep(self.linger_seconds)  # gather the requests arriving meanwhile
            self._wake.clear()
            taken, self._queue = self._queue, []
            self._queued_records -= sum(len(queued.records) for queued in taken)
            live = [queued for queued in taken if not queued.done.done()]
            if live:
                self._in_flight = live
                await self._flush(live)
                self._in_flight = []

    async def _flush(self, live: list[_Queued]) -> None:
        try:
            async with asyncio.timeout(self.ack_seconds):
                await self._send_all([record for queued in live for record in queued.records])
        except (TimeoutError, KafkaError) as error:
            failure = BrokerUnavailableError(f"the broker did not take the events: {type(error).__name__}")
            for queued in live:
                if not queued.done.done():
                    queued.done.set_exception(failure)
                    queued.done.exception()  # retrieved here: a waiter that gave up will not
            return
        self.flushes += 1
        for queued in live:
            if not queued.done.done():
                queued.done.set_result(None)

    async def _partitions_of(self) -> list[int]:
        if not self._partitions:
            self._partitions = sorted(await self._producer.partitions_for(self.topic))
        return self._partitions

    async def _send_all(self, records: list[Record]) -> None:
        partitions = await self._partitions_of()
        by_partition: dict[int, list[Record]] = defaultdict(list)
        for partition, record in zip(self._partitioner.partitions([key for key, _ in records], partitions), records,
                                     strict=True):
            by_partition[partition].append(record)
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
