"""Store projector: the incidents, decisions and notifications topics, projected into the incident store.

`StoreProjector` (a runner of `aiops run`, stage ``store`` in /healthz) reads the three topics in its own
consumer group (`store.consumer_group`, default ``<app_id>-store``), decodes each fetched batch
(`decode_records`), writes it in one transaction, dead-letters what it could not take (stage ``store``) and
commits the offsets last: at-least-once reading plus idempotent writes, so a crash or a re-read changes no
row. A batch the database refuses is written record by record (`project_with_fallback`, shared with the
rebuild); any error on a single record is its content's fault (``store_rejected``). A database outage (at
start too) is retried with backoff for `WRITE_RETRY_WINDOW_SECONDS`, then the batch is given back (seek to
its first offsets, no commit) and fetched again, so the consumer keeps polling and stays in its group; a
failed commit or dead letter is logged, never fatal. `run` raises for nothing recoverable. Retention runs
at start and every `store.retention_interval_seconds`. After each database commit the batch's incident
versions go to `on_projected` (the API's live stream), never blocking. `store_location` resolves `store.url`.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, SQLAlchemyError, StatementError

from aiops.clock import Wall, utc_now
from aiops.config import AiopsConfig
from aiops.deadletter import dead_letter
from aiops.decisions import Decision
from aiops.errors import StoreUnavailableError
from aiops.incidents import Incident
from aiops.metrics import AiopsMetrics
from aiops.runtime.fetch import fetch_batch, group_timeouts
from aiops.runtime.progress import ConsumerProgress
from aiops.sinks.notifications import NotificationRecord
from aiops.sinks.security import resolve_secret
from aiops.store.config import DEFAULT_STORE_FILE
from aiops.store.models import IncidentRecord, ProjectionBatch
from aiops.store.protocol import IncidentStore
from aiops.store.sql import SqlIncidentStore

log = logging.getLogger("aiops.store")
STAGE = "store"
MAX_BACKOFF_SECONDS = 30.0
MAX_POLL_INTERVAL_MS = 300_000
WRITE_RETRY_WINDOW_SECONDS = 60.0
"""How long one batch's write is retried before the batch is given back and fetched again: well inside
`MAX_POLL_INTERVAL_MS`, after which the group would evict a consumer that stopped polling."""
Refused = list[tuple[Any, str, str]]
"""Records the store could not take: (record, reason, detail)."""


@dataclass
class Decoded:
    """A fetched batch split into what the store takes and what it cannot read: (record, reason, detail)."""

    batch: ProjectionBatch
    rejected: Refused = field(default_factory=list)
    parts: list[tuple[Any, ProjectionBatch]] = field(default_factory=list)


def _published_at(record: Any) -> datetime | None:
    timestamp = getattr(record, "timestamp", None)
    return datetime.fromtimestamp(timestamp / 1000.0, UTC) if timestamp and timestamp > 0 else None


def _decode_one(record: Any, topics: Mapping[str, str]) -> ProjectionBatch:
    kind = topics[record.topic]
    if kind == "incidents":
        incident = Incident.model_validate_json(record.value)
        return ProjectionBatch(incidents=[IncidentRecord(incident, _published_at(record))])
    if kind == "decisions":
        return ProjectionBatch(decisions=[Decision.model_validate_json(record.value)])
    return ProjectionBatch(notifications=[NotificationRecord.model_validate_json(record.value)])


def decode_records(records: Iterable[Any], topics: Mapping[str, str]) -> Decoded:
    """Decode records of the three topics (`topics`: topic name -> incidents|decisions|notifications);
    tombstones are skipped."""
    parts: list[tuple[Any, ProjectionBatch]] = []
    rejected: Refused = []
    for record in records:
        if record.value is None:
            continue
        try:
            parts.append((record, _decode_one(record, topics)))
        except ValidationError as error:
            reason = "invalid_json" if any(e["type"] == "json_invalid" for e in error.errors()) else "schema"
            rejected.append((record, reason, str(error)[:2000]))
    batch = ProjectionBatch(
        incidents=[r for _, part in parts for r in part.incidents],
        decisions=[d for _, part in parts for d in part.decisions],
        notifications=[n for _, part in parts for n in part.notifications])
    return Decoded(batch, rejected, parts)


def topic_kinds(config: AiopsConfig) -> dict[str, str]:
    return {config.topics.incidents: "incidents", config.topics.decisions: "decisions",
            config.delivery.notifications_topic: "notifications"}


def store_location(config: AiopsConfig, *, embedded_broker: bool) -> tuple[str, Path | None]:
    """The store's URL (secret references resolved) and, for the null default with the embedded broker, the
    temporary directory holding it (the caller removes it)."""
    if config.store.url is not None:
        return resolve_secret(config.store.url, "store.url"), None
    if not embedded_broker:
        return f"sqlite+aiosqlite:///{DEFAULT_STORE_FILE}", None
    directory = Path(tempfile.mkdtemp(prefix="aiops-store-"))
    return f"sqlite+aiosqlite:///{directory / DEFAULT_STORE_FILE}", directory


def build_store(config: AiopsConfig, url: str) -> SqlIncidentStore:
    return SqlIncidentStore(url, retention_days=config.store.retention_days,
                            audit_retention_days=config.store.audit_retention_days)


def _is_transient(error: BaseException) -> bool:
    """The database could not be reached or did not answer (the same rows may be written later); any other
    error on a record is the record's fault (a refused value, a bind conversion, an overflow)."""
    if isinstance(error, (OSError, StoreUnavailableError)):
        return True
    if isinstance(error, (DataError, IntegrityError)):
        return False
    return isinstance(error, DBAPIError) or (isinstance(error, SQLAlchemyError)
                                             and not isinstance(error, StatementError))


async def project_with_fallback(store: IncidentStore, decoded: Decoded) -> Refused:
    """`decoded.batch` in one transaction, else each record alone; the records refused (``store_rejected``)
    are returned. Transient errors (`_is_transient`) propagate: the caller retries the whole batch (the
    writes are idempotent). The live projector and the rebuild both write through here."""
    try:
        await store.project(decoded.batch)
        return []
    except Exception as error:  # anything but an outage sends the batch record by record
        if _is_transient(error):
            raise
    refused: Refused = []
    for record, part in decoded.parts:
        try:
            await store.project(part)
        except Exception as error:  # one record's failure is that record's, never the worker's
            if _is_transient(error):
                raise
            refused.append((record, "store_rejected", f"{type(error).__name__}: {error}"[:2000]))
    return refused


class StoreProjector:
    """Consumes the three topics in its group and projects them into `store`; see the module docstring."""

    stage = STAGE

    def __init__(self, config: AiopsConfig, bootstrap: str, store: IncidentStore, metrics: AiopsMetrics | None,
                 *, wall: Wall = utc_now, clock: Callable[[], float] = time.time,
                 temporary_dir: Path | None = None,
                 on_projected: Callable[[Sequence[Incident]], None] | None = None) -> None:
        """`on_projected(versions)`: called after each committed batch with its incident versions."""
        self.config = config
        self.on_projected = on_projected
        self.bootstrap = bootstrap
        self.store = store
        self.metrics = metrics
        self.wall = wall
        self.clock = clock
        self.temporary_dir = temporary_dir
        self.topics = topic_kinds(config)
        self.group_id = config.store.group_id(config.workers.app_id)
        self.progress = {topic: ConsumerProgress(config.workers.stall_seconds) for topic in self.topics}
        self.projected = 0
        self.db_error: str | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._stopping = asyncio.Event()
        self._next_retention = 0.0
        self._backoff = 1.0
        self._store_open = False
        self._watch: asyncio.Task[None] | None = None

    def status(self, now: float) -> Mapping[str, Any]:
        """Health of the stage (a `StageSource`): ok unless a partition of one of the topics is stalled."""
        statuses = {topic: progress.status(now) for topic, progress in self.progress.items()}
        status: dict[str, Any] = {
            "ok": all(s["ok"] for s in statuses.values()),
            "stalled_partitions": [f"{t}:{p}" for t, s in statuses.items() for p in s["stalled_partitions"]],
            "lag_records": {f"{t}:{p}": n for t, s in statuses.items() for p, n in s["lag_records"].items()},
            "projected": self.projected,
        }
        if self.db_error is not None:
            status["db_error"] = self.db_error
        return status

    async def start(self) -> None:
        """Open the store (an unreachable database is retried by `run`; a bad URL is a `ConfigError`) and the
        Kafka clients."""
        self._store_open = await self._open_store()
        workers = self.config.workers
        self._producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all", linger_ms=5)
        await self._producer.start()
        self._consumer = AIOKafkaConsumer(
            *self.topics, bootstrap_servers=self.bootstrap, group_id=self.group_id, enable_auto_commit=False,
            auto_offset_reset="earliest", fetch_max_wait_ms=50,
            **group_timeouts(workers),
            max_poll_interval_ms=MAX_POLL_INTERVAL_MS,
        )
        await self._consumer.start()

    async def stop(self) -> None:
        self._stopping.set()
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)
            self._watch = None
        if self._consumer is not None:
            await self._consumer.stop()
        if self._producer is not None:
            await self._producer.stop()
        await self.store.close()
        if self.temporary_dir is not None:
            shutil.rmtree(self.temporary_dir, ignore_errors=True)

    async def run(self) -> None:
        assert self._consumer is not None
        if self._watch is None:
            self._watch = asyncio.create_task(self._watch_progress(), name="aiops-store-progress")
        settings = self.config.store
        backoff = 1.0
        while not self._store_open and not self._stopping.is_set():
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            self._store_open = await self._open_store()
        while not self._stopping.is_set():
            await self._maybe_retain()
            batch = await fetch_batch(self._consumer, settings.batch_timeout_ms, settings.batch_max_records, STAGE)
            if batch:
                await self.process(batch)

    async def _open_store(self) -> bool:
        try:
            await self.store.open()
        except (StoreUnavailableError, SQLAlchemyError, OSError) as error:
            self.db_error = str(error) if isinstance(error, StoreUnavailableError) else _summary(error)
            log.warning("%s; the projector retries (the rest of the worker runs)", error)
            return False
        self.db_error = None
        log.info("incident store at %s", getattr(self.store, "shown_url", "?"))
        return True

    async def process(self, batch: Mapping[TopicPartition, list[Any]]) -> bool:
        """Decode, write, dead-letter what the store cannot take, then commit the offsets. False when the batch
        was given back instead (database or broker unavailable, or stopping): nothing committed, fetched again."""
        assert self._consumer is not None
        for tp, records in batch.items():
            self.progress[tp.topic].fetched(tp.partition, records[0].offset, records[-1].offset)
        decoded = decode_records((r for records in batch.values() for r in records), self.topics)
        refused = await self._write(decoded)
        if refused is None or self._stopping.is_set() or not await self._dead_letters([*decoded.rejected, *refused]):
            self._give_back(batch)
            return False
        self._announce(decoded)
        await self._commit({tp: records[-1].offset + 1 for tp, records in batch.items()})
        for tp, records in batch.items():
            self.progress[tp.topic].processed(tp.partition, records[-1].offset)
        self.projected += len(decoded.batch)
        return True

    async def _write(self, decoded: Decoded) -> Refused | None:
        """`project_with_fallback`, retried with backoff on transient errors for `WRITE_RETRY_WINDOW_SECONDS`
        (the backoff carries over to the next batch); None when it gave up or is stopping."""
        deadline = self.clock() + WRITE_RETRY_WINDOW_SECONDS
        while True:
            try:
                refused = await project_with_fallback(self.store, decoded)
            except Exception as error:  # noqa: BLE001 - only transient errors come out of the fallback
                self.db_error = _summary(error)
            else:
                self.db_error = None
                self._backoff = 1.0
                return refused
            if self._stopping.is_set() or self.clock() + self._backoff > deadline:
                log.warning("incident store write failed (%s); the batch is fetched again", self.db_error)
                return None
            log.warning("incident store write failed, retrying in %.0f s: %s", self._backoff, self.db_error)
            now = self.clock()
            for progress in self.progress.values():
                progress.active(now, until=now + self._backoff)
            await asyncio.sleep(self._backoff)
            self._backoff = min(self._backoff * 2, MAX_BACKOFF_SECONDS)

    def _give_back(self, batch: Mapping[TopicPartition, list[Any]]) -> None:
        """Seek the batch's partitions (those still assigned) back to its first offsets."""
        assert self._consumer is not None
        assigned = self._consumer.assignment()
        for tp, records in batch.items():
            if tp not in assigned:
                continue  # another member owns it now and reads it from the last commit
            try:
                self._consumer.seek(tp, records[0].offset)
            except KafkaError as error:
                log.warning("store: could not seek %s:%d back: %r", tp.topic, tp.partition, error)

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        """Commit the offsets of the partitions still assigned; a failure (e.g. `CommitFailedError` after an
        eviction) is logged: the records are read again and their writes change nothing."""
        assert self._consumer is not None
        assigned = self._consumer.assignment()
        owned = {tp: offset for tp, offset in offsets.items() if tp in assigned}
        if not owned:
            return
        try:
            await self._consumer.commit(owned)
        except KafkaError as error:
            log.warning("committing store offsets failed (the records are read again): %r", error)

    def _announce(self, decoded: Decoded) -> None:
        if self.on_projected is None or not decoded.batch.incidents:
            return
        try:
            self.on_projected([record.incident for record in decoded.batch.incidents])
        except Exception:  # a live-stream listener never stops the projection
            log.exception("store: the projected-versions listener failed")

    async def _dead_letters(self, refused: Refused) -> bool:
        """Send each dead letter; False when one could not be sent (the batch is given back and retried, so
        a dead letter may be sent twice)."""
        for record, reason, detail in refused:
            try:
                await self._dead(record, reason, detail)
            except KafkaError as error:
                log.warning("store: dead-lettering %s:%d@%d failed (%r); the batch is fetched again",
                            record.topic, record.partition, record.offset, error)
                return False
        return True

    async def _dead(self, record: Any, reason: str, detail: str) -> None:
        assert self._producer is not None
        letter = dead_letter(STAGE, reason, detail, record.value, self.wall(), topic=record.topic,
                             partition=record.partition, offset=record.offset, key=record.key)
        await self._producer.send_and_wait(self.config.topics.deadletter, value=letter.model_dump_json().encode(),
                                           key=record.key)
        if self.metrics is not None:
            self.metrics.events_deadlettered_total.labels(reason=reason).inc()
        log.warning("dead-lettered a %s record the store cannot take: %s", record.topic, reason,
                    extra={"topic": record.topic, "partition": record.partition, "offset": record.offset})

    async def _maybe_retain(self) -> None:
        now = self.clock()
        if now < self._next_retention:
            return
        self._next_retention = now + self.config.store.retention_interval_seconds
        try:
            deleted = await self.store.apply_retention(self.wall())
        except Exception as error:  # noqa: BLE001 - retention is maintenance: logged, tried again later
            log.warning("incident store retention failed (next try in %g s): %r",
                        self.config.store.retention_interval_seconds, error)
            return
        if deleted.incidents or deleted.audit:
            log.info("incident store retention deleted %s", deleted)

    async def _watch_progress(self) -> None:
        """End offsets of the assigned partitions into `progress`, every `workers.progress_poll_seconds`."""
        while True:
            await asyncio.sleep(self.config.workers.progress_poll_seconds)
            try:
                await self._poll_progress()
            except Exception as error:  # noqa: BLE001 - a failed poll is logged, never fatal
                log.warning("store: could not read offsets: %r", error)

    async def _poll_progress(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        owned = list(consumer.assignment())
        for topic, progress in self.progress.items():
            progress.assigned(tp.partition for tp in owned if tp.topic == topic)
            for partition in progress.unknown():
                committed = await consumer.committed(TopicPartition(topic, partition))
                if committed is not None:
                    progress.starts_at(partition, committed)
        if owned:
            ends = await consumer.end_offsets(owned)
            now = self.clock()
            for tp, end in ends.items():
                self.progress[tp.topic].observe_ends({tp.partition: end}, now)


def _summary(error: BaseException) -> str:
    return f"{type(error).__name__}: {(str(error).splitlines() or [''])[0][:300]}"
