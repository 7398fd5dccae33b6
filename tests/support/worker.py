"""Test support: write an isolated aiops config and run `aiops run` as a real subprocess.

Each test gets its own topic names (including the detector-state, decisions, silences and notifications
topics), worker app id and consumer groups (so tests sharing one broker never see each other's data or
restore each other's detector snapshots), fast event-time settings, and the worker's output in files for post-mortems.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


def isolated_config(prefix: str, bootstrap: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    app = prefix.replace(".", "-").strip("-")
    config: dict[str, Any] = {
        "kafka": {"bootstrap": bootstrap},
        "topics": {
            "events": f"{prefix}events", "signals": f"{prefix}signals", "incidents": f"{prefix}incidents",
            "deadletter": f"{prefix}deadletter", "decisions": f"{prefix}decisions", "actions": f"{prefix}actions",
            "detector_state": f"{prefix}detector-state", "correlation_state": f"{prefix}correlation-state",
            "events_partitions": 2, "signals_partitions": 2,
            "incidents_partitions": 1,
        },
        "suppression": {"silences_topic": f"{prefix}silences"},
        "delivery": {"notifications_topic": f"{prefix}notifications"},
        "ingest": {"consumer_group": f"{app}-detect", "max_message_bytes": 4096,
                   "watermark_interval_seconds": 0.2, "idle_partition_seconds": 2.0},
        "correlation": {"resolve_quiet_seconds": 0, "group_interval_seconds": 0, "allowed_lateness_seconds": 0},
        "workers": {"app_id": app},
        "http": {"port": 0},
        "logging": {"level": "INFO", "json": True},
    }
    for section, values in (extra or {}).items():
        if isinstance(values, dict) and isinstance(config.get(section), dict):
            config[section].update(values)
        else:
            config[section] = values
    return config


class WorkerProcess:
    """`python -m aiops run --config PATH` in a subprocess, output captured to files."""

    def __init__(self, config: dict[str, Any], workdir: Path, name: str = "worker") -> None:
        self.config_path = workdir / f"{name}.yaml"
        self.config_path.write_text(yaml.safe_dump(config))
        self.log_path = workdir / f"{name}.log"
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIOPS_")}
        self.process = subprocess.Popen(  # our own CLI
            [sys.executable, "-m", "aiops", "run", "--config", str(self.config_path)],
            stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir, env=env,
        )

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no final commit."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]


async def produce(bootstrap: str, topic: str, values: list[bytes], key: bytes | None = None) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value=value, key=key)
    finally:
        await producer.stop()


def event(**fields: Any) -> bytes:
    return orjson.dumps(fields)


async def collect(
    bootstrap: str, topic: str, until: Any, within_seconds: float
) -> list[dict[str, Any]]:
    """Read `topic` from the beginning until `until(records)` is true or the time is up."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    records: list[dict[str, Any]] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_seconds
        while loop.time() < deadline and not until(records):
            batch = await consumer.getmany(timeout_ms=300)
            for items in batch.values():
                records.extend(orjson.loads(item.value) for item in items)
    finally:
        await consumer.stop()
    return records


async def stream(bootstrap: str, topic: str) -> AsyncIterator[dict[str, Any]]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    try:
        async for item in consumer:
            yield orjson.loads(item.value)
    finally:
        await consumer.stop()
