"""The operator API's publisher of actions on `topics.actions`, under its own client id and metrics.

`ActionPublisher.write` sends an action's record keyed by its scope (the default partitioner puts it in the
partition of the scope's signals) with ``acks=all`` and returns once the broker acknowledged it within
`ack_seconds`, else raises `BrokerUnavailableError` (the API answers 503 with Retry-After). Actions are rare
and each request waits for its own acknowledgement: no group commit (that is HTTP ingest's `EventWriter`,
whose client name, logger and metrics are ingest's). Metrics: `OperatorApiMetrics`. Publishing only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from aiops.errors import BrokerUnavailableError
from aiops.metrics import OperatorApiMetrics

log = logging.getLogger("aiops.api")


class ActionPublisher:
    """One producer for the actions topic (see the module docstring)."""

    def __init__(self, bootstrap: str, topic: str, metrics: OperatorApiMetrics, *, client_id: str,
                 request_timeout_ms: int = 30000, ack_seconds: float = 10.0) -> None:
        self.topic = topic
        self.metrics = metrics
        self.ack_seconds = ack_seconds
        self.client_id = client_id
        self._settings = {"bootstrap_servers": bootstrap, "client_id": client_id, "acks": "all",
                          "request_timeout_ms": request_timeout_ms}
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        """Create and start the producer (here: aiokafka binds it to the running loop)."""
        self._producer = AIOKafkaProducer(**self._settings)
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def write(self, records: Sequence[tuple[bytes, bytes]]) -> None:
        """Every (key, value) acknowledged within `ack_seconds`, or `BrokerUnavailableError`."""
        if self._producer is None:
            self.metrics.actions_failed_total.labels(reason="not_started").inc(len(records))
            raise BrokerUnavailableError("the actions publisher is not started")
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.ack_seconds):
                futures = [await self._producer.send(self.topic, value=value, key=key) for key, value in records]
                await asyncio.gather(*futures)
        except TimeoutError:
            self.metrics.actions_failed_total.labels(reason="timeout").inc(len(records))
            raise BrokerUnavailableError(f"the broker did not acknowledge within {self.ack_seconds:g} s") from None
        except KafkaError as error:
            self.metrics.actions_failed_total.labels(reason="broker").inc(len(records))
            log.warning("publishing %d action(s) failed: %r", len(records), error)
            raise BrokerUnavailableError(f"the broker refused the action: {error}") from None
        self.metrics.actions_published_total.inc(len(records))
        self.metrics.publish_seconds.observe(time.perf_counter() - started)
