"""Small builders shared by the core unit tests: signals, events and configs with sane defaults."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from aiops.config import CorrelationConfig, ServiceConfig
from aiops.correlation.incident_state import IncidentState, MemberState
from aiops.correlation.topology import ServiceGraph
from aiops.events import AlertEvent, LogEvent, MetricEvent
from aiops.signals import Evidence, Signal

T0 = 1_700_000_000.0
"""A round epoch (2023-11-14T22:13:20Z) used as the start of synthetic timelines."""


def at(offset: float) -> datetime:
    """Tz-aware UTC datetime `offset` seconds after `T0`."""
    return datetime.fromtimestamp(T0 + offset, tz=UTC)


def signal(
    name: str = "latency",
    service: str = "svc",
    offset: float = 0.0,
    *,
    status: str = "firing",
    fingerprint: str | None = None,
    started: float | None = None,
    severity: str = "warning",
    origin: str = "alert",
    host: str = "",
    score: float | None = None,
) -> Signal:
    """A `Signal` at `T0 + offset`; the fingerprint defaults to ``service/name``."""
    evidence = None
    if score is not None:
        evidence = Evidence(detector="test", score=score, threshold=0.99, onset=at(started if started is not None
                                                                                    else offset))
    return Signal(
        origin=origin,
        fingerprint=fingerprint or f"{service}/{name}",
        name=name,
        service=service,
        host=host,
        status=status,
        severity=severity,
        ts=at(offset),
        started_at=at(started if started is not None else offset),
        summary=f"{name} on {service}",
        evidence=evidence,
    )


def correlation_config(**overrides: Any) -> CorrelationConfig:
    """Correlation config with timers that are easy to reason about (no wait, no interval, no quiet)."""
    base: dict[str, Any] = {
        "window_seconds": 300.0,
        "topology_hops": 1,
        "group_wait_seconds": 0.0,
        "group_interval_seconds": 0.0,
        "min_active_members": 1,
        "resolve_quiet_seconds": 0.0,
        "stale_seconds": 3600.0,
        "allowed_lateness_seconds": 0.0,
    }
    base.update(overrides)
    return CorrelationConfig.model_validate(base)


def graph(edges: dict[str, list[str]], tiers: dict[str, int] | None = None) -> ServiceGraph:
    """A `ServiceGraph` from ``service -> depends_on``; every named service is in the catalogue."""
    names = set(edges) | {dep for deps in edges.values() for dep in deps}
    tiers = tiers or {}
    return ServiceGraph({
        name: ServiceConfig(depends_on=edges.get(name, []), tier=tiers.get(name, 3)) for name in sorted(names)
    })


def metric_event(offset: float, value: float, *, service: str = "svc", name: str = "latency",
                 host: str = "h1", labels: dict[str, str] | None = None) -> MetricEvent:
    return MetricEvent(kind="metric", ts=at(offset), service=service, name=name, value=value, host=host,
                       labels=labels or {})


def log_event(offset: float, *, service: str = "svc", level: str = "error", message: str = "boom",
              host: str = "h1") -> LogEvent:
    return LogEvent(kind="log", ts=at(offset), service=service, level=level, message=message, host=host)


def alert_event(offset: float, *, name: str = "HighLatency", service: str = "svc", status: str = "firing",
                fingerprint: str | None = None, source: str = "prometheus",
                labels: dict[str, str] | None = None, severity: str = "critical") -> AlertEvent:
    return AlertEvent(kind="alert", ts=at(offset), service=service, name=name, status=status,
                      fingerprint=fingerprint, source=source, labels=labels or {}, severity=severity)


def random_signals(
    rng: random.Random, count: int, services: list[str], names: list[str], *, resolved_share: float,
    burst_share: float, spread: int = 1, hosts: int = 0, score_share: float = 0.0,
) -> Iterator[tuple[float, Signal]]:
    """A seeded stream of `(offset, signal)`: ~4 s apart with occasional 5-15 min gaps (`burst_share`),
    random member (`name`, `service`, one of `spread + 1` fingerprints each), `resolved_share` resolves,
    hosts `h0..` round-robin when `hosts`, evidence scores on `score_share` of the signals."""
    offset = 0.0
    for index in range(count):
        offset += rng.expovariate(1 / 4) + (rng.uniform(300, 900) if rng.random() < burst_share else 0.0)
        name, service = rng.choice(names), rng.choice(services)
        status = "resolved" if rng.random() < resolved_share else "firing"
        fingerprint = f"{name}-{service}-{rng.randint(0, spread)}"
        score = rng.random() if score_share and rng.random() < score_share else None
        host = f"h{index % hosts}" if hosts else ""
        yield offset, signal(name, service, offset, status=status, fingerprint=fingerprint, host=host, score=score)


def incident_state(*members: MemberState, incident_id: str = "inc") -> IncidentState:
    """An engine-side incident holding `members`, spanning their first and last times."""
    state = IncidentState(id=incident_id, scope="s", first_seen=min(m.first_seen for m in members),
                          last_seen=max(m.last_seen for m in members))
    state.members = {m.fingerprint: m for m in members}
    return state
