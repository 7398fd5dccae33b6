"""One consumer fetch for the batch workers (detection, correlation): errors are logged and waited out.

`fetch_batch` asks the consumer for up to `max_records` within `timeout_ms`; a consumer error (broker gone,
coordinator moving) is logged with the stage's name, followed by a one-second pause, and gives an empty
batch, so the worker's loop goes on instead of dying. Cancellation propagates. It does not commit, retry
publishing or track progress: the workers do. `group_timeouts` is the consumer-group timing every worker's
consumer shares.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord

from aiops.config import WorkersConfig

log = logging.getLogger(__name__)

RETRY_PAUSE_SECONDS = 1.0

Batch = dict[TopicPartition, list[ConsumerRecord[Any, Any]]]


def group_timeouts(workers: WorkersConfig) -> dict[str, int]:
    """The consumer-group timing every worker's consumer takes from `workers` (session, heartbeat,
    rebalance), as aiokafka keyword arguments in milliseconds."""
    return {
        "session_timeout_ms": int(workers.session_timeout_seconds * 1000),
        "heartbeat_interval_ms": int(workers.heartbeat_interval_seconds * 1000),
        "rebalance_timeout_ms": int(workers.rebalance_timeout_seconds * 1000),
    }


async def fetch_batch(consumer: AIOKafkaConsumer, timeout_ms: int, max_records: int, stage: str) -> Batch:
    """The next batch, or an empty one after a logged consumer error and a short pause."""
    try:
        batch: Batch = await consumer.getmany(timeout_ms=timeout_ms, max_records=max_records)
    except asyncio.CancelledError:
        raise
    except Exception:  # consumer errors are logged and retried, never fatal
        log.exception("%s fetch failed; retrying", stage)
        await asyncio.sleep(RETRY_PAUSE_SECONDS)
        return {}
    return batch
