"""Delivery benchmark: incident change -> webhook receipt latency (p50/p99) and notifications/s, one worker.

Starts the embedded tansu broker and a local emulated webhook receiver (healthy, loopback), runs one
`DeliveryWorker` (signed generic webhook, notifications topic on), then
  1. latency: produces incidents one by one (paced) to the incidents topic and measures produce-call to
     receipt at the receiver;
  2. throughput: produces a backlog, starts a fresh worker (new consumer group) and times the drain.
Prints a markdown table for docs/benchmarks.md. Usage: python bench/delivery.py [--latency N] [--backlog N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from aiokafka import AIOKafkaProducer
from prometheus_client import CollectorRegistry
from support.incidents import make_incident
from support.receivers_emulated import EmulatedReceivers

from aiops.config import AiopsConfig
from aiops.metrics import AiopsMetrics
from aiops.runtime.broker import EmbeddedBroker
from aiops.runtime.delivery import delivery_workers
from aiops.runtime.topics import TopicSpec, ensure_topics


def config(bootstrap: str, emu: EmulatedReceivers, app: str) -> AiopsConfig:
    return AiopsConfig.model_validate({
        "kafka": {"bootstrap": bootstrap},
        "topics": {"incidents": "bench.incidents", "deadletter": "bench.deadletter"},
        "workers": {"app_id": app},
        "delivery": {
            "notifications_topic": "bench.notifications", "default_receivers": ["hook"],
            "security": {"allow_loopback": True},
            "receivers": {"webhook": {"hook": {"url": emu.url("webhook", "in"), "signing_secret": "bench",
                                               "reliability": {"rate_limit_per_second": 100000,
                                                               "rate_limit_burst": 100000}}}},
        },
    })


async def run_worker(cfg: AiopsConfig, bootstrap: str) -> tuple[list[object], list[asyncio.Task[None]]]:
    workers = delivery_workers(cfg, bootstrap, AiopsMetrics(CollectorRegistry()))
    for worker in workers:
        await worker.start()
    return list(workers), [asyncio.create_task(worker.run()) for worker in workers]


async def stop(workers: list[object], tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for worker in workers:
        await worker.stop()  # type: ignore[attr-defined]


async def main(latency_n: int, backlog_n: int) -> None:
    async with EmbeddedBroker() as broker, EmulatedReceivers(webhook_secret="bench") as emu:
        bootstrap = broker.bootstrap
        await ensure_topics(bootstrap, [TopicSpec("bench.incidents", 2), TopicSpec("bench.deadletter", 1)])
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
        await producer.start()
        cfg = config(bootstrap, emu, "bench-lat")
        workers, tasks = await run_worker(cfg, bootstrap)
        await asyncio.sleep(2.0)
        latencies = []
        for i in range(latency_n):
            inc = make_incident(f"lat-{i}")
            before = len(emu.accepted["webhook"])
            sent = time.monotonic()
            await producer.send_and_wait("bench.incidents", inc.model_dump_json().encode(), key=inc.id.encode())
            await emu.wait_for(lambda b=before: len(emu.accepted["webhook"]) > b, within_seconds=10)
            arrived = emu.calls("webhook")[-1].at
            latencies.append((arrived - sent) * 1000)
        await stop(workers, tasks)
        pending = []
        for i in range(backlog_n):
            inc = make_incident(f"tp-{i}")
            pending.append(await producer.send("bench.incidents", inc.model_dump_json().encode(),
                                               key=inc.id.encode()))
        await asyncio.gather(*pending)
        await producer.stop()
        start_count = len(emu.accepted["webhook"])
        workers, tasks = await run_worker(config(bootstrap, emu, "bench-tp"), bootstrap)
        started = time.monotonic()
        await emu.wait_for(lambda: len(emu.accepted["webhook"]) >= start_count + backlog_n, within_seconds=600)
        drained = time.monotonic() - started
        await stop(workers, tasks)
    cuts = statistics.quantiles(latencies, n=100)
    print(f"| incident change -> webhook receipt, p50 | {cuts[49]:.1f} ms | {latency_n} incidents, paced |")
    print(f"| incident change -> webhook receipt, p99 | {cuts[98]:.1f} ms | |")
    print(f"| notifications/s through one worker (signed webhook, audit on) | {backlog_n / drained:.0f}/s | "
          f"{backlog_n} backlog, incl. group join |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=int, default=200)
    parser.add_argument("--backlog", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(main(args.latency, args.backlog))
