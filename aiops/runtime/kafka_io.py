"""Small Kafka clients behind the CLI: produce a JSONL file to the input topic, follow the incidents topic.

`produce_lines` sends each non-empty line as one message (keyed by service when the line is JSON with a
`service` field, so one series stays in one partition). `follow_incidents` yields incidents from the
incidents topic (from the beginning or only new ones) without joining a consumer group. The human line of
an incident version (`describe`, `IncidentNarrator`) lives in `aiops.runtime.incident_text`.

Both bound their waits by the Kafka request timeout: a broker that cannot be reached at start, or (while
following) stays unreachable that long, ends in one `BrokerUnavailableError` instead of endless retries.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, KafkaError
from pydantic import ValidationError

from aiops.errors import BrokerUnavailableError
from aiops.incidents import Incident

__all__ = ["event_key", "follow_incidents", "produce_lines"]

DEFAULT_REQUEST_TIMEOUT_MS = 30000
_POLL_MS = 500
_PROBE_INTERVAL_SECONDS = 2.0  # while the topic is quiet, check this often that the broker still answers
_PROBE_TIMEOUT_SECONDS = 5.0


def event_key(line: bytes) -> bytes | None:
    """Partition key of a raw event: its service and host (the series' entity), when readable."""
    try:
        parsed = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if isinstance(parsed, dict) and isinstance(parsed.get("service"), str):
        return f"{parsed['service']}|{parsed.get('host', '')}".encode()
    return None


def _why(error: BaseException, timeout_seconds: float) -> str:
    if isinstance(error, TimeoutError):
        return f"no answer within {timeout_seconds:g} s (kafka.request_timeout_ms)"
    if isinstance(error, KafkaConnectionError):
        return "no broker answers there (is it running? is the address right?)"
    if isinstance(error, ValueError):
        return f"not a HOST:PORT[,HOST:PORT] list ({error})"
    return str(error) or type(error).__name__


async def _stop(client: AIOKafkaProducer | AIOKafkaConsumer) -> None:
    """Close `client`, also when its broker is gone or we are being cancelled (Ctrl-C): a broker error while
    closing is never raised (it would replace the cancellation or the error being handled); a cancellation
    is, unless it is only aiokafka's fetcher re-raising its own."""
    try:
        await client.stop()
    except (KafkaError, OSError):
        pass
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():  # we are being cancelled ourselves: let it through
            raise


async def _start(client: AIOKafkaProducer | AIOKafkaConsumer, bootstrap: str, timeout_seconds: float) -> None:
    """Start `client` within the timeout; else close it and raise one `BrokerUnavailableError`."""
    try:
        await asyncio.wait_for(client.start(), timeout_seconds)
    except (KafkaError, OSError, ValueError, TimeoutError) as error:
        await _stop(client)
        raise BrokerUnavailableError(f"cannot reach Kafka at {bootstrap}: {_why(error, timeout_seconds)}") from None
    except asyncio.CancelledError:  # Ctrl-C while connecting: close what was opened, then stop
        await _stop(client)
        raise


async def produce_lines(
    bootstrap: str, topic: str, lines: Iterable[bytes], pace_seconds: float = 0.0,
    *, request_timeout_ms: int = DEFAULT_REQUEST_TIMEOUT_MS,
) -> int:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all",
                                request_timeout_ms=request_timeout_ms)
    await _start(producer, bootstrap, request_timeout_ms / 1000)
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
    except KafkaError as error:
        raise BrokerUnavailableError(f"lost Kafka at {bootstrap} after {sent} event(s): "
                                     f"{_why(error, request_timeout_ms / 1000)}") from None
    finally:
        await _stop(producer)
    return sent


class _Reachability:
    """Tells a quiet topic from a lost broker: a metadata request every few idle seconds, bounded retry."""

    def __init__(self, consumer: AIOKafkaConsumer, bootstrap: str, give_up_seconds: float) -> None:
        self._consumer = consumer
        self._bootstrap = bootstrap
        self._give_up = give_up_seconds
        self._loop = asyncio.get_running_loop()
        self._next_probe = self._loop.time() + _PROBE_INTERVAL_SECONDS
        self._failing_since: float | None = None

    def reached(self) -> None:
        self._failing_since = None

    async def check(self) -> None:
        """Probe when due; raise `BrokerUnavailableError` once unreachable for the give-up time."""
        now = self._loop.time()
        if now < self._next_probe:
            return
        self._next_probe = now + _PROBE_INTERVAL_SECONDS
        try:
            await asyncio.wait_for(self._consumer.topics(), min(_PROBE_TIMEOUT_SECONDS, self._give_up))
        except (KafkaError, OSError, TimeoutError):
            self._failing_since = now if self._failing_since is None else self._failing_since
            if now - self._failing_since >= self._give_up:
                raise BrokerUnavailableError(
                    f"lost Kafka at {self._bootstrap}: unreachable for {self._give_up:g} s "
                    "(kafka.request_timeout_ms)") from None
        else:
            self._failing_since = None


async def follow_incidents(
    bootstrap: str, topic: str, from_beginning: bool = True, idle_timeout: float | None = None,
    *, request_timeout_ms: int = DEFAULT_REQUEST_TIMEOUT_MS,
) -> AsyncIterator[Incident]:
    """Yield incidents as they arrive; stop after `idle_timeout` seconds without one (None: never).

    Raises `BrokerUnavailableError` when Kafka cannot be reached at start, or stays unreachable for
    `request_timeout_ms` while following.
    """
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, request_timeout_ms=request_timeout_ms,
        auto_offset_reset="earliest" if from_beginning else "latest", enable_auto_commit=False,
    )
    await _start(consumer, bootstrap, request_timeout_ms / 1000)
    reachability = _Reachability(consumer, bootstrap, request_timeout_ms / 1000)
    loop = asyncio.get_running_loop()
    try:
        last_batch = loop.time()  # idle time is measured, not counted in polls (a probe may take seconds)
        while idle_timeout is None or loop.time() - last_batch < idle_timeout:
            batch = await consumer.getmany(timeout_ms=_POLL_MS)
            if not batch:
                await reachability.check()
                continue
            reachability.reached()
            for records in batch.values():
                for record in records:
                    try:
                        yield Incident.model_validate_json(record.value)
                    except ValidationError:
                        continue
            last_batch = loop.time()
    finally:
        await _stop(consumer)
