"""Incident store: projector throughput and list/get latency with 100,000 incidents, SQLite and PostgreSQL.

For each backend, a fresh store (a SQLite file in a temp dir; a PostgreSQL 15 cluster started in a temp
dir on loopback with its default durability settings) is filled through the projector's write path:
incident versions serialised as on the topic, decoded by `decode_records` and written by
`IncidentStore.project` in batches of `store.batch_max_records` (1,000) records, one transaction each
(versions/s = the projector's throughput without the broker). Each incident has 3 versions (open, updated,
then resolved for 85%), 1-3 of 200 services, 2 members, a priority P1-P5 and last_seen over 30 days. Then
p50/p99 of `list_incidents` with typical filters (`--queries` runs each, random parameters) and of
`get_incident`.

    python bench/api.py [--incidents 100000] [--queries 300] [--backends sqlite,postgresql] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # support.postgres: a local cluster

from support.postgres import LocalPostgres, missing_reason

from aiops.incidents import Incident, Member
from aiops.runtime.store_projector import decode_records
from aiops.store.models import IncidentFilter
from aiops.store.sql import SqlIncidentStore

START = datetime(2026, 1, 1, tzinfo=UTC)
SERVICES = [f"svc-{n:03d}" for n in range(200)]
PRIORITIES = ["P1", "P2", "P3", "P4", "P5"]
PRIORITY_WEIGHTS = [5, 15, 40, 25, 15]
BATCH = 1000


def _incident(n: int, version: int, rng: random.Random, shape: dict[str, Any]) -> bytes:
    first = shape["first"]
    last = first + timedelta(minutes=5 * version)
    status = "open" if version == 1 else ("resolved" if version == 3 and shape["resolves"] else "updated")
    members = [Member(fingerprint=f"fp-{n}-{i}", origin="alert", name=shape["alert"], service=service,
                      status="resolved" if status == "resolved" else "firing", severity="critical",
                      first_seen=first, last_seen=last, summary=f"{shape['alert']} on {service}")
               for i, service in enumerate(shape["services"][:2])]
    incident = Incident(
        id=f"inc-{n:07d}", version=version, idempotency_key=f"inc-{n:07d}:{version}", status=status,
        priority=shape["priority"], title=f"{shape['alert']} on {shape['services'][0]}", scope="default",
        services=shape["services"], hosts=[f"host-{n % 500}"], first_seen=first, last_seen=last,
        resolved_at=last if status == "resolved" else None, members=members)
    return incident.model_dump_json().encode()


def _shapes(count: int, rng: random.Random) -> list[dict[str, Any]]:
    alerts = ["HighLatency", "ErrorRate", "OOMKilled", "DiskFull", "PodCrashLooping", "CertExpiry"]
    shapes = []
    for _ in range(count):
        services = list(dict.fromkeys(rng.choices(SERVICES, weights=[1 / (i + 1) for i in range(200)],
                                                  k=rng.randint(1, 3))))
        shapes.append({"first": START + timedelta(seconds=rng.uniform(0, 30 * 86400)), "services": services,
                       "priority": rng.choices(PRIORITIES, PRIORITY_WEIGHTS)[0], "alert": rng.choice(alerts),
                       "resolves": rng.random() < 0.85})
    return shapes


def _records(count: int, topic: str, rng: random.Random) -> list[SimpleNamespace]:
    """Every version as a topic record: blocks of 2,000 incidents, their v1s, then v2s, then v3s."""
    shapes = _shapes(count, rng)
    records = []
    for block in range(0, count, 2000):
        for version in (1, 2, 3):
            for n in range(block, min(block + 2000, count)):
                records.append(SimpleNamespace(topic=topic, value=_incident(n, version, rng, shapes[n]),
                                               timestamp=int(time.time() * 1000)))
    return records


async def _fill(store: SqlIncidentStore, records: list[SimpleNamespace]) -> float:
    kinds = {"incidents": "incidents"}
    started = time.perf_counter()
    for start in range(0, len(records), BATCH):
        decoded = decode_records(records[start:start + BATCH], kinds)
        await store.project(decoded.batch)
    return len(records) / (time.perf_counter() - started)


async def _timed(runs: int, call: Callable[[int], Awaitable[Any]]) -> tuple[float, float]:
    samples = []
    for i in range(runs):
        started = time.perf_counter()
        await call(i)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


async def _queries(store: SqlIncidentStore, count: int, runs: int,
                   rng: random.Random) -> dict[str, tuple[float, float]]:
    hot = SERVICES[:20]
    active = ("open", "updated")
    first_page = await store.list_incidents(IncidentFilter(status=active, priority=("P1", "P2")), limit=50)
    service_page = await store.list_incidents(IncidentFilter(service="svc-001"), limit=50)
    cases: dict[str, Callable[[int], Awaitable[Any]]] = {
        "active, P1-P2, newest first, 50": lambda i: store.list_incidents(
            IncidentFilter(status=active, priority=("P1", "P2")), limit=50),
        "active, P1-P2, service=X, 50": lambda i: store.list_incidents(
            IncidentFilter(status=active, priority=("P1", "P2"), service=rng.choice(hot)), limit=50),
        "service=X (any status), 50": lambda i: store.list_incidents(
            IncidentFilter(service=rng.choice(SERVICES)), limit=50),
        "text search (title/services/members), 50": lambda i: store.list_incidents(
            IncidentFilter(text=rng.choice(["oomkilled on svc-01", "certexpiry", "host-42 "])), limit=50),
        "2nd page via cursor (active P1-P2)": lambda i: store.list_incidents(
            IncidentFilter(status=active, priority=("P1", "P2")), cursor=first_page.next_cursor, limit=50),
        "2nd page via cursor (service=svc-001)": lambda i: store.list_incidents(
            IncidentFilter(service="svc-001"), cursor=service_page.next_cursor, limit=50),
        "get_incident (latest + 3 versions)": lambda i: store.get_incident(f"inc-{rng.randrange(count):07d}"),
    }
    return {name: await _timed(runs, call) for name, call in cases.items()}


async def _bench(backend: str, url: str, records: list[SimpleNamespace], count: int, runs: int) -> None:
    store = SqlIncidentStore(url)
    await store.open()
    try:
        rate = await _fill(store, records)
        stats = await store.stats()
        print(f"\n{backend}: {stats.incidents} incidents ({stats.active} active), {stats.versions} versions; "
              f"projector write path {rate:,.0f} versions/s (batches of {BATCH}, one transaction each)")
        for name, (p50, p99) in (await _queries(store, count, runs, random.Random(7))).items():
            print(f"  {name:<44} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms")
    finally:
        await store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--quick", action="store_true", help="10,000 incidents, 100 queries")
    args = parser.parse_args()
    count, runs = (10_000, 100) if args.quick else (args.incidents, args.queries)
    started = time.perf_counter()
    records = _records(count, "incidents", random.Random(42))
    print(f"{count} incidents, {len(records)} versions serialised in {time.perf_counter() - started:.1f} s")
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory(prefix="aiops-bench-store-") as directory:
                asyncio.run(_bench(backend, f"sqlite+aiosqlite:///{directory}/store.db", records, count, runs))
        elif (reason := missing_reason()) is not None:
            print(f"\npostgresql: skipped ({reason})")
        else:
            server = LocalPostgres(settings={})  # the server's default durability (fsync on)
            server.start()
            try:
                asyncio.run(_bench(backend, server.create_database("bench"), records, count, runs))
            finally:
                server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
