"""Throughput and latency benchmark of the hot path on the embedded broker (tansu).

In one run:
1. produces N ~200-byte JSON events (metrics over many series plus some log lines) to a fresh topic;
2. ceiling: a raw aiokafka loop (consumer group, getmany, orjson decode, produce one output per event,
   commit) over those events;
3. aiops: the real `DetectionWorker` (decode against the contract, per-series detection, signals,
   watermarks, commit after flush) over the same events, in the same process, with the heap settled once
   it started as `aiops run` does (`settle_heap`);
4. latency: a full `aiops run` worker (subprocess: detection + correlation workers) receives alert events at
   a steady pace; p50/p99 from produce to the incident on the incidents topic (group_wait is 0, so no
   configured grouping wait is included), and the worker's RSS.
Each phase also reports this process' CPU microseconds per event (the broker runs in another process), and
`cpu_ratio` = raw loop CPU per event / detection CPU per event: steadier than the wall ratio on a loaded
machine (other jobs stretch wall time, much less the CPU each event costs). Prints a table and, last, one
JSON line.

    python bench/throughput.py --events 200000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client import CollectorRegistry

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.worker import WorkerProcess, isolated_config

from aiops.config import AiopsConfig
from aiops.metrics import AiopsMetrics
from aiops.runtime.broker import EmbeddedBroker
from aiops.runtime.detect_worker import DetectionWorker
from aiops.runtime.startup import settle_heap
from aiops.runtime.topics import TopicSpec, ensure_topics

PARTITIONS = 4


def make_events(count: int, series: int, rng: random.Random) -> list[tuple[bytes, bytes]]:
    start = 1_760_000_000.0
    out = []
    for i in range(count):
        s = i % series
        service = f"svc-{s % 50}"
        host = f"host-{s // 7}"
        ts = start + i / series * 10.0
        if i % 20 == 19:
            body = {"kind": "log", "ts": round(ts, 3), "source": "fluentbit", "service": service,
                    "host": host, "level": "info", "message": f"GET /api/items/{i} 200 in 12ms"}
        else:
            body = {"kind": "metric", "ts": round(ts, 3), "source": "prometheus", "service": service,
                    "host": host, "name": f"metric_{s % 7}", "value": round(rng.gauss(100, 5), 3),
                    "labels": {"region": "eu-west-1", "env": "prod"}}
        raw = orjson.dumps(body)
        out.append((f"{service}|{host}".encode(), raw))
    return out


async def produce_all(bootstrap: str, topic: str, events: list[tuple[bytes, bytes]]) -> float:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=512 * 1024)
    await producer.start()
    started = time.perf_counter()
    try:
        futures = [await producer.send(topic, value=value, key=key) for key, value in events]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return time.perf_counter() - started


async def raw_loop(bootstrap: str, topic: str, out_topic: str, total: int) -> tuple[float, float]:
    """(events/s, CPU seconds of this process) from the first batch to the last commit."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"raw-{uuid.uuid4().hex[:6]}",
                                enable_auto_commit=False, auto_offset_reset="earliest",
                                max_partition_fetch_bytes=4 * 1024 * 1024)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=256 * 1024)
    await consumer.start()
    await producer.start()
    seen = 0
    started = None
    try:
        while seen < total:
            batch = await consumer.getmany(timeout_ms=200, max_records=5000)
            if not batch:
                continue
            if started is None:
                started, cpu_started = time.perf_counter(), time.process_time()
            futures = []
            for records in batch.values():
                for record in records:
                    decoded = orjson.loads(record.value)
                    futures.append(await producer.send(out_topic, value=orjson.dumps(decoded), key=record.key))
                    seen += 1
            await asyncio.gather(*futures)
            await consumer.commit()
    finally:
        await consumer.stop()
        await producer.stop()
    assert started is not None
    return seen / (time.perf_counter() - started), time.process_time() - cpu_started


async def aiops_detection(bootstrap: str, config: AiopsConfig, total: int) -> tuple[float, float, int]:
    """(events/s, CPU seconds of this process, live series) from the first batch to the last one processed."""
    worker = DetectionWorker(config, bootstrap, AiopsMetrics(CollectorRegistry()), producer_id="bench")
    await worker.start()
    settle_heap()  # as `aiops run` does once started (the bench process also holds every event it produced)
    assert worker._consumer is not None
    seen = 0
    started = None
    try:
        while seen < total:
            batch = await worker._consumer.getmany(timeout_ms=200, max_records=config.ingest.batch_max_records)
            if batch and started is None:
                started, cpu_started = time.perf_counter(), time.process_time()
            seen += sum(len(r) for r in batch.values())
            await worker.process_batch(batch)
        assert started is not None
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    finally:
        await worker.stop()
    return seen / elapsed, cpu, worker.stage.metrics.live_series


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def latency(bootstrap: str, prefix: str, alerts: int, rate: float) -> dict[str, float]:
    config = isolated_config(prefix, bootstrap)
    t = config["topics"]
    await ensure_topics(bootstrap, [TopicSpec(t["events"], t["events_partitions"]), TopicSpec(t["deadletter"], 1)])
    workdir = Path(tempfile.mkdtemp(prefix="aiops-bench-"))
    worker = WorkerProcess(config, workdir)
    worker.start()
    consumer = AIOKafkaConsumer(t["incidents"], bootstrap_servers=bootstrap, group_id=None,
                                auto_offset_reset="earliest", fetch_max_wait_ms=20)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    await consumer.start()
    await producer.start()
    sent_at: dict[str, float] = {}
    latencies: list[float] = []
    try:
        await _warm_up(producer, consumer, t["events"])
        receiver = asyncio.create_task(_receive(consumer, sent_at, latencies, alerts))
        for i in range(alerts):
            service = f"lat-{i}"
            body = {"kind": "alert", "ts": time.time(), "source": "bench", "service": service, "name": "BenchAlert",
                    "severity": "warning", "status": "firing", "fingerprint": f"bench-{i}"}
            sent_at[service] = time.perf_counter()
            await producer.send_and_wait(t["events"], value=orjson.dumps(body), key=service.encode())
            await asyncio.sleep(1.0 / rate)
        await asyncio.wait_for(receiver, timeout=60)
        rss = rss_mib(worker.process.pid) if worker.process else float("nan")
    finally:
        await consumer.stop()
        await producer.stop()
        worker.stop()
    latencies.sort()
    return {"p50_ms": latencies[len(latencies) // 2] * 1000, "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
            "samples": len(latencies), "worker_rss_mib": rss}


async def _warm_up(producer: AIOKafkaProducer, consumer: AIOKafkaConsumer, topic: str) -> None:
    """Wait until the worker answers (group joins, table recovery) before measuring."""
    body = {"kind": "alert", "ts": time.time(), "source": "bench", "service": "warmup", "name": "Warm",
            "status": "firing"}
    await producer.send_and_wait(topic, value=orjson.dumps(body))
    deadline = time.monotonic() + 120
    while True:
        if time.monotonic() > deadline:
            raise RuntimeError("the aiops worker answered no warm-up alert within 120 s (see its log)")
        batch = await consumer.getmany(timeout_ms=500)
        if any(orjson.loads(r.value)["services"] == ["warmup"] for rs in batch.values() for r in rs):
            return


async def _receive(consumer: AIOKafkaConsumer, sent_at: dict[str, float], out: list[float], expected: int) -> None:
    while len(out) < expected:
        batch = await consumer.getmany(timeout_ms=200)
        now = time.perf_counter()
        for records in batch.values():
            for record in records:
                incident = orjson.loads(record.value)
                service = incident["services"][0]
                if incident["status"] == "open" and service in sent_at:
                    out.append(now - sent_at.pop(service))


async def main(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(42)
    events = make_events(args.events, args.series, rng)
    mean_bytes = sum(len(v) for _, v in events) / len(events)
    async with EmbeddedBroker() as broker:
        bootstrap = broker.bootstrap
        prefix = f"bench.{uuid.uuid4().hex[:6]}."
        overrides: dict[str, Any] = {"topics": {"events_partitions": PARTITIONS}}
        if args.detector is not None:
            overrides["detection"] = {"metric": {"detector": args.detector}}
        cfg = AiopsConfig.model_validate(isolated_config(prefix, bootstrap, overrides))
        specs = [TopicSpec(cfg.topics.events, PARTITIONS), TopicSpec(cfg.topics.signals, cfg.topics.signals_partitions),
                 TopicSpec(cfg.topics.deadletter, 1), TopicSpec(f"{prefix}raw-out", PARTITIONS)]
        await ensure_topics(bootstrap, specs)
        produce_seconds = await produce_all(bootstrap, cfg.topics.events, events)
        ceiling, raw_cpu = await raw_loop(bootstrap, cfg.topics.events, f"{prefix}raw-out", len(events))
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        worker_rate, detection_cpu, series = await aiops_detection(bootstrap, cfg, len(events))
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        lat = await latency(bootstrap, f"lat.{uuid.uuid4().hex[:6]}.", args.alerts, args.rate)
    result = {
        "events": len(events), "mean_event_bytes": round(mean_bytes, 1), "series": series,
        "produce_events_per_second": round(len(events) / produce_seconds),
        "raw_loop_events_per_second": round(ceiling), "aiops_detection_events_per_second": round(worker_rate),
        "ratio": round(worker_rate / ceiling, 3),
        "raw_loop_cpu_us_per_event": round(raw_cpu / len(events) * 1e6, 1),
        "aiops_detection_cpu_us_per_event": round(detection_cpu / len(events) * 1e6, 1),
        "cpu_ratio": round(raw_cpu / detection_cpu, 3), "bench_process_max_rss_mib": round(rss_after, 1),
        "bench_rss_growth_during_detection_mib": round(rss_after - rss_before, 1),
        "latency_p50_ms": round(lat["p50_ms"], 1), "latency_p99_ms": round(lat["p99_ms"], 1),
        "latency_samples": lat["samples"], "worker_rss_mib": round(lat["worker_rss_mib"], 1),
        "cpus": os.cpu_count(),
    }
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--alerts", type=int, default=200, help="latency samples")
    parser.add_argument("--rate", type=float, default=20.0, help="alerts per second in the latency phase")
    parser.add_argument("--detector", choices=["ewma", "ensemble"], default=None,
                        help="series detector of the detection phase (default: the configured default)")
    result = asyncio.run(main(parser.parse_args()))
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(result))
