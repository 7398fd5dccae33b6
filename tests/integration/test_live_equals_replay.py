"""Live = replay on a real broker: the built-in scenario produced in bulk gives the incidents `aiops replay` gives.

`aiops run` (a subprocess, on tansu) reads the scenario file produced all at once (a backlog drained after an
outage), or produced partition by partition with a pause in between (two input partitions at very different
event times, one of them silent for a while); the incidents read back from the incidents topic are compared,
field by field, with those `aiops.replay.replay_lines` gives for the same file and the same configuration.

No incident field is ignored: the core takes no wall-clock input, so every field (ids, versions, statuses,
members, priorities, resolve times, root cause, explanation, change) must be equal. Only what the broker
adds is wall-clock or arrival-dependent, and it is not compared: record timestamps and offsets, and how the
versions of *different* incidents interleave on the topic (their scopes may sit on different signals
partitions, processed concurrently). So versions are compared per incident id, in topic order.
"""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from support.worker import WorkerProcess, collect, isolated_config

from aiops.config import AiopsConfig
from aiops.replay import replay_lines
from aiops.runtime.kafka_io import event_key, produce_lines
from aiops.runtime.topics import TopicSpec, ensure_topics
from aiops.scenario import SCENARIO_SERVICES, scenario_events

pytestmark = [pytest.mark.integration, pytest.mark.slow]

START = 1_760_000_000.0
SEED = 7
FIRST_PARTITION_SERVICES = {"frontend", "checkout", "search"}
"""The skewed variant sends these services' events to partition 0, the others' to partition 1."""


def scenario_lines() -> list[bytes]:
    """The scenario as `aiops scenario --out FILE` writes it, one JSON line per event."""
    return [json.dumps(event).encode() for event in scenario_events(START, random.Random(SEED))]


def service_config(prefix: str, bootstrap: str, **ingest: Any) -> dict[str, Any]:
    """An isolated worker config with the scenario's catalogue and the default event-time rules of `aiops run`
    (allowed lateness, quiet period, group interval), which replay gets too."""
    config = isolated_config(prefix, bootstrap, {"services": SCENARIO_SERVICES, "ingest": ingest})
    del config["correlation"]  # isolated_config's fast test timings: back to the defaults
    return config


def replayed(lines: list[bytes], config: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    items = replay_lines(lines, AiopsConfig.model_validate(config), datetime.now(tz=UTC))
    return by_incident([orjson.loads(item.incident.model_dump_json()) for item in items if item.incident])


def by_incident(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        grouped.setdefault(record["id"], []).append(record)
    return grouped


def summary(incidents: dict[str, list[dict[str, Any]]]) -> dict[str, list[tuple[Any, ...]]]:
    """Per incident: (version, status, priority, resolved_at, members with status) of every version."""
    return {
        incident_id: [(v["version"], v["status"], v["priority"], v["resolved_at"],
                       sorted((m["fingerprint"], m["status"]) for m in v["members"])) for v in versions]
        for incident_id, versions in incidents.items()
    }


async def wait_for_assignment(worker: WorkerProcess, within_seconds: float = 60.0) -> None:
    """Until the worker's detection consumer owns its input partitions (the group join is slow on tansu)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_seconds
    while "detection assigned" not in worker.log_path.read_text(errors="replace"):
        assert loop.time() < deadline, worker.output()
        await asyncio.sleep(0.2)


async def live_incidents(config: dict[str, Any], expected_versions: int) -> list[dict[str, Any]]:
    """The incidents topic once it holds the expected number of versions, plus whatever follows in 3 s."""
    bootstrap, topic = config["kafka"]["bootstrap"], config["topics"]["incidents"]
    records = await collect(bootstrap, topic, lambda r: len(r) >= expected_versions, 90)
    return await collect(bootstrap, topic, lambda r: len(r) > len(records), 3)


async def produce_to_partitions(bootstrap: str, topic: str, lines: list[bytes], partition: int) -> None:
    """Send lines (keyed like `aiops produce`) to one partition, all at once."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all")
    await producer.start()
    try:
        futures = [await producer.send(topic, value=line, key=event_key(line), partition=partition) for line in lines]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


def assert_same_incidents(live: dict[str, list[dict[str, Any]]], replay: dict[str, list[dict[str, Any]]],
                          worker: WorkerProcess) -> None:
    assert summary(live) == summary(replay), worker.output()
    for incident_id, versions in replay.items():
        assert live[incident_id] == versions, incident_id


async def test_a_bulk_produced_scenario_gives_the_incidents_replay_gives(
    kafka_bootstrap: str, unique_topic_prefix: str, tmp_path: Path
) -> None:
    config = service_config(unique_topic_prefix, kafka_bootstrap)
    lines = scenario_lines()
    replay = replayed(lines, config)
    assert {v["status"] for versions in replay.values() for v in versions} == {"open", "updated", "resolved"}
    topics = config["topics"]
    await ensure_topics(kafka_bootstrap, [TopicSpec(topics["events"], topics["events_partitions"])])
    await produce_lines(kafka_bootstrap, topics["events"], lines)  # the backlog is there before the worker
    worker = WorkerProcess(config, tmp_path)
    worker.start()
    try:
        live = by_incident(await live_incidents(config, sum(len(v) for v in replay.values())))
    finally:
        worker.stop()
    assert_same_incidents(live, replay, worker)


async def test_partitions_at_different_event_times_with_a_pause_give_the_incidents_replay_gives(
    kafka_bootstrap: str, unique_topic_prefix: str, tmp_path: Path
) -> None:
    """One partition's whole share of the file first (its event time runs hours ahead), a pause shorter than
    `idle_partition_seconds`, then the other's; small fetches so the partition ahead is paused meanwhile."""
    config = service_config(unique_topic_prefix, kafka_bootstrap, idle_partition_seconds=8.0, batch_max_records=500)
    lines = scenario_lines()
    replay = replayed(lines, config)
    topics = config["topics"]
    await ensure_topics(kafka_bootstrap, [TopicSpec(topics["events"], topics["events_partitions"])])
    worker = WorkerProcess(config, tmp_path)
    worker.start()
    try:
        await wait_for_assignment(worker)
        ahead = [line for line in lines if orjson.loads(line)["service"] in FIRST_PARTITION_SERVICES]
        await produce_to_partitions(kafka_bootstrap, topics["events"], ahead, partition=0)
        await asyncio.sleep(2.0)
        behind = [line for line in lines if orjson.loads(line)["service"] not in FIRST_PARTITION_SERVICES]
        await produce_to_partitions(kafka_bootstrap, topics["events"], behind, partition=1)
        live = by_incident(await live_incidents(config, sum(len(v) for v in replay.values())))
    finally:
        worker.stop()
    assert_same_incidents(live, replay, worker)
