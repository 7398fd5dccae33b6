"""The two systems under test, black-box, and the bench's webhook receiver (helper of bench/storm.py).

`AiopsSystem` starts `aiops run --config <generated yaml>` (embedded tansu broker, found through the run-file
in a private $TMPDIR), produces alert events with aiokafka and knows when correlation has absorbed them:
detection's group has committed past what was produced, then the correlation worker's group
(`<workers.app_id>-correlate`) has committed past the signals topic's true end, read from the topic itself
because tansu reports only the last batch's base offset + 1. `AlertmanagerSystem` starts
`alertmanager` on a free loopback port and posts to `/api/v2/alerts` (batches of 64, 4 concurrent senders);
a batch is absorbed when its POST returns. CPU and RSS come from /proc. Every process runs in its own session
and is stopped (SIGTERM, then SIGKILL) by `stop`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import yaml
from aiohttp import web
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from storm_workload import Alert

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int | None) -> float:
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14, 15)


def rss_bytes(pid: int | None) -> int:
    with contextlib.suppress(OSError, TypeError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found += [int(child) for child in task.read_text().split()]
    return found


def _is_broker(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/comm").read_text().startswith("tansu")
    except OSError:
        return False


def parse_duration(text: str) -> float:
    """Alertmanager's '1500ms' / '30s' (the forms `alertmanager_config` writes) in seconds."""
    return float(text.removesuffix("ms")) / 1000 if text.endswith("ms") else float(text.removesuffix("s"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Receiver:
    """aiohttp on 127.0.0.1: `/aiops` and `/am` record (system, wall time, JSON body or None)."""

    def __init__(self) -> None:
        self.hooks: list[tuple[str, float, Any]] = []
        self.keep_bodies = False
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> None:
        app = web.Application(client_max_size=1 << 30)
        app.router.add_post("/{system}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    def url(self, system: str) -> str:
        return f"http://127.0.0.1:{self.port}/{system}"

    def count(self, system: str, since: float = 0.0) -> int:
        return sum(1 for name, at, _ in self.hooks if name == system and at >= since)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.hooks.append((request.match_info["system"], time.time(), orjson.loads(body) if self.keep_bodies else None))
        return web.Response(text="ok")


class _Process:
    def __init__(self, argv: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        with log.open("ab") as out:
            self.popen = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env,
                                          start_new_session=True)
        self.log = log

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, grace: float = 20.0) -> None:
        if self.alive():
            self.popen.terminate()
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def _stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat()


class AlertmanagerSystem:
    name = "am"

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary, self.workdir = binary, workdir
        self.config: dict[str, Any] = {}
        self.process: _Process | None = None
        self.session: aiohttp.ClientSession | None = None
        self.base = ""

    @staticmethod
    def find() -> str | None:
        return shutil.which("alertmanager") or shutil.which("prometheus-alertmanager")

    lag = 0.0  # its timers run on wall time

    @property
    def drain(self) -> float:
        """Wall seconds after its last input by which it has sent every notification it will (resolved ones too)."""
        return parse_duration(self.config["route"]["group_interval"])

    @property
    def pids(self) -> tuple[int | None, int | None]:
        return (self.process.popen.pid if self.process else None), None

    async def start(self, config: dict[str, Any]) -> None:
        self.config = config
        path = self.workdir / "alertmanager.yml"
        path.write_text(yaml.safe_dump(config))
        port = free_port()
        storage = self.workdir / "am-data"
        storage.mkdir(exist_ok=True)
        self.process = _Process([self.binary, f"--config.file={path}", f"--storage.path={storage}",
                                 f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
                                 "--log.level=warn"], self.workdir / "alertmanager.log")
        self.base = f"http://127.0.0.1:{port}"
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=8))
        for _ in range(200):
            with contextlib.suppress(aiohttp.ClientError):
                async with self.session.get(f"{self.base}/-/ready") as response:
                    if response.status == 200:
                        return
            if not self.process.alive():
                break
            await asyncio.sleep(0.1)
        raise RuntimeError(f"alertmanager did not start: {self.process.tail()}")

    async def send(self, batch: list[tuple[Alert, str, float]], now: float) -> None:
        """POST (alert, status, first-fired time) items in batches of 64 from 4 concurrent senders."""
        chunks = [batch[i: i + 64] for i in range(0, len(batch), 64)]
        queue = iter(chunks)

        async def sender() -> None:
            assert self.session is not None
            for chunk in queue:
                body = [{"labels": {"alertname": a.name, "service": a.service, "instance": a.instance,
                                    "severity": a.severity},
                         "annotations": {"summary": f"{a.name} on {a.instance}"},
                         "startsAt": _stamp(started),
                         "endsAt": _stamp(now if status == "resolved" else now + 240.0)}
                        for a, status, started in chunk]
                async with self.session.post(f"{self.base}/api/v2/alerts", json=body) as response:
                    if response.status >= 300:
                        raise RuntimeError(f"alertmanager answered {response.status}: {await response.text()}")

        await asyncio.gather(*(sender() for _ in range(4)))

    async def absorbed(self, within: float) -> float:
        return 1.0

    async def stop(self) -> None:
        if self.session is not None:
            await self.session.close()
        if self.process is not None:
            self.process.stop()


class AiopsSystem:
    name = "aiops"

    def __init__(self, command: list[str], workdir: Path) -> None:
        self.command, self.workdir = command, workdir
        self.process: _Process | None = None
        self.broker_pid: int | None = None
        self.producer: AIOKafkaProducer | None = None
        self.admin: AIOKafkaAdminClient | None = None
        self.reader: AIOKafkaConsumer | None = None
        self.produced: dict[int, int] = {}
        self.config: dict[str, Any] = {}

    @property
    def pids(self) -> tuple[int | None, int | None]:
        return (self.process.popen.pid if self.process else None), self.broker_pid

    @property
    def lag(self) -> float:
        """Wall seconds event time trails the input once it goes quiet (idle partitions, allowed lateness)."""
        return float(self.config["ingest"]["idle_partition_seconds"]
                     + self.config["correlation"]["allowed_lateness_seconds"])

    async def start(self, config: dict[str, Any]) -> None:
        self.config = config
        path = self.workdir / "aiops.yaml"
        path.write_text(yaml.safe_dump(config))
        tmp = self.workdir / "tmp"
        tmp.mkdir(exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIOPS_")} | {"TMPDIR": str(tmp)}
        self.process = _Process([*self.command, "run", "--config", str(path)], self.workdir / "aiops.log", env)
        run_file = tmp / f"aiops-{os.getuid()}" / "embedded-broker.json"
        for _ in range(600):
            if run_file.exists() or not self.process.alive():
                break
            await asyncio.sleep(0.1)
        if not run_file.exists():
            raise RuntimeError(f"aiops run did not start: {self.process.tail()}")
        bootstrap = json.loads(run_file.read_text())["bootstrap"]
        self.broker_pid = next((c for c in _children(self.process.popen.pid)
                                if _is_broker(c)), None)
        self.producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=1 << 20)
        self.admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        self.reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
        for client in (self.producer, self.admin, self.reader):
            await client.start()
        warm = Alert("c00-s0", "bench-warmup", "BenchWarmup")
        await self.send([(warm, "resolved", time.time())], time.time())
        if await self.absorbed(120.0) < 1.0:
            raise RuntimeError(f"aiops did not process a first event within 120 s: {self.process.tail()}")

    async def send(self, batch: list[tuple[Alert, str, float]], now: float) -> None:
        assert self.producer is not None
        topic, ts = self.config["topics"]["events"], round(now, 3)
        for i in range(0, len(batch), 10_000):
            futures = []
            for a, status, _ in batch[i: i + 10_000]:
                value = orjson.dumps({"kind": "alert", "ts": ts, "source": "bench", "service": a.service,
                                      "host": a.instance, "name": a.name, "severity": a.severity,
                                      "status": status, "fingerprint": a.id,
                                      "annotations": {"summary": f"{a.name} on {a.instance}"}})
                futures.append(await self.producer.send(topic, value, key=f"{a.service}|{a.instance}".encode()))
            for meta in await asyncio.gather(*futures):
                self.produced[meta.partition] = max(self.produced.get(meta.partition, 0), meta.offset + 1)

    async def _committed(self, group: str, topic: str) -> dict[int, int]:
        assert self.admin is not None
        count = self.config["topics"]["events_partitions" if topic == self.config["topics"]["events"]
                                      else "signals_partitions"]
        wanted = [TopicPartition(topic, p) for p in range(count)]
        offsets = await self.admin.list_consumer_group_offsets(group, partitions=wanted)
        return {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic and meta.offset >= 0}

    @property
    def drain(self) -> float:
        """Wall seconds after its last input by which it has sent every notification it will (resolved ones too)."""
        correlation = self.config["correlation"]
        return self.lag + float(correlation["resolve_quiet_seconds"] + correlation["group_interval_seconds"])

    async def _signals_end(self) -> dict[int, int]:
        """The signals topic's true end per partition: tansu's end offset is the last batch's base offset + 1,
        so read on from there until a fetch returns nothing (never less than the reported end)."""
        assert self.reader is not None
        topics = self.config["topics"]
        parts = [TopicPartition(topics["signals"], p) for p in range(topics["signals_partitions"])]
        self.reader.assign(parts)
        reported = await self.reader.end_offsets(parts)
        ends = {tp.partition: reported[tp] for tp in parts}
        unseen = {tp.partition for tp in parts if reported[tp] > 0}  # the record at reported - 1 must be read
        for tp in parts:
            self.reader.seek(tp, max(0, reported[tp] - 1))
        for _ in range(600):
            fetched = await self.reader.getmany(timeout_ms=300)
            for tp, records in fetched.items():
                ends[tp.partition] = max(ends[tp.partition], records[-1].offset + 1)
                unseen.discard(tp.partition)
            if not fetched and not unseen:
                return ends
        raise RuntimeError(f"the signals topic's end could not be read (partitions {sorted(unseen)})")

    async def _correlate_offsets(self) -> dict[int, int]:
        return await self._committed(f"{self.config['workers']['app_id']}-correlate", self.config["topics"]["signals"])

    async def absorbed(self, within: float) -> float:
        """Wait until correlation processed everything sent; the share of the signals processed on timeout."""
        deadline = time.monotonic() + within
        events, group = self.config["topics"]["events"], self.config["ingest"]["consumer_group"]
        start = sum((await self._correlate_offsets()).values())
        while time.monotonic() < deadline:
            done = await self._committed(group, events)
            if all(done.get(p, 0) >= end for p, end in self.produced.items()):
                break
            await asyncio.sleep(0.1)
        else:
            return 0.0
        target = await self._signals_end()
        while True:
            offsets = await self._correlate_offsets()
            if all(offsets.get(p, 0) >= end for p, end in target.items()):
                return 1.0
            if time.monotonic() >= deadline:
                total = sum(target.values()) - start
                return max(0.0, sum(offsets.values()) - start) / total if total > 0 else 0.0
            await asyncio.sleep(0.1)

    async def stop(self) -> None:
        for client in (self.producer, self.reader, self.admin):
            if client is not None:
                with contextlib.suppress(Exception):
                    await (client.close() if isinstance(client, AIOKafkaAdminClient) else client.stop())
        if self.process is not None:
            self.process.stop()
        if self.broker_pid is not None:
            with contextlib.suppress(OSError):
                if _is_broker(self.broker_pid):
                    os.kill(self.broker_pid, signal.SIGKILL)

