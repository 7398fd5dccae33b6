"""Operator actions across a crash: the restarted correlation worker re-derives byte-identical versions.

The real `CorrelationWorker.process_batch` runs with a fake consumer and producer (no broker); the state topic
is an in-memory log that `read_fenced` returns on restore. The uninterrupted worker sees the signals in three
batches, the acknowledge in the second; the crashing one publishes the second batch's outputs, dies before its
checkpoint, and its successor fetches the same records in other batches (the acknowledge beside fewer signals).
Every incident version both runs publish must be the same bytes under the same id and version.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord
from prometheus_client import CollectorRegistry
from support.builders import T0, signal

from aiops.actions import Action
from aiops.config import AiopsConfig
from aiops.metrics import AiopsMetrics
from aiops.runtime import correlate_worker
from aiops.runtime.action_placement import plan
from aiops.runtime.correlate_worker import CorrelationWorker
from aiops.signals import Watermark

CONFIG = AiopsConfig.model_validate({"correlation": {"scope": "global", "group_wait_seconds": 30,
                                                      "group_interval_seconds": 300}})
SIGNALS = TopicPartition(CONFIG.topics.signals, 0)
ACTIONS = TopicPartition(CONFIG.topics.actions, 0)
StateLog = list[tuple[bytes | None, bytes | None, int]]


class CrashError(Exception):
    """The worker process dies here."""


class FakeProducer:
    """Appends state records to `state`, incident versions to `incidents`; can die at the next checkpoint."""

    def __init__(self, state: StateLog) -> None:
        self.state = state
        self.incidents: list[bytes] = []
        self.crash_at_checkpoint = False

    async def send(self, topic: str, value: bytes | None = None, key: bytes | None = None,
                   partition: int | None = None) -> asyncio.Future[Any]:
        if topic == CONFIG.topics.correlation_state:
            if self.crash_at_checkpoint and key == b"__offset__":
                raise CrashError
            self.state.append((key, value, len(self.state)))
        elif topic == CONFIG.topics.incidents and value is not None:
            self.incidents.append(value)
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


class FakeConsumer:
    def __init__(self) -> None:
        self.sought: dict[TopicPartition, int] = {}

    def assignment(self) -> set[TopicPartition]:
        return {SIGNALS, ACTIONS}

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.sought[tp] = offset

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        return None


def record(tp: TopicPartition, offset: int, value: bytes) -> ConsumerRecord[Any, Any]:
    return ConsumerRecord(tp.topic, tp.partition, offset, 0, 0, None, value, None, 0, len(value), [])


def watermark(offset: float) -> bytes:
    return Watermark(ts=datetime.fromtimestamp(T0 + offset, UTC), producer="d",
                     inputs={"events/0": T0 + offset}, input_count=1).model_dump_json().encode()


SIGNAL_VALUES = [
    watermark(0), signal("errors", "api", 1, severity="critical").model_dump_json().encode(),
    watermark(40),  # the incident opens (group wait 30 s)
    watermark(70),  # nothing due: only the clock moves (not written: under CLOCK_SAVE_INTERVAL_SECONDS)
    signal("latency", "api", 71).model_dump_json().encode(),  # joins: an update pending for the group interval
    signal("timeouts", "api", 72).model_dump_json().encode(),
    watermark(80), signal("errors", "api", 90, status="resolved").model_dump_json().encode(), watermark(95),
]


def worker(state: StateLog, monkeypatch: pytest.MonkeyPatch) -> tuple[CorrelationWorker, FakeProducer]:
    async def read_fenced(bootstrap: str, topic: str, partitions: list[int], client_id: str) -> dict[int, StateLog]:
        return {p: list(state) for p in partitions}

    monkeypatch.setattr(correlate_worker, "read_fenced", read_fenced)
    made = CorrelationWorker(CONFIG, "unused:9092", AiopsMetrics(CollectorRegistry()), wall=lambda: T0)
    producer = FakeProducer(state)
    made._producer = producer
    made._consumer = FakeConsumer()
    return made, producer


def batch(signals: range, actions: list[tuple[int, Action]]) -> dict[TopicPartition, list[ConsumerRecord[Any, Any]]]:
    out = {SIGNALS: [record(SIGNALS, i, SIGNAL_VALUES[i]) for i in signals]}
    if actions:
        out[ACTIONS] = [record(ACTIONS, offset, a.model_dump_json().encode()) for offset, a in actions]
    return {tp: records for tp, records in out.items() if records}


def acknowledge(incident: dict[str, Any]) -> Action:
    return Action(id="ack-1", kind="acknowledge", incident_id=incident["id"], scope=incident["scope"],
                  actor="alice", requested_at=datetime.fromtimestamp(T0, UTC))


def by_version(published: list[bytes]) -> dict[tuple[str, int], bytes]:
    out: dict[tuple[str, int], bytes] = {}
    for value in published:
        parsed = orjson.loads(value)
        key = (parsed["id"], parsed["version"])
        assert out.setdefault(key, value) == value, f"{key} published with two contents"
    return out


@pytest.mark.parametrize("cut", [5, 4], ids=["fewer-signals", "no-signal-yet"])
async def test_a_crash_before_the_checkpoint_re_applies_the_action_at_the_same_signals_position(
        cut: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Originally applied after signals 4 and 5; fetched again beside signal 4 only (applied after signal 5 of
    the next batch) or beside no signal at all (held until signals 4 and 5 are processed)."""
    reference, published = worker([], monkeypatch)
    await reference.process_batch(batch(range(0, 4), []))
    [opened] = published.incidents
    ack = acknowledge(orjson.loads(opened))
    await reference.process_batch(batch(range(4, 6), [(0, ack)]))
    await reference.process_batch(batch(range(6, 9), []))
    expected = by_version(published.incidents)
    assert any(b'"action":"acknowledge"' in v for v in expected.values())

    state: StateLog = []
    first, crashed = worker(state, monkeypatch)
    await first.process_batch(batch(range(0, 4), []))
    crashed.crash_at_checkpoint = True
    with pytest.raises(CrashError):  # the batch's versions are out, its checkpoint is not
        await first.process_batch(batch(range(4, 6), [(0, ack)]))
    second, restarted = worker(state, monkeypatch)
    await second.process_batch(batch(range(4, cut), [(0, ack)]))  # fetched again, cut differently
    assert not any(b'"action":"acknowledge"' in v for v in restarted.incidents)  # not before signal 5
    await second.process_batch(batch(range(cut, 9), []))
    got = by_version(crashed.incidents + restarted.incidents)
    assert got == expected
    assert second.held == {}



async def test_a_clock_moved_by_an_idle_watermark_before_the_checkpoint_stamps_the_action_the_same(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The scope's clock moved to T0+70 by a watermark that changed nothing is not written by that batch's
    checkpoint (`CLOCK_SAVE_INTERVAL_SECONDS`); the restarted worker must still stamp the action at T0+70."""
    reference, published = worker([], monkeypatch)
    await reference.process_batch(batch(range(0, 3), []))
    ack = acknowledge(orjson.loads(published.incidents[0]))
    await reference.process_batch(batch(range(3, 4), []))
    await reference.process_batch(batch(range(4, 6), [(0, ack)]))
    expected = by_version(published.incidents)

    state: StateLog = []
    first, crashed = worker(state, monkeypatch)
    await first.process_batch(batch(range(0, 3), []))
    await first.process_batch(batch(range(3, 4), []))
    crashed.crash_at_checkpoint = True
    with pytest.raises(CrashError):
        await first.process_batch(batch(range(4, 6), [(0, ack)]))
    second, restarted = worker(state, monkeypatch)
    await second.process_batch(batch(range(4, 6), [(0, ack)]))
    assert by_version(crashed.incidents + restarted.incidents) == expected


def test_the_plan_applies_placed_actions_at_their_position_and_places_new_ones_after_the_signals() -> None:
    order = plan([4, 5, 6], [10, 11], {10: 5}, position=4)
    assert order.steps == [("signal", 0), ("action", 0), ("signal", 1), ("signal", 2), ("action", 1)]
    assert (order.placed, order.held_from) == ({11: 7}, 2)
    waiting = plan([4], [10, 11], {10: 6}, position=4)  # placed after signal 5, not fetched yet
    assert (waiting.steps, waiting.placed, waiting.held_from) == ([("signal", 0)], {}, 0)
    assert plan([], [3], {}, position=None).placed == {3: 0}  # no signal ever: before the first one
