"""Correlation engine benchmark: members/s with many open incidents, advance cost, memory per incident.

Pure engine (no broker): one `global` scope (the worst case for one partition) fills with `--incidents`
open incidents of `--members` firing members each (distinct services, so nothing groups across incidents),
event time advancing 1 s per `--rate` signals (default 1,000) with an advance (watermark tick) every second.
To compare sizes on the same per-incident timeline, scale `--rate` with `--incidents` (10k: 1,000; 100k:
10,000): each incident then gets a member every `incidents / rate` s in both, so as many versions per join.
Then, with everything open:
  1. steady: `--steady` refresh signals (re-fires of existing members, random order) with a tick per
     simulated second: the members/s a partition sustains while holding that state;
  2. idle tick: the cost of one advance when nothing is due (what every watermark costs);
  3. memory: tracemalloc'd bytes of the filled scope state per open incident (a second, traced fill) and
     the process RSS growth of the untraced fill.
Prints a markdown table (for docs/benchmarks.md) and, last, one JSON line.
Usage: python bench/correlation.py [--incidents N] [--members M] [--steady S] [--rate R] [--seed K]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import time
import tracemalloc
from datetime import UTC, datetime
from typing import Any

from aiops.correlation.config import CorrelationConfig
from aiops.correlation.engine import CorrelationEngine
from aiops.correlation.state import ScopeState
from aiops.correlation.topology import ServiceGraph
from aiops.signals import Signal

T0 = 1_700_000_000.0
RATE = 1000.0
"""Signals per second of event time (`--rate`)."""


def _signal(service: int, member: int, epoch: float, started: float) -> Signal:
    return Signal(
        origin="alert", fingerprint=f"s{service}/m{member}", name=f"alert{member}", service=f"svc{service}",
        status="firing", severity="warning", ts=datetime.fromtimestamp(epoch, tz=UTC),
        started_at=datetime.fromtimestamp(started, tz=UTC), summary=f"alert{member} on svc{service}",
    )


def _engine() -> CorrelationEngine:
    config = CorrelationConfig.model_validate({"scope": "global", "group_by": ["service"]})
    return CorrelationEngine(config, ServiceGraph({}), learned=False)


def _feed(engine: CorrelationEngine, state: ScopeState, picks: list[tuple[int, int]], start: float,
          started_at: float | None, rate: float) -> tuple[float, float]:
    """Process one signal per pick at RATE signals/s of event time from `start` (onset `started_at`, or the
    signal's own time), advancing once per second; returns seconds taken and the event time reached."""
    began = time.perf_counter()
    epoch = start
    for n, (service, member) in enumerate(picks):
        epoch = start + n / rate
        engine.process(state, _signal(service, member, epoch, epoch if started_at is None else started_at))
        if n % int(rate) == 0:
            engine.advance(state, epoch)
        engine.drain_decisions()
    return time.perf_counter() - began, epoch


def _fill(engine: CorrelationEngine, incidents: int, members: int,
          rate: float = RATE) -> tuple[ScopeState, float, float]:
    """Open `incidents` x `members`; returns the state, seconds taken and the event time reached."""
    state = ScopeState(scope="global")
    began = time.perf_counter()
    _seconds, epoch = _feed(engine, state, [(s, m) for m in range(members) for s in range(incidents)], T0, None,
                            rate)
    engine.advance(state, epoch + 60)
    engine.drain_decisions()
    return state, time.perf_counter() - began, epoch + 60


def _steady(engine: CorrelationEngine, state: ScopeState, now: float, count: int, incidents: int,
            members: int, seed: int, rate: float = RATE) -> tuple[float, float]:
    """Refresh `count` random existing members; returns seconds and the event time reached."""
    rng = random.Random(seed)
    picks = [(rng.randrange(incidents), rng.randrange(members)) for _ in range(count)]
    return _feed(engine, state, picks, now, T0, rate)


def _idle_tick(engine: CorrelationEngine, state: ScopeState, now: float, ticks: int = 2000) -> float:
    started = time.perf_counter()
    for k in range(1, ticks + 1):
        engine.advance(state, now + k * 0.001)
    return (time.perf_counter() - started) / ticks


def _traced_bytes(incidents: int, members: int, rate: float) -> float:
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    engine = _engine()
    state, _, _ = _fill(engine, incidents, members, rate)
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del state
    return used


def run(incidents: int, members: int, steady: int, seed: int, rate: float = RATE) -> dict[str, Any]:
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    engine = _engine()
    state, fill_s, now = _fill(engine, incidents, members, rate)
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    open_incidents = sum(1 for i in state.incidents.values() if i.status == "open")
    active = sum(i.active_members for i in state.incidents.values())
    counters: dict[str, int] = dict(engine.counters)
    absorbed = counters.get("refreshes_absorbed", 0)
    steady_s, now = _steady(engine, state, now, steady, incidents, members, seed, rate)
    absorbed = counters.get("refreshes_absorbed", 0) - absorbed
    idle = _idle_tick(engine, state, now)
    traced = _traced_bytes(incidents, members, rate)
    return {
        "incidents_open": open_incidents, "active_members": active,
        "fill_members_per_second": round(incidents * members / fill_s),
        "steady_members_per_second": round(steady / steady_s),
        "steady_absorbed_share": round(absorbed / max(steady, 1), 3),
        "idle_advance_us": round(idle * 1e6, 1),
        "bytes_per_incident_traced": round(traced / max(open_incidents, 1)),
        "bytes_per_member_traced": round(traced / max(active, 1)),
        "rss_growth_mb": round((rss1 - rss0) / 1024, 1),
        "rss_bytes_per_incident": round((rss1 - rss0) * 1024 / max(open_incidents, 1)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--members", type=int, default=10, help="members per incident")
    parser.add_argument("--steady", type=int, default=100_000, help="refresh signals in the steady phase")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rate", type=float, default=RATE, help="signals per second of event time")
    args = parser.parse_args()
    fig = run(args.incidents, args.members, args.steady, args.seed, args.rate)
    print("| measure | value |\n| --- | --- |")
    rows = [
        ("open incidents / active members (one scope)", f"{fig['incidents_open']:,} / {fig['active_members']:,}"),
        ("fill: new members joining, members/s", f"{fig['fill_members_per_second']:,}"),
        ("steady: member refreshes with 1 s ticks, members/s", f"{fig['steady_members_per_second']:,}"),
        ("steady: share of refreshes absorbed as re-sends", f"{fig['steady_absorbed_share']:.1%}"),
        ("advance with nothing due (per scope)", f"{fig['idle_advance_us']} µs"),
        ("memory per open incident (tracemalloc, scope state)", f"{fig['bytes_per_incident_traced']:,} B"),
        ("memory per member (tracemalloc)", f"{fig['bytes_per_member_traced']:,} B"),
        ("RSS growth of the fill / per incident",
         f"{fig['rss_growth_mb']} MB / {fig['rss_bytes_per_incident']:,} B"),
    ]
    for name, value in rows:
        print(f"| {name} | {value} |")
    print(json.dumps(fig, sort_keys=True))


if __name__ == "__main__":
    main()
