"""The storm benchmark's workload and the configurations of both systems (helper of bench/storm.py).

Deterministic from a seed: a catalogue of `chains` dependency chains of `depth` services each (`cNN-s0`
depends on `cNN-s1` ... `cNN-s<depth-1>`, the root), a universe of alerts (service x instance x alert name),
the storm order (phase 1 the first `new` alerts, phase 2 up to `active`, phase 3 every active alert again in
a fresh order) and the waves schedule: each wave fails two chains from the root up (one hop every `hop`
seconds), its alerts fire spread over `spread` seconds, a quarter resolve again within seconds, the rest when
the chain recovers; firing alerts are re-sent every `resend` seconds as Prometheus does. Times are offsets in
seconds from the schedule's start; the driver stamps each event with the wall clock when it sends it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from typing import Any

from aiops.correlation.config import CorrelationConfig

TIMERS = ("allowed_lateness_seconds", "window_seconds", "resolve_quiet_seconds", "reopen_seconds", "stale_seconds",
          "refresh_seconds", "storm_summary_interval_seconds", "storm_added_interval_seconds")
"""aiops' own timers (defaults), scaled like the rest when `Scale.time` < 1 so a quick run keeps their proportions."""

NAMES = ("InstanceDown", "HighErrorRate", "HighLatency", "SaturationHigh", "QueueBacklog", "DiskPressure",
         "PodRestarting", "ReplicaLag", "Timeouts", "CertExpiring")
CRITICAL = {"InstanceDown", "HighErrorRate"}


@dataclass(frozen=True)
class Scale:
    """Sizes and timings of one run (`FULL` or `QUICK`); `time` scales every wave timing and grouping timer."""

    chains: int = 20
    depth: int = 5
    new: int = 10_000
    active: int = 100_000
    waves: int = 4
    wave_alerts: int = 740
    time: float = 1.0
    group_wait: float = 10.0
    group_interval: float = 30.0
    spacing: float = 90.0
    second_chain: float = 7.0
    hop: float = 3.0
    spread: float = 15.0
    short_life: tuple[float, float] = (5.0, 25.0)
    duration: float = 60.0
    resend: float = 60.0

    def timed(self, seconds: float) -> float:
        return seconds * self.time


FULL = Scale()
QUICK = replace(FULL, chains=8, new=500, active=1_000, waves=2, wave_alerts=40, time=0.05, spacing=40.0)


@dataclass(frozen=True)
class Alert:
    service: str
    instance: str
    name: str

    @property
    def id(self) -> str:
        return f"{self.service}/{self.instance}/{self.name}"

    @property
    def severity(self) -> str:
        return "critical" if self.name in CRITICAL else "warning"


def service_name(chain: int, level: int) -> str:
    return f"c{chain:02d}-s{level}"


def catalogue(scale: Scale) -> dict[str, dict[str, Any]]:
    """The `services:` section: each chain's services, each depending on the next one down the chain."""
    services: dict[str, dict[str, Any]] = {}
    for chain in range(scale.chains):
        for level in range(scale.depth):
            below = [service_name(chain, level + 1)] if level + 1 < scale.depth else []
            services[service_name(chain, level)] = {"tier": 1 + level % 3, "depends_on": below,
                                                    "owner": f"team-{chain:02d}"}
    return services


def _alerts_of(service: str, count: int) -> list[Alert]:
    names = NAMES[: max(1, min(len(NAMES), math.ceil(count / 4)))]
    per_name = math.ceil(count / len(names))
    return [Alert(service, f"{service}-{i}", name) for name in names for i in range(per_name)][:count]


def storm_order(scale: Scale, seed: int) -> tuple[list[Alert], list[Alert]]:
    """(the `active` alerts in the order they are first sent, the same alerts in the re-send's order)."""
    services = [service_name(c, level) for c in range(scale.chains) for level in range(scale.depth)]
    per_service = math.ceil(scale.active / len(services))
    universe = [alert for service in services for alert in _alerts_of(service, per_service)]
    rng = random.Random(seed)
    rng.shuffle(universe)
    first = universe[: scale.active]
    again = list(first)
    rng.shuffle(again)
    return first, again


@dataclass(frozen=True)
class Step:
    at: float
    alert: Alert
    status: str  # firing | resolved
    wave: int


def _wave_alerts(scale: Scale, chain: int) -> list[tuple[int, Alert]]:
    per_service = math.ceil(scale.wave_alerts / (2 * scale.depth))
    return [(level, alert) for level in range(scale.depth)
            for alert in _alerts_of(service_name(chain, level), per_service)]


def _alert_steps(scale: Scale, rng: random.Random, wave: int, alert: Alert, fire: float, recover: float) -> list[Step]:
    if rng.random() < 0.25:
        end = fire + scale.timed(rng.uniform(*scale.short_life))
    else:
        end = max(recover + scale.timed(rng.uniform(0.0, 10.0)), fire + scale.timed(1.0))
    steps = [Step(fire, alert, "firing", wave)]
    again = fire + scale.timed(scale.resend)
    while again < end:
        steps.append(Step(again, alert, "firing", wave))
        again += scale.timed(scale.resend)
    steps.append(Step(end, alert, "resolved", wave))
    return steps


def wave_schedule(scale: Scale, seed: int) -> list[Step]:
    """Every send of the waves workload, in time order (ties keep generation order)."""
    rng = random.Random(seed + 1)
    steps: list[Step] = []
    for wave in range(scale.waves):
        for k, chain in enumerate((2 * wave, 2 * wave + 1)):
            if chain >= scale.chains:
                continue
            start = scale.timed(5.0 + wave * scale.spacing + k * scale.second_chain)
            recover = start + scale.timed(scale.duration)
            alerts = _wave_alerts(scale, chain)[: scale.wave_alerts // 2]
            for level, alert in alerts:
                onset = start + scale.timed((scale.depth - 1 - level) * scale.hop)
                fire = onset + scale.timed(rng.uniform(0.0, scale.spread))
                steps.extend(_alert_steps(scale, rng, wave, alert, fire, recover))
    steps.sort(key=lambda step: step.at)
    return steps


def aiops_config(scale: Scale, webhook_url: str, app_id: str) -> dict[str, Any]:
    """`aiops run` on its embedded broker with Alertmanager's grouping (service, group_wait, group_interval)."""
    idle = 10.0 if scale.time >= 1.0 else 1.0
    defaults = CorrelationConfig()
    return {
        "kafka": {"bootstrap": None, "embedded_port": 0},
        "topics": {"events": "storm.events", "signals": "storm.signals", "incidents": "storm.incidents",
                   "deadletter": "storm.deadletter", "decisions": "storm.decisions",
                   "detector_state": "storm.detector-state",
                   "events_partitions": 4, "signals_partitions": 2, "incidents_partitions": 2},
        "ingest": {"consumer_group": f"{app_id}-detect", "idle_partition_seconds": idle},
        # Offsets committed per batch (no detector state comes from alerts), so the bench can see progress.
        "detection": {"snapshot_interval_seconds": 0},
        "correlation": {"group_by": ["service"], "group_wait_seconds": scale.timed(scale.group_wait),
                        "group_interval_seconds": scale.timed(scale.group_interval),
                        **{timer: scale.timed(getattr(defaults, timer)) for timer in TIMERS}},
        "suppression": {"silences_topic": "storm.silences"},
        "services": catalogue(scale),
        "delivery": {
            "notifications_topic": "storm.notifications", "default_receivers": ["bench"],
            "repeat_interval_seconds": scale.timed(scale.group_interval),
            "security": {"allow_loopback": True},
            "receivers": {"webhook": {"bench": {"url": webhook_url, "reliability": {
                "rate_limit_per_second": 10_000.0, "rate_limit_burst": 10_000}}}},
        },
        "http": {"host": "127.0.0.1", "port": 0},
        "workers": {"app_id": app_id},
        "logging": {"level": "WARNING", "json": True},
    }


def _duration(seconds: float) -> str:
    return f"{max(1, round(seconds * 1000))}ms"


def alertmanager_config(scale: Scale, webhook_url: str) -> dict[str, Any]:
    return {
        "route": {"receiver": "bench", "group_by": ["service"], "group_wait": _duration(scale.group_wait * scale.time),
                  "group_interval": _duration(scale.group_interval * scale.time), "repeat_interval": "4h"},
        "receivers": [{"name": "bench", "webhook_configs": [
            {"url": webhook_url, "send_resolved": True, "max_alerts": 0}]}],
    }
