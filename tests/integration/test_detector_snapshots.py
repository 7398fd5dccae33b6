"""Detector state survives a worker restart: snapshots on the detector-state topic, restored on assignment.

Runs the real `DetectionWorker` in-process against the embedded broker. A first worker learns a series'
baseline and checkpoints (snapshot + commit); a second worker of the same group restores it before its
first records and flags the very next spike, with no warm-up and without replaying what the snapshot
already covers. The same holds for the log detector (learned templates and the service's warm-up survive)
and for the multivariate detector (an entity's window of vectors survives, so it refits at once).
With missing data on, the worker reports a series that stops while the others go on.
"""

from __future__ import annotations

import asyncio
import random

import orjson
import pytest
from aiokafka import AIOKafkaConsumer
from prometheus_client import CollectorRegistry
from support.worker import isolated_config, produce

from aiops.config import AiopsConfig
from aiops.metrics import AiopsMetrics
from aiops.runtime.detect_worker import DetectionWorker
from aiops.runtime.topics import TopicSpec, ensure_topics
from aiops.signals import dt_from_epoch

pytestmark = pytest.mark.integration

T0 = 1_760_000_000.0


def sample(i: int, value: float, name: str = "latency_ms") -> bytes:
    return orjson.dumps({"kind": "metric", "ts": T0 + 60 * i, "source": "test", "service": "api", "host": "h1",
                         "name": name, "value": value})


async def drain(worker: DetectionWorker, until_batches: int = 1, seconds: float = 20.0) -> None:
    """Run the worker loop until it has processed some batches and the input is idle (nothing fetched is
    still held back for the event-time order: the silent partition has been idle long enough)."""
    task = asyncio.create_task(worker.run())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    seen = worker.batches
    while loop.time() < deadline:
        await asyncio.sleep(0.5)
        if worker.alignment.queued():
            continue
        if worker.batches >= seen + until_batches and worker.batches == seen + until_batches:
            break
        seen_now = worker.batches
        await asyncio.sleep(0.5)
        if worker.batches == seen_now and seen_now > seen:
            break
    await worker.stop()
    task.cancel()


async def signals(bootstrap: str, topic: str) -> list[dict[str, object]]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    out: list[dict[str, object]] = []
    try:
        batch = await consumer.getmany(timeout_ms=2000)
        for records in batch.values():
            out.extend(orjson.loads(r.value) for r in records if r.key != b"__watermark__")
    finally:
        await consumer.stop()
    return out


async def run_worker(config: AiopsConfig, bootstrap: str, name: str) -> DetectionWorker:
    """A `DetectionWorker` started, run until its input is idle, and stopped (which checkpoints)."""
    worker = DetectionWorker(config, bootstrap, AiopsMetrics(CollectorRegistry()), producer_id=name)
    await worker.start()
    await drain(worker)
    return worker


def line(seconds: float, message: str, level: str) -> bytes:
    return orjson.dumps({"kind": "log", "ts": T0 + seconds, "source": "test", "service": "api", "host": "h1",
                         "level": level, "message": message})


def worker_config(prefix: str, bootstrap: str, group: str, detection: dict[str, object] | None = None) -> AiopsConfig:
    raw = isolated_config(prefix, bootstrap, {"ingest": {"consumer_group": group}})
    raw["detection"] = {"snapshot_interval_seconds": 0.2, **(detection or {})}
    return AiopsConfig.model_validate(raw)


async def worker_topics(bootstrap: str, config: AiopsConfig) -> None:
    """The worker's input, signal and dead-letter topics, created up front."""
    t = config.topics
    await ensure_topics(bootstrap, [TopicSpec(t.events, t.events_partitions), TopicSpec(t.signals, 2),
                                    TopicSpec(t.deadletter, 1)])


async def test_restarted_worker_restores_baselines_and_flags_the_next_spike_without_warm_up(
    kafka_bootstrap: str, unique_topic_prefix: str
) -> None:
    # the EWMA (warm after 30 points; the ensemble, the default, needs hundreds and has its own test below)
    config = worker_config(unique_topic_prefix, kafka_bootstrap, f"{unique_topic_prefix}g1",
                           {"metric": {"detector": "ewma"}})
    t = config.topics
    await worker_topics(kafka_bootstrap, config)
    rng = random.Random(3)
    await produce(kafka_bootstrap, t.events, [sample(i, 100 + rng.gauss(0, 1)) for i in range(120)], key=b"api|h1")

    first = await run_worker(config, kafka_bootstrap, "first")
    assert first.snapshots_written >= 1
    assert first.stage.metrics.live_series == 1

    await produce(kafka_bootstrap, t.events, [sample(120, 160.0), sample(121, 165.0)], key=b"api|h1")
    second = await run_worker(config, kafka_bootstrap, "second")
    assert second.checkpoints.series_restored == 1
    firing = [s for s in await signals(kafka_bootstrap, t.signals) if s.get("status") == "firing"]
    assert len(firing) == 1, "the restored worker must flag the spike at once"
    assert firing[0]["name"] == "latency_ms"

    state = second.stage.metrics.export_series("api|h1|latency_ms")
    assert state is not None
    # Resumed exactly where the snapshot left off: 120 restored points + the 2 new ones, none replayed.
    assert state["detector"]["count"] == 122


async def test_restarted_worker_keeps_learned_log_templates_and_the_warm_up(
    kafka_bootstrap: str, unique_topic_prefix: str
) -> None:
    """Without the log state, the known template would look new (or the warm-up would start over and hide
    the genuinely new one); with it, only the new error template fires."""
    config = worker_config(unique_topic_prefix, kafka_bootstrap, f"{unique_topic_prefix}g2",
                           {"logs": {"warmup_seconds": 600, "window_seconds": 60}})
    t = config.topics
    await worker_topics(kafka_bootstrap, config)
    history = [line(60 * m + 10 * i, f"GET /items/{m * 5 + i} 200 in {i + 3} ms", "info")
               for m in range(15) for i in range(5)]
    history += [line(60 * m + 7, f"cache miss for key {m}", "warning") for m in range(15)]
    await produce(kafka_bootstrap, t.events, sorted(history, key=lambda v: orjson.loads(v)["ts"]), key=b"api|h1")

    first = await run_worker(config, kafka_bootstrap, "first")
    assert first.snapshots_written >= 2  # the log state record and the partition's marker

    after = 60 * 15 + 5
    await produce(kafka_bootstrap, t.events, [line(after, "cache miss for key 999", "warning"),
                                              line(after + 1, "disk quota exceeded on volume 3", "error")],
                  key=b"api|h1")
    second = await run_worker(config, kafka_bootstrap, "second")
    assert second.checkpoints.log_shards_restored == 1
    new = [s for s in await signals(kafka_bootstrap, t.signals) if s.get("name") == "log_new_template"]
    assert len(new) == 1, "only the genuinely new template may fire"
    assert "disk quota exceeded" in str(new[0]["summary"])


async def test_restarted_worker_restores_multivariate_windows_and_refits_at_once(
    kafka_bootstrap: str, unique_topic_prefix: str
) -> None:
    multivariate = {"enabled": True, "step_seconds": 60, "window": 100, "min_fit": 40, "refit_every": 1000,
                    "n_estimators": 20, "snapshot_interval_seconds": 3600}
    config = worker_config(unique_topic_prefix, kafka_bootstrap, f"{unique_topic_prefix}g3",
                           {"multivariate": multivariate})
    t = config.topics
    await worker_topics(kafka_bootstrap, config)
    rng = random.Random(5)
    history = []
    for i in range(60):
        load = 50 + rng.gauss(0, 5)
        history += [sample(i, load, "cpu"), sample(i, 2 * load + rng.gauss(0, 1), "latency")]
    await produce(kafka_bootstrap, t.events, history, key=b"api|h1")

    # stop() forces the entity snapshot although its interval has not passed
    first = await run_worker(config, kafka_bootstrap, "first")
    assert first.stage.multivariate is not None
    held = first.stage.multivariate.export_entity("h1")
    assert held is not None
    assert held["window"]["shape"][0] >= 40

    await produce(kafka_bootstrap, t.events, [sample(61, 50.0, "cpu"), sample(61, 100.0, "latency"),
                                              sample(62, 50.0, "cpu")], key=b"api|h1")
    second = await run_worker(config, kafka_bootstrap, "second")
    assert second.checkpoints.entities_restored == 1
    detector = second.stage.multivariate
    assert detector is not None
    restored = detector.export_entity("h1")
    assert restored is not None
    assert restored["window"]["shape"][0] > held["window"]["shape"][0], "restored window plus the new steps"
    assert detector.fit_count >= 1, "refitted from the restored window, no min_fit warm-up"


async def test_micro_batched_ensemble_worker_flags_a_shift_and_its_state_survives_a_restart(
    kafka_bootstrap: str, unique_topic_prefix: str
) -> None:
    """The streaming worker with `detection.metric.detector: ensemble` scores each batch through the
    `EnsembleBank`; its snapshots restore into a second worker, which flags a level shift at once."""
    config = worker_config(unique_topic_prefix, kafka_bootstrap, f"{unique_topic_prefix}g4",
                           {"metric": {"detector": "ensemble"}})
    t = config.topics
    await worker_topics(kafka_bootstrap, config)
    rng = random.Random(5)
    await produce(kafka_bootstrap, t.events, [sample(i, 100 + rng.gauss(0, 1)) for i in range(900)], key=b"api|h1")

    first = await run_worker(config, kafka_bootstrap, "first")
    assert first.stage._banked is not None, "the ensemble must run micro-batched in the worker"
    assert first.snapshots_written >= 1
    before = len([s for s in await signals(kafka_bootstrap, t.signals) if s.get("status") == "firing"])

    shifted = [sample(900 + i, 130.0 + rng.gauss(0, 1)) for i in range(5)]
    await produce(kafka_bootstrap, t.events, shifted, key=b"api|h1")
    second = await run_worker(config, kafka_bootstrap, "second")
    assert second.checkpoints.series_restored == 1
    firing = [s for s in await signals(kafka_bootstrap, t.signals) if s.get("status") == "firing"]
    assert len(firing) == before + 1, "the restored ensemble must flag the shift without a new warm-up"
    assert str(firing[-1]["started_at"]).startswith(dt_from_epoch(T0 + 60 * 900).isoformat()[:19])
    state = second.stage.metrics.export_series("api|h1|latency_ms")
    assert state is not None
    assert state["detector"]["count"] == 905


async def test_worker_reports_a_series_that_stops_while_the_others_go_on(
    kafka_bootstrap: str, unique_topic_prefix: str
) -> None:
    ingest = {"consumer_group": f"{unique_topic_prefix}g5", "idle_partition_seconds": 0.5}
    raw = isolated_config(unique_topic_prefix, kafka_bootstrap, {"ingest": ingest})
    raw["detection"] = {"metric": {"missing_data": {"enabled": True}}}
    raw["correlation"] = {"allowed_lateness_seconds": 1}
    config = AiopsConfig.model_validate(raw)
    t = config.topics
    await worker_topics(kafka_bootstrap, config)
    rng = random.Random(5)
    both = [sample(i, 100 + rng.gauss(0, 1), name) for i in range(30) for name in ("latency_ms", "errors")]
    alone = [sample(i, 100.0) for i in range(30, 40)]  # "errors" stops; event time goes on past its deadline
    await produce(kafka_bootstrap, t.events, both + alone, key=b"api|h1")
    worker = DetectionWorker(config, kafka_bootstrap, AiopsMetrics(CollectorRegistry()), producer_id="w")
    await worker.start()
    task = asyncio.create_task(worker.run())
    missing: list[dict[str, object]] = []
    try:
        for _ in range(20):  # confirmed once the watermark passes the newest sample (idle input: on wall time)
            await asyncio.sleep(1.0)
            found = await signals(kafka_bootstrap, t.signals)
            missing = [s for s in found if s["evidence"]["detector"] == "missing_data"]  # type: ignore[index]
            if missing:
                break
    finally:
        await worker.stop()
        task.cancel()
    assert {s["name"] for s in missing} == {"errors"}
    assert {s["status"] for s in missing} == {"firing"}
    assert str(missing[0]["started_at"]).startswith(dt_from_epoch(T0 + 60 * 29 + 300).isoformat()[:19])
