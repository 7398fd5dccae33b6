"""The store projector without a broker: decoding, the store's location, and what it does on database errors.

Records are stand-ins with the fields aiokafka's carry; the consumer and producer are small fakes, so these
cases check the projector's own decisions: undecodable records dead-lettered with their reason (stage
``store``), offsets committed only after the write, a database outage retried (counted as progress) until it
passes or, past the retry window, the batch given back (seek, no commit) so the consumer keeps polling, a record
the database refuses for any reason written around and dead-lettered (``store_rejected``), and a failed commit,
dead letter or listener that never stops the projector (the SQLite overflow that used to kill the worker).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from aiokafka import TopicPartition
from aiokafka.errors import CommitFailedError, KafkaConnectionError
from sqlalchemy.exc import DataError, OperationalError
from support.store_samples import decision, incident, notification_of

from aiops.config import AiopsConfig
from aiops.incidents import Incident
from aiops.runtime.store_projector import (
    WRITE_RETRY_WINDOW_SECONDS,
    Decoded,
    StoreProjector,
    decode_records,
    project_with_fallback,
    store_location,
    topic_kinds,
)
from aiops.store.models import IncidentRecord, ProjectionBatch, ProjectionCounts
from aiops.store.sql import SqlIncidentStore

CONFIG = AiopsConfig()
KINDS = topic_kinds(CONFIG)


def _record(topic: str, value: bytes | None, offset: int = 0) -> SimpleNamespace:
    return SimpleNamespace(topic=topic, partition=0, offset=offset, key=b"k", value=value, timestamp=1_700_000_000_000)


def test_decode_sorts_records_by_topic_and_rejects_what_it_cannot_read() -> None:
    item = incident(1)
    records = [
        _record(CONFIG.topics.incidents, item.model_dump_json().encode()),
        _record(CONFIG.topics.decisions, decision(item).model_dump_json().encode()),
        _record(CONFIG.delivery.notifications_topic, notification_of(item).model_dump_json().encode()),
        _record(CONFIG.topics.incidents, None),  # a tombstone: skipped
        _record(CONFIG.topics.incidents, b"{not json"),
        _record(CONFIG.topics.decisions, orjson.dumps({"id": "x"})),
    ]
    decoded = decode_records(records, KINDS)
    assert [r.incident for r in decoded.batch.incidents] == [item]
    assert decoded.batch.incidents[0].published_at is not None
    assert (len(decoded.batch.decisions), len(decoded.batch.notifications)) == (1, 1)
    assert [(r.offset, reason) for r, reason, _ in decoded.rejected] == [(0, "invalid_json"), (0, "schema")]


def test_store_location(monkeypatch: pytest.MonkeyPatch) -> None:
    assert store_location(CONFIG, embedded_broker=False) == ("sqlite+aiosqlite:///aiops-store.db", None)
    url, directory = store_location(CONFIG, embedded_broker=True)
    assert directory is not None
    assert url == f"sqlite+aiosqlite:///{directory / 'aiops-store.db'}"
    directory.rmdir()
    monkeypatch.setenv("STORE_DSN", "postgresql+psycopg://u:p@db/aiops")
    configured = AiopsConfig.model_validate({"store": {"url": "${ENV:STORE_DSN}"}})
    assert store_location(configured, embedded_broker=True) == ("postgresql+psycopg://u:p@db/aiops", None)


class _FlakyStore:
    """Fails its first `failures` writes with `error`, then writes; records what it was given."""

    def __init__(self, failures: int, error: Exception, refuse: str | None = None,
                 refusal: Exception | None = None) -> None:
        self.failures = failures
        self.error = error
        self.refuse = refuse
        self.refusal = refusal or DataError("INSERT", {}, Exception("invalid byte sequence"))
        self.written: list[ProjectionBatch] = []

    async def project(self, batch: ProjectionBatch) -> ProjectionCounts:
        if self.failures:
            self.failures -= 1
            raise self.error
        if self.refuse and any(r.incident.id == self.refuse for r in batch.incidents):
            raise self.refusal
        self.written.append(batch)
        return ProjectionCounts(versions=len(batch.incidents))


class _Fakes:
    """The consumer and the producer: commits, seeks and dead letters recorded; `commit_error` and
    `send_error` make those calls fail."""

    def __init__(self) -> None:
        self.commits: list[dict[TopicPartition, int]] = []
        self.letters: list[dict[str, Any]] = []
        self.seeks: list[tuple[TopicPartition, int]] = []
        self.commit_error: Exception | None = None
        self.send_error: Exception | None = None

    def assignment(self) -> set[TopicPartition]:
        return {TopicPartition(CONFIG.topics.incidents, 0)}

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.seeks.append((tp, offset))

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        if self.commit_error is not None:
            raise self.commit_error
        self.commits.append(offsets)

    async def send_and_wait(self, topic: str, value: bytes, key: bytes | None = None) -> None:
        if self.send_error is not None:
            raise self.send_error
        self.letters.append(orjson.loads(value))


def _projector(store: Any, tmp_path: Path, **options: Any) -> tuple[StoreProjector, _Fakes]:
    projector = StoreProjector(CONFIG, "127.0.0.1:1", store, None, **options)
    fakes = _Fakes()
    projector._consumer = fakes  # type: ignore[assignment]
    projector._producer = fakes  # type: ignore[assignment]
    return projector, fakes


def _batch(*items: Any) -> dict[TopicPartition, list[Any]]:
    tp = TopicPartition(CONFIG.topics.incidents, 0)
    return {tp: [_record(tp.topic, value, offset) for offset, value in enumerate(items)]}


async def test_an_outage_is_retried_and_offsets_follow_the_write(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr("aiops.runtime.store_projector.asyncio.sleep", no_wait)
    store = _FlakyStore(3, OperationalError("INSERT", {}, Exception("connection refused")))
    projector, fakes = _projector(store, tmp_path)
    await projector.process(_batch(incident(1).model_dump_json().encode(), b"garbage"))
    assert waits == [1.0, 2.0, 4.0]
    assert [r.incident.id for r in store.written[0].incidents] == ["inc-1"]
    assert fakes.commits == [{TopicPartition(CONFIG.topics.incidents, 0): 2}]
    assert [(letter["stage"], letter["reason"]) for letter in fakes.letters] == [("store", "invalid_json")]
    assert projector.db_error is None
    assert projector.status(0.0)["ok"]


async def test_a_record_the_database_refuses_is_dead_lettered_and_the_rest_written(tmp_path: Path) -> None:
    store = _FlakyStore(0, RuntimeError("unused"), refuse="inc-2")
    projector, fakes = _projector(store, tmp_path)
    await projector.process(_batch(*(incident(n).model_dump_json().encode() for n in (1, 2, 3))))
    assert [b.incidents[0].incident.id for b in store.written] == ["inc-1", "inc-3"]
    assert [(letter["reason"], letter["source_offset"]) for letter in fakes.letters] == [("store_rejected", 1)]
    assert fakes.commits == [{TopicPartition(CONFIG.topics.incidents, 0): 3}]


async def test_an_outage_longer_than_the_window_gives_the_batch_back_and_keeps_polling(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The write is not retried past the window (the consumer would miss max_poll_interval and be evicted): the
    batch is sought back, nothing committed; fetched again after the outage, it is written and committed."""
    now = [0.0]

    async def advance(seconds: float) -> None:
        now[0] += seconds

    monkeypatch.setattr("aiops.runtime.store_projector.asyncio.sleep", advance)
    store = _FlakyStore(10**6, OperationalError("INSERT", {}, Exception("connection refused")))
    projector, fakes = _projector(store, tmp_path, clock=lambda: now[0])
    batch = _batch(b"garbage", incident(1).model_dump_json().encode())
    assert await projector.process(batch) is False
    assert 0 < now[0] <= WRITE_RETRY_WINDOW_SECONDS
    assert fakes.seeks == [(TopicPartition(CONFIG.topics.incidents, 0), 0)]
    assert (fakes.commits, fakes.letters, projector.projected) == ([], [], 0)
    assert "connection refused" in (projector.db_error or "")
    store.failures = 0  # the database is back: the batch, fetched again, goes through
    assert await projector.process(batch) is True
    assert fakes.commits == [{TopicPartition(CONFIG.topics.incidents, 0): 2}]
    assert [letter["reason"] for letter in fakes.letters] == ["invalid_json"]
    assert projector.db_error is None


async def test_a_failed_commit_or_listener_is_logged_not_raised(tmp_path: Path) -> None:
    def listener(_versions: object) -> None:
        raise RuntimeError("listener bug")

    projector, fakes = _projector(_FlakyStore(0, RuntimeError("unused")), tmp_path, on_projected=listener)
    fakes.commit_error = CommitFailedError("the group rebalanced")
    assert await projector.process(_batch(incident(1).model_dump_json().encode())) is True
    assert projector.projected == 1  # written; the records are read again and change nothing


async def test_a_dead_letter_that_cannot_be_sent_gives_the_batch_back(tmp_path: Path) -> None:
    store = _FlakyStore(0, RuntimeError("unused"))
    projector, fakes = _projector(store, tmp_path)
    fakes.send_error = KafkaConnectionError("broker gone")
    batch = _batch(incident(1).model_dump_json().encode(), b"garbage")
    assert await projector.process(batch) is False
    assert (fakes.commits, fakes.seeks) == ([], [(TopicPartition(CONFIG.topics.incidents, 0), 0)])
    fakes.send_error = None
    assert await projector.process(batch) is True
    assert [letter["reason"] for letter in fakes.letters] == ["invalid_json"]
    assert fakes.commits == [{TopicPartition(CONFIG.topics.incidents, 0): 2}]


async def test_any_error_on_a_single_record_dead_letters_it(tmp_path: Path) -> None:
    store = _FlakyStore(0, RuntimeError("unused"), refuse="inc-2", refusal=OverflowError("int too big"))
    projector, fakes = _projector(store, tmp_path)
    assert await projector.process(_batch(*(incident(n).model_dump_json().encode() for n in (1, 2, 3))))
    assert [b.incidents[0].incident.id for b in store.written] == ["inc-1", "inc-3"]
    assert [(letter["reason"], letter["source_offset"]) for letter in fakes.letters] == [("store_rejected", 1)]
    assert "OverflowError" in fakes.letters[0]["detail"]


def test_a_version_past_the_stores_integer_column_is_a_schema_error() -> None:
    huge = incident(1).model_dump(mode="json") | {"version": 2**63, "idempotency_key": f"inc-1:{2**63}"}
    decoded = decode_records([_record(CONFIG.topics.incidents, orjson.dumps(huge))], KINDS)
    assert [reason for _, reason, _ in decoded.rejected] == ["schema"]
    assert incident(1, 2**31 - 1).version == 2**31 - 1


async def test_an_overflowing_record_on_sqlite_is_refused_not_fatal(tmp_path: Path) -> None:
    """The poison record that used to kill the worker: SQLite raises OverflowError (not a SQLAlchemyError) for
    a version past 64 bits; the shared write path refuses that record alone and writes the others."""
    store = SqlIncidentStore(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
    await store.open()
    try:
        huge = Incident.model_construct(**(dict(incident(2)) | {"version": 2**63}))  # past the model's bound
        parts = [(_record(CONFIG.topics.incidents, b"", offset),
                  ProjectionBatch(incidents=[IncidentRecord(item, None)]))
                 for offset, item in enumerate((incident(1), huge, incident(3)))]
        decoded = Decoded(ProjectionBatch(incidents=[r for _, part in parts for r in part.incidents]), [], parts)
        refused = await project_with_fallback(store, decoded)
        assert [(record.offset, reason) for record, reason, _ in refused] == [(1, "store_rejected")]
        assert "OverflowError" in refused[0][2]
        assert (await store.stats()).incidents == 2
    finally:
        await store.close()
