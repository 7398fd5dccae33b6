"""The store projector without a broker: decoding, the store's location, and what it does on database errors.

Records are stand-ins with the fields aiokafka's carry; the consumer and producer are small fakes, so these
cases check the projector's own decisions: undecodable records dead-lettered with their reason (stage
``store``), offsets committed only after the write, a database outage retried (counted as progress) until it
passes, and a record the database refuses written around and dead-lettered (``store_rejected``).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from aiokafka import TopicPartition
from sqlalchemy.exc import DataError, OperationalError
from support.store_samples import decision, incident, notification_of

from aiops.config import AiopsConfig
from aiops.runtime.store_projector import StoreProjector, decode_records, store_location, topic_kinds
from aiops.store.models import ProjectionBatch, ProjectionCounts

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

    def __init__(self, failures: int, error: Exception, refuse: str | None = None) -> None:
        self.failures = failures
        self.error = error
        self.refuse = refuse
        self.written: list[ProjectionBatch] = []

    async def project(self, batch: ProjectionBatch) -> ProjectionCounts:
        if self.failures:
            self.failures -= 1
            raise self.error
        if self.refuse and any(r.incident.id == self.refuse for r in batch.incidents):
            raise DataError("INSERT", {}, Exception("invalid byte sequence"))
        self.written.append(batch)
        return ProjectionCounts(versions=len(batch.incidents))


class _Fakes:
    def __init__(self) -> None:
        self.commits: list[dict[TopicPartition, int]] = []
        self.letters: list[dict[str, Any]] = []

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.commits.append(offsets)

    async def send_and_wait(self, topic: str, value: bytes, key: bytes | None = None) -> None:
        self.letters.append(orjson.loads(value))


def _projector(store: _FlakyStore, tmp_path: Path) -> tuple[StoreProjector, _Fakes]:
    projector = StoreProjector(CONFIG, "127.0.0.1:1", store, None)  # type: ignore[arg-type]
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
