"""A/B of the detection worker with the ensemble: per-point path vs micro-batched path, same events.

Starts the embedded broker (tansu), produces `--events` events of `bench/throughput.py`'s generator over
`--series` series to one topic, then runs the real `DetectionWorker` (ensemble configured) over all of
them `--rounds` times per variant, alternating: the stage built without the micro-batched path (the
per-point `MetricEnsemble`, as before it existed) and with it. Each run has its own consumer group and
detector-state topic. Reports per run the wall events/s and the worker process' CPU microseconds per
event of the detection phase (the broker runs in another process), then one JSON line. Measures only
detection: no latency phase (see `bench/throughput.py`).

    python bench/ensemble_worker.py --events 200000 --series 10000 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.worker import isolated_config
from throughput import PARTITIONS, make_events, produce_all

from aiops.config import AiopsConfig
from aiops.metrics import AiopsMetrics
from aiops.runtime.broker import EmbeddedBroker
from aiops.runtime.detect_worker import DetectionWorker
from aiops.runtime.topics import TopicSpec, ensure_topics


async def detect(bootstrap: str, topic: str, total: int, micro_batched: bool) -> tuple[float, float]:
    """(events/s wall, CPU µs per event) of one worker over the whole topic."""
    prefix = f"ab.{uuid.uuid4().hex[:6]}."
    overrides = {"topics": {"events_partitions": PARTITIONS, "events": topic},
                 "detection": {"metric": {"detector": "ensemble"}}}  # fmt: skip
    config = AiopsConfig.model_validate(isolated_config(prefix, bootstrap, overrides))
    specs = [TopicSpec(config.topics.signals, config.topics.signals_partitions), TopicSpec(config.topics.deadletter, 1)]
    await ensure_topics(bootstrap, specs)
    worker = DetectionWorker(
        config, bootstrap, AiopsMetrics(CollectorRegistry()), producer_id="ab", micro_batched=micro_batched
    )
    await worker.start()
    assert worker._consumer is not None
    seen, started, cpu = 0, 0.0, 0.0
    try:
        while seen < total:
            batch = await worker._consumer.getmany(timeout_ms=200, max_records=config.ingest.batch_max_records)
            if batch and not started:
                started, cpu = time.perf_counter(), time.process_time()
            seen += sum(len(records) for records in batch.values())
            await worker.process_batch(batch)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        await worker.stop()
    return seen / wall, cpu / seen * 1e6


async def main(args: argparse.Namespace) -> dict[str, Any]:
    events = make_events(args.events, args.series, random.Random(42))
    results: dict[str, list[tuple[int, float]]] = {"per_point": [], "micro_batched": []}
    async with EmbeddedBroker() as broker:
        topic = f"ab.{uuid.uuid4().hex[:6]}.events"
        await ensure_topics(broker.bootstrap, [TopicSpec(topic, PARTITIONS)])
        await produce_all(broker.bootstrap, topic, events)
        for _ in range(args.rounds):
            for name, runs in results.items():
                rate, cpu = await detect(broker.bootstrap, topic, len(events), name == "micro_batched")
                runs.append((round(rate), round(cpu, 1)))
                print(f"{name:<14} {rate:>9,.0f} events/s wall  {cpu:6.1f} µs CPU per event", flush=True)
    return {"events": len(events), "series": args.series, **results}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
