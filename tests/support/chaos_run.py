"""Fault runs on the broker: `aiops run` subprocesses fed the scenario while faults hit them.

`fault_run` creates the input topic, starts a worker, produces the scenario lines in paced chunks (pauses
shorter than `ingest.idle_partition_seconds`, so an uninterrupted run never idles mid-stream) while a
second task applies a schedule of `chaos.Fault`s (SIGKILL or SIGTERM and restart, a second worker joining,
the first one killed), then reads the incidents topic until every reference version arrived (or the time
is up) plus a quiet period, stops the workers and compares (`chaos.compare`). Every worker keeps its own
log file in `workdir`; `RunResult.events` says what happened when (and whether the victim already owned
its detection partitions).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from aiops.runtime.kafka_io import event_key
from aiops.runtime.topics import TopicSpec, ensure_topics
from support.chaos import Counts, Fault, compare
from support.worker import WorkerProcess

CHUNKS = 40
PAUSE_SECONDS = 0.4
ASSIGNED = "detection assigned"


@dataclass
class RunResult:
    counts: Counts
    records: list[dict[str, Any]]
    events: list[str] = field(default_factory=list)
    seconds: float = 0.0
    workers: list[WorkerProcess] = field(default_factory=list)
    restarts: int = 0

    def logs(self, tail: int = 3000) -> str:
        return "\n".join(f"--- {w.log_path.name}\n{w.output()[-tail:]}" for w in self.workers)


class Fleet:
    """The workers of one run: the current one (restarted after each fault) and any that joined."""

    def __init__(self, config: dict[str, Any], workdir: Path) -> None:
        self.config, self.workdir = config, workdir
        self.all: list[WorkerProcess] = []
        self.current = self.spawn()
        self.first = self.current
        self.events: list[str] = []
        self.t0 = time.monotonic()
        self.restarts = 0

    def spawn(self) -> WorkerProcess:
        worker = WorkerProcess(self.config, self.workdir, f"w{len(self.all)}")
        worker.start()
        self.all.append(worker)
        return worker

    def note(self, what: str, worker: WorkerProcess) -> None:
        log = worker.log_path.read_text(errors="replace")
        phase = "assigned" if ASSIGNED in log else "starting"
        self.events.append(f"{time.monotonic() - self.t0:5.1f}s {what} {worker.log_path.stem} ({phase}, "
                           f"{log.count('correlation partition')} restores, {log.count('incident inc-')} versions)")

    async def apply(self, fault: Fault) -> None:
        """Wait until the current worker owns its detection partitions (at most 30 s), then `after_seconds`
        more, then apply `fault`."""
        for _ in range(300):
            if ASSIGNED in self.current.log_path.read_text(errors="replace"):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(fault.after_seconds)
        if fault.kind in ("kill", "term"):
            self.note("SIGKILL" if fault.kind == "kill" else "SIGTERM", self.current)
            if fault.kind == "kill":
                self.current.kill()
            else:
                await asyncio.to_thread(self.current.stop)
            await asyncio.sleep(fault.restart_after_seconds)
            self.current = self.spawn()
            self.restarts += 1
        elif fault.kind == "join":
            self.note("join beside", self.current)
            self.current = self.spawn()
        elif fault.kind == "kill_first":
            self.note("SIGKILL", self.first)
            self.first.kill()
            self.restarts += 1

    def stop(self) -> None:
        for worker in self.all:
            worker.stop()


async def produce_paced(bootstrap: str, topic: str, lines: list[bytes], chunks: int, pause: float) -> None:
    """Send `lines` keyed like `aiops produce`, in `chunks` acknowledged chunks with `pause` between them."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all")
    await producer.start()
    try:
        size = -(-len(lines) // chunks)
        for start in range(0, len(lines), size):
            chunk = lines[start:start + size]
            futures = [await producer.send(topic, value=line, key=event_key(line)) for line in chunk]
            await asyncio.gather(*futures)
            await asyncio.sleep(pause)
    finally:
        await producer.stop()


async def read_incidents(bootstrap: str, topic: str, expected: set[tuple[str, int]], within_seconds: float,
                         quiet_seconds: float) -> list[dict[str, Any]]:
    """Every record of `topic` until all `expected` keys were seen (or the time is up) and then nothing new
    arrived for `quiet_seconds`."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    records: list[dict[str, Any]] = []
    seen: set[tuple[str, int]] = set()
    loop = asyncio.get_running_loop()
    deadline, last_new = loop.time() + within_seconds, loop.time()
    try:
        while loop.time() < deadline and not (expected <= seen and loop.time() - last_new >= quiet_seconds):
            batch = await consumer.getmany(timeout_ms=300)
            for items in batch.values():
                for item in items:
                    record = orjson.loads(item.value)
                    records.append(record)
                    seen.add((record["id"], record["version"]))
                    last_new = loop.time()
    finally:
        await consumer.stop()
    return records


async def fault_run(config: dict[str, Any], workdir: Path, lines: list[bytes], expected: list[dict[str, Any]],
                    faults: list[Fault], *, within_seconds: float = 150.0, quiet_seconds: float = 4.0) -> RunResult:
    """Run the scenario through `aiops run` under `faults`; the incidents compared with `expected`."""
    bootstrap, topics = config["kafka"]["bootstrap"], config["topics"]
    await ensure_topics(bootstrap, [TopicSpec(topics["events"], topics["events_partitions"])])
    started = time.monotonic()
    fleet = Fleet(config, workdir)
    try:
        feeding = asyncio.create_task(produce_paced(bootstrap, topics["events"], lines, CHUNKS, PAUSE_SECONDS))
        for fault in faults:
            await fleet.apply(fault)
        await feeding
        keys = {(r["id"], r["version"]) for r in expected}
        records = await read_incidents(bootstrap, topics["incidents"], keys, within_seconds, quiet_seconds)
    finally:
        fleet.stop()
    return RunResult(compare(expected, records), records, fleet.events, time.monotonic() - started, fleet.all,
                     fleet.restarts)
