"""On-call console: the incident list with 1,000 open incidents, server side and in headless Chromium.

A SQLite incident store in a temp dir is filled through the projector's write path with `--incidents` open
incidents (2-3 members on 1-3 of 200 services, a root-cause candidate, P1-P5), then the service's operator
API with its console is started on an embedded tansu broker (the silences topic only; no worker runs).
Server side: `--loads` requests of ``GET /`` (the list: store reads of up to 1,000 rows in pages of 500,
rendering, HTML) timed to the last byte by aiohttp, the page's size raw and gzipped, and the render alone
(`list_page` over the rows already read). In the browser (Debian chromium through chromedriver and Selenium, headless,
fresh navigation each time, stylesheet and script cached after the first): the Navigation Timing and Paint
Timing entries of each load: first byte, response end, DOM interactive, DOMContentLoaded, load, first
paint and first contentful paint, and the live stream connected ("Live" shown), all from navigation start.
Medians and maxima. Needs chromium and chromedriver (skips the browser part without them).

    python bench/console.py [--incidents 1000] [--loads 15]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # support.chromium: the tests' session

import aiohttp
from prometheus_client import CollectorRegistry
from support.chromium import MISSING, chromium_session

from aiops.config import AiopsConfig
from aiops.console.incident_list import ListQuery, list_page
from aiops.console.markup import Viewer
from aiops.incidents import Incident, Member, RootCauseCandidate
from aiops.runtime.api_http import OperatorApi
from aiops.runtime.broker import EmbeddedBroker
from aiops.runtime.http_server import HttpEndpoint
from aiops.runtime.service import topic_specs
from aiops.runtime.store_projector import decode_records
from aiops.runtime.topics import ensure_topics
from aiops.store.models import IncidentFilter
from aiops.store.sql import SqlIncidentStore

NOW = datetime.now(UTC).replace(microsecond=0)
SERVICES = [f"svc-{n:03d}" for n in range(200)]
ALERTS = ["HighLatency", "ErrorRate", "OOMKilled", "DiskFull", "PodCrashLooping", "CertExpiry"]
PRIORITIES = ["P1", "P2", "P3", "P4", "P5"]
BROWSER_TIMING = """
const n = performance.getEntriesByType('navigation')[0];
const paint = Object.fromEntries(performance.getEntriesByType('paint').map(p => [p.name, p.startTime]));
return {first_byte: n.responseStart, response_end: n.responseEnd, dom_interactive: n.domInteractive,
        dom_content_loaded: n.domContentLoadedEventEnd, load: n.loadEventEnd,
        first_paint: paint['first-paint'], first_contentful_paint: paint['first-contentful-paint'],
        transfer_bytes: n.transferSize, rows: document.querySelectorAll('#rows tr').length};
"""
LIVE_AT = """
const done = arguments[0];
const live = document.getElementById('live');
(function wait() { if (live.textContent.startsWith('Live')) done(performance.now()); else setTimeout(wait, 5); })();
"""


def incident_record(n: int, rng: random.Random, topic: str) -> SimpleNamespace:
    services = list(dict.fromkeys(rng.choices(SERVICES, k=rng.randint(1, 3))))
    first = NOW - timedelta(seconds=rng.uniform(60, 7 * 86400))
    alert = rng.choice(ALERTS)
    members = [Member(fingerprint=f"fp-{n}-{i}", origin="alert", name=alert, service=services[i % len(services)],
                      host=f"host-{(n + i) % 500}", status="firing", severity="critical", first_seen=first,
                      last_seen=first, summary=f"{alert} on {services[i % len(services)]}")
               for i in range(rng.randint(2, 3))]
    incident = Incident(
        id=f"inc-{n:06d}", version=1, idempotency_key=f"inc-{n:06d}:1", status="open",
        priority=rng.choice(PRIORITIES), title=f"{alert} on {services[0]}", scope="default", services=services,
        hosts=sorted({member.host for member in members}), first_seen=first, last_seen=first, members=members,
        root_cause=[RootCauseCandidate(service=services[-1], host=members[-1].host, score=0.8,
                                       factors={"graph": 0.5, "onset": 0.3}, reason="first to fire")])
    return SimpleNamespace(topic=topic, value=incident.model_dump_json().encode(), timestamp=int(time.time() * 1000))


async def fill(store: SqlIncidentStore, count: int) -> None:
    rng = random.Random(7)
    records = [incident_record(n, rng, "incidents") for n in range(count)]
    for start in range(0, count, 1000):
        await store.project(decode_records(records[start:start + 1000], {"incidents": "incidents"}).batch)


def summary(name: str, samples: list[float], unit: str = "ms") -> str:
    return f"  {name:<34} median {statistics.median(samples):8.1f} {unit}   max {max(samples):8.1f} {unit}"


async def server_side(url: str, store: SqlIncidentStore, loads: int) -> None:
    timings, body = [], b""
    async with aiohttp.ClientSession() as http:
        for _ in range(loads):
            started = time.perf_counter()
            async with http.get(url + "/") as response:
                body = await response.read()
            timings.append((time.perf_counter() - started) * 1000)
    rows = []
    cursor = None
    for _ in range(2):
        page = await store.list_incidents(IncidentFilter(status=("open", "updated")), cursor=cursor, limit=500)
        rows += page.items
        cursor = page.next_cursor
    renders = []
    for _ in range(loads):
        started = time.perf_counter()
        list_page(rows, ListQuery.parse({}), Viewer("bench", True, "x"), next_cursor=None, now=NOW)
        renders.append((time.perf_counter() - started) * 1000)
    print(f"server side ({body.count(b'<tr data-id')} rows on the page):")
    print(summary("GET / to the last byte", timings))
    print(summary("list_page render alone", renders))
    print(f"  page size {len(body) / 1024:,.0f} KiB raw, {len(gzip.compress(body)) / 1024:,.0f} KiB gzipped "
          f"(the service sends it uncompressed)")


async def in_browser(url: str, loads: int) -> None:
    if MISSING is not None:
        print(f"browser: skipped ({MISSING})")
        return
    found: dict[str, list[float]] = {}
    async with chromium_session(1280, 900) as browser:
        await browser.open(url + "/")  # warms the stylesheet and script cache
        for _ in range(loads):
            await browser.open(url + "/")
            timing: dict[str, Any] = await browser.run(BROWSER_TIMING)
            timing["live_stream_connected"] = await browser.run_async(LIVE_AT)
            for name, value in timing.items():
                if value is not None:
                    found.setdefault(name, []).append(float(value))
    print(f"in headless Chromium ({int(found['rows'][0])} rows; ms from navigation start, {loads} loads):")
    for name in ("first_byte", "response_end", "first_paint", "first_contentful_paint", "dom_interactive",
                 "dom_content_loaded", "load", "live_stream_connected"):
        print(summary(name, found.get(name, [float("nan")])))


async def main(count: int, loads: int) -> None:
    print(f"{count} open incidents; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    async with EmbeddedBroker(port=0) as broker:
        with tempfile.TemporaryDirectory() as temp:
            config = AiopsConfig.model_validate({
                "kafka": {"bootstrap": broker.bootstrap}, "http": {"port": 0},
                "suppression": {"silences_topic": "bench-console-silences"}})
            await ensure_topics(broker.bootstrap, topic_specs(config))
            store = SqlIncidentStore(f"sqlite+aiosqlite:///{Path(temp) / 'bench.db'}")
            await store.open()
            await fill(store, count)
            api = OperatorApi(config, broker.bootstrap, store=store, scope_of=store.incident_scope, audit=store,
                              registry=CollectorRegistry())
            endpoint = HttpEndpoint("127.0.0.1", 0, CollectorRegistry(), lambda: {"ok": True},
                                    installers=[api.install])
            await api.start()
            await endpoint.start()
            try:
                await server_side(endpoint.url, store, loads)
                await in_browser(endpoint.url, loads)
            finally:
                await endpoint.stop()
                await api.stop()
                await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument("--loads", type=int, default=15)
    args = parser.parse_args()
    asyncio.run(main(args.incidents, args.loads))
