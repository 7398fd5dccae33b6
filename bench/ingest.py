"""HTTP ingest throughput: POST /api/v2/alerts (batches of 10 and 100, as Prometheus sends) into the events topic.

One process serves the ingest front alone (`IngestFront` on the service's `HttpEndpoint`, the same code `aiops
run` serves) on an embedded tansu broker; this process is the client: `--connections` keep-alive connections
post Alertmanager API v2 batches of distinct alerts for `--seconds`, as fast as answered (sustained alerts/s,
p50/p99 request latency), then paced at half that rate (p50/p99 at half load). In the same run, the ceiling:
the raw aiokafka producer writing the same events (`send_batch` per partition, as the front does, 2,000
events at a time), from this process. Only 2xx answers count (each means the broker acknowledged every
alert of the batch). The front's CPU time per alert (from /proc) is the figure that other load on the machine
disturbs least.

    python bench/ingest.py [--seconds 10] [--batches 10,100] [--connections 16] [--quick] [--default-gc]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

import aiohttp
import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from prometheus_client import CollectorRegistry

from aiops.config import AiopsConfig
from aiops.ingest.base import Received
from aiops.ingest.config import IntegrationConfig
from aiops.ingest.registry import translator_for
from aiops.metrics import AiopsMetrics
from aiops.runtime.broker import EmbeddedBroker, free_loopback_port
from aiops.runtime.http_server import HttpEndpoint
from aiops.runtime.ingest_http import IngestFront, event_record
from aiops.runtime.startup import settle_heap
from aiops.runtime.topics import TopicSpec, ensure_topics


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (Linux `/proc`; NaN elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def alert_batch(start: int, size: int) -> bytes:
    now = datetime.now(UTC).isoformat()
    return orjson.dumps([
        {"labels": {"alertname": f"Alert{(start + i) % 50}", "service": f"svc-{(start + i) % 200}",
                    "instance": f"10.0.{(start + i) % 250}.1:9100", "severity": "warning", "n": str(start + i)},
         "annotations": {"summary": "bench alert"}, "startsAt": now}
        for i in range(size)])


def serve(port: int, bootstrap: str, default_gc: bool) -> None:
    """The front alone, until killed."""
    async def main() -> None:
        config = AiopsConfig.model_validate({"kafka": {"bootstrap": bootstrap}, "http": {"port": port}})
        await ensure_topics(bootstrap, [TopicSpec(config.topics.events, config.topics.events_partitions, 1),
                                        TopicSpec(config.topics.deadletter, 1, 1)])
        registry = CollectorRegistry()
        front = IngestFront(config, bootstrap, AiopsMetrics(registry))
        endpoint = HttpEndpoint("127.0.0.1", port, registry, lambda: {"ok": True}, installers=[front.install],
                                client_max_size=config.ingest.http.max_body_bytes)
        await front.start()
        await endpoint.start()
        if not default_gc:
            settle_heap()  # as `aiops run` does once started
        print("ready", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


async def load(url: str, batch: int, seconds: float, connections: int, rate: float | None) -> dict[str, Any]:
    """Post batches for `seconds` (paced to `rate` alerts/s when given); alerts/s and latency percentiles."""
    latencies: list[float] = []
    accepted = refused = 0
    counter = 0
    loop = asyncio.get_running_loop()
    start = loop.time()
    end = start + seconds
    interval = batch / rate if rate else 0.0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal accepted, refused, counter
        while loop.time() < end:
            if interval:
                due = start + (counter // batch) * interval
                counter += batch
                if due > loop.time():
                    await asyncio.sleep(due - loop.time())
            else:
                counter += batch
            body = alert_batch(counter, batch)
            sent = time.perf_counter()
            async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as response:
                await response.read()
                if response.status == 200:
                    accepted += batch
                    latencies.append(time.perf_counter() - sent)
                else:
                    refused += 1

    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(session) for _ in range(connections)))
    elapsed = loop.time() - start
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else float("nan")

    return {"batch": batch, "alerts_per_s": accepted / elapsed, "p50_ms": pct(0.5), "p99_ms": pct(0.99),
            "refused": refused, "requests": len(latencies)}


async def raw_ceiling(bootstrap: str, seconds: float, writers: int = 1, chunk: int = 2000) -> float:
    """Events/s the raw aiokafka producer writes: the same JSON events, `chunk` at a time as one record batch
    per partition (`send_batch`, acks=all), waiting for the acks (one writer: aiokafka queues one batch per
    partition, and concurrent `send_batch` calls on a partition only wait for each other)."""
    translator = translator_for("alertmanager", IntegrationConfig(kind="alertmanager"))
    records = [event_record(e) for e in translator.translate(
        orjson.loads(alert_batch(0, chunk)), Received("alertmanager", time.time())).events]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", max_request_size=4 << 20,
                                max_batch_size=512 * 1024)
    await producer.start()
    partitions = sorted(await producer.partitions_for("aiops.events"))
    partitioner = DefaultPartitioner()
    by_partition: dict[int, list[tuple[bytes, bytes]]] = {}
    for key, value in records:
        by_partition.setdefault(partitioner(key, partitions, partitions), []).append((key, value))
    sent = 0
    start = time.perf_counter()

    async def writer() -> None:
        nonlocal sent
        while time.perf_counter() - start < seconds:
            futures = []
            for partition, items in by_partition.items():
                builder = producer.create_batch()
                for key, value in items:
                    builder.append(key=key, value=value, timestamp=None)
                builder.close()
                futures.append(await producer.send_batch(builder, "aiops.events", partition=partition))
            await asyncio.gather(*futures)
            sent += len(records)

    try:
        await asyncio.gather(*(writer() for _ in range(writers)))
    finally:
        await producer.stop()
    return sent / (time.perf_counter() - start)


async def run(args: argparse.Namespace) -> None:
    async with EmbeddedBroker() as broker:
        port = free_loopback_port()
        command = [sys.executable, __file__, "--serve", str(port), broker.bootstrap, str(args.default_gc)]
        server = subprocess.Popen(  # noqa: ASYNC220 - started once, before any measurement
            command, stdout=subprocess.PIPE, env={**os.environ, "AIOPS_LOGGING__LEVEL": "WARNING"})
        try:
            assert server.stdout is not None
            await asyncio.get_running_loop().run_in_executor(None, server.stdout.readline)
            url = f"http://127.0.0.1:{port}/api/v2/alerts"
            print("| batch | mode | alerts/s | p50 ms | p99 ms | non-2xx | front CPU us/alert |\n"
                  "| --- | --- | --- | --- | --- | --- | --- |")
            for batch in args.batches:
                await load(url, batch, 2, args.connections, None)  # warm-up
                rows = []
                for rate in (None, "half"):
                    used = cpu_seconds(server.pid)
                    row = await load(url, batch, args.seconds, args.connections,
                                     rows[0]["alerts_per_s"] / 2 if rate else None)
                    row["cpu_us"] = (cpu_seconds(server.pid) - used) / max(row["requests"] * batch, 1) * 1e6
                    rows.append(row)
                for mode, row in zip(("max", "half of max"), rows, strict=True):
                    print(f"| {batch} | {mode} | {row['alerts_per_s']:,.0f} | {row['p50_ms']:.1f} | "
                          f"{row['p99_ms']:.1f} | {row['refused']} | {row['cpu_us']:.1f} |", flush=True)
            ceiling = await raw_ceiling(broker.bootstrap, args.seconds)
            print(f"| - | raw aiokafka producer, 2,000-event flushes (ceiling) | {ceiling:,.0f} | - | - | - | - |",
                  flush=True)
        finally:
            server.kill()
            server.wait()


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]), sys.argv[3], sys.argv[4] == "True")
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--batches", type=lambda s: [int(x) for x in s.split(",")], default=[10, 100])
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--quick", action="store_true", help="2 s per measurement")
    parser.add_argument("--default-gc", action="store_true",
                        help="leave CPython's garbage collector at its defaults (no `settle_heap`), to compare")
    args = parser.parse_args()
    if args.quick:
        args.seconds = 2.0
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
