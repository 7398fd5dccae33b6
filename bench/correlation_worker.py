"""Correlation worker on the embedded broker: signals/s through `CorrelationWorker`, alone.

Produces `--alerts` new alert signals (services `svc0..svc{--services}`, `--names` distinct alert names as a
storm has: a few names, many instances; one member per alert, event time
advancing `--rate` signals per second with a watermark per second to every signals partition), then the
same alerts again (a full re-send), straight to the signals topic, then starts the correlation worker in
this process and times it draining that backlog. Reports per phase: signals/s, CPU seconds per 10k
signals and RSS; the detection stage is not involved (see bench/storm.py for the whole service).
Usage: python bench/correlation_worker.py [--alerts N] [--services S] [--names K] [--rate R] [--partitions P]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer
from prometheus_client import CollectorRegistry

from aiops.config import AiopsConfig
from aiops.metrics import AiopsMetrics
from aiops.runtime.broker import EmbeddedBroker, free_loopback_port
from aiops.runtime.correlate_worker import CorrelationWorker
from aiops.runtime.silences import silences_topic_spec
from aiops.runtime.topics import TopicSpec, ensure_topics
from aiops.signals import Signal, Watermark

T0 = 1_700_000_000.0


def _signal(i: int, services: int, names: int, ts: float) -> bytes:
    service = f"svc{i % services}"
    at = datetime.fromtimestamp(ts, tz=UTC)
    return Signal(origin="alert", fingerprint=f"{service}/a{i}", name=f"alert{i % names}", service=service,
                  host=f"h{i % 97}", status="firing", severity="warning", ts=at, started_at=at,
                  summary=f"alert {i} on {service}").model_dump_json().encode()


async def _produce(bootstrap: str, topic: str, partitions: int, alerts: int, shape: tuple[int, int], rate: float,
                   t_start: float) -> int:
    """Send the alerts and the watermarks; the number of records sent. `shape`: (services, alert names)."""
    services, names = shape
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=512 * 1024)
    await producer.start()
    try:
        last_second = int(t_start)
        futures = []
        for i in range(alerts):
            ts = t_start + i / rate
            service = i % services
            futures.append(await producer.send(topic, _signal(i, services, names, ts), key=f"svc{service}".encode(),
                                               partition=service % partitions))
            if int(ts) > last_second:
                last_second = int(ts)
                mark = Watermark(ts=datetime.fromtimestamp(ts - 1, tz=UTC), producer="bench")
                for p in range(partitions):
                    futures.append(await producer.send(topic, mark.model_dump_json().encode(), partition=p))
        await asyncio.gather(*futures)
        return len(futures)
    finally:
        await producer.stop()


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def _drained(metrics: AiopsMetrics, expected: int) -> tuple[float, float]:
    """Wait until the worker has processed `expected` records; (wall seconds, CPU seconds) when it had."""
    await _until(lambda: metrics.correlation_messages_total._value.get() >= expected)
    return time.perf_counter(), _cpu()


async def _until(condition: Callable[[], bool]) -> None:
    while True:
        if condition():
            return
        await asyncio.sleep(0.01)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    broker = EmbeddedBroker(port=free_loopback_port())
    await broker.start()
    run = uuid.uuid4().hex[:6]
    config = AiopsConfig.model_validate({
        "kafka": {"bootstrap": broker.bootstrap},
        "topics": {"signals": f"b{run}.signals", "incidents": f"b{run}.incidents", "deadletter": f"b{run}.dl",
                   "decisions": f"b{run}.decisions", "correlation_state": f"b{run}.state",
                   "signals_partitions": args.partitions},
        "suppression": {"silences_topic": f"b{run}.silences"},
        "correlation": {"scope": "service"},
        "workers": {"app_id": f"bench{run}"},
    })
    topics = config.topics
    await ensure_topics(broker.bootstrap, [TopicSpec(topics.signals, args.partitions),
                                           TopicSpec(topics.incidents, 2), TopicSpec(topics.decisions, 2),
                                           TopicSpec(topics.deadletter, 1), silences_topic_spec(f"b{run}.silences")])
    starts = (T0, T0 + args.alerts / args.rate)
    sizes = [await _produce(broker.bootstrap, topics.signals, args.partitions, args.alerts,
                            (args.services, args.names), args.rate, start) for start in starts]
    metrics = AiopsMetrics(CollectorRegistry())
    worker = CorrelationWorker(config, broker.bootstrap, metrics)
    results: dict[str, Any] = {"alerts": args.alerts, "services": args.services, "partitions": args.partitions}
    rss0 = _rss_mib()
    await worker.start()
    runner = asyncio.create_task(worker.run())
    try:
        await _until(lambda: bool(worker._consumer and worker._consumer.assignment()))  # after the group join
        clock, cpu = time.perf_counter(), _cpu()
        for phase, expected in (("new", sizes[0]), ("resend", sizes[0] + sizes[1])):
            done, cpu_done = await _drained(metrics, expected)
            results[phase] = {"signals_per_s": round(args.alerts / (done - clock)),
                              "cpu_s_per_10k": round((cpu_done - cpu) / args.alerts * 1e4, 2),
                              "rss_mib": round(_rss_mib(), 1), "rss_growth_mib": round(_rss_mib() - rss0, 1)}
            print(f"{phase}: {json.dumps(results[phase])}", flush=True)
            clock, cpu = done, cpu_done
    finally:
        await worker.stop()
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        await broker.stop()
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=20_000)
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument("--names", type=int, default=100, help="distinct alert names (member types)")
    parser.add_argument("--rate", type=float, default=1000.0, help="signals per second of event time")
    parser.add_argument("--partitions", type=int, default=2)
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
