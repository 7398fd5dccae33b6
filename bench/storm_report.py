"""What the storm benchmark measured, and the markdown it prints (helper of bench/storm.py).

`PhaseResult` is one storm phase of one system. `analyse_waves` reads the webhook bodies one system sent
during the waves: the alerts each notification shows (aiops: the incident's members and `change.added`;
Alertmanager: the group's alerts), the first notification showing each alert (latency from the moment the
bench sent its first `firing`; shown only after its `resolved` was sent counts as late), notifications per
wave, incidents (aiops incident ids, Alertmanager group keys) and, for aiops, whether each chain's incident
names the chain's root service as its top root cause.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from storm_workload import Scale, service_name


@dataclass
class PhaseResult:
    system: str
    phase: str
    alerts: int
    seconds: float
    absorbed: float  # share of the phase absorbed within the timeout (1.0 = all of it)
    cpu_worker: float
    cpu_broker: float
    rss_worker: int
    rss_broker: int
    notifications: int = 0

    @property
    def rate(self) -> float:
        return self.alerts * self.absorbed / self.seconds if self.seconds else 0.0


@dataclass
class WaveResult:
    system: str
    alerts: int
    notifications: int
    per_wave: list[int]
    incidents: int
    shown_after_resolve: int
    never_shown: int
    p50_first_seconds: float | None
    p95_first_seconds: float | None
    root_cause_right: int | None = None
    chains: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _shown(system: str, body: dict[str, Any]) -> tuple[set[str], str]:
    """(alert ids a notification shows, the incident or group it belongs to)."""
    if system == "aiops":
        incident = body["incident"]
        prints = {m["fingerprint"] for m in incident.get("members", [])} | set(incident["change"].get("added", []))
        return {p.removeprefix("bench:") for p in prints}, str(incident["id"])
    ids = {f"{a['labels']['service']}/{a['labels']['instance']}/{a['labels']['alertname']}" for a in body["alerts"]}
    return ids, str(body["groupKey"])


def shown_resolved(system: str, body: dict[str, Any]) -> set[str]:
    """Alert ids a notification shows as resolved (an aiops incident's resolved version: all its members)."""
    if system == "aiops":
        incident = body["incident"]
        done = incident["status"] == "resolved"
        return {m["fingerprint"].removeprefix("bench:") for m in incident.get("members", [])
                if done or m["status"] == "resolved"}
    return {f"{a['labels']['service']}/{a['labels']['instance']}/{a['labels']['alertname']}"
            for a in body["alerts"] if a["status"] == "resolved"}


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def _root_causes(system: str, hooks: list[tuple[float, dict[str, Any]]], scale: Scale) -> tuple[int, int]:
    """(chains whose main incident's last top root cause is the chain's root service, chains hit)."""
    last: dict[str, str] = {}
    alerts_of: dict[str, Counter[str]] = defaultdict(Counter)
    for _, body in hooks:
        ids, key = _shown(system, body)
        causes = body["incident"].get("root_cause") or []
        if causes:
            last[key] = causes[0]["service"]
        for alert_id in ids:
            alerts_of[alert_id.split("-s", 1)[0]][key] += 1
    right = 0
    for chain, counts in alerts_of.items():
        main = counts.most_common(1)[0][0]
        right += last.get(main) == service_name(int(chain[1:]), scale.depth - 1)
    return right, len(alerts_of)


def analyse_waves(system: str, hooks: list[tuple[float, dict[str, Any]]], fired: dict[str, float],
                  resolved: dict[str, float], wave_of: dict[str, int], scale: Scale) -> WaveResult:
    first: dict[str, float] = {}
    per_wave = [0] * scale.waves
    keys: set[str] = set()
    for at, body in sorted(hooks, key=lambda hook: hook[0]):
        ids, key = _shown(system, body)
        ids &= fired.keys()
        if not ids:
            continue
        keys.add(key)
        for wave in {wave_of[i] for i in ids}:
            per_wave[wave] += 1
        for alert_id in ids:
            first.setdefault(alert_id, at)
    latency = sorted(first[i] - fired[i] for i in first)
    late = sum(1 for i, at in first.items() if i in resolved and at > resolved[i])
    result = WaveResult(system, len(fired), sum(per_wave), per_wave, len(keys), late, len(fired) - len(first),
                        _quantile(latency, 0.5), _quantile(latency, 0.95))
    if system == "aiops":
        result.root_cause_right, result.chains = _root_causes(system, hooks, scale)
    return result


def _mib(value: int) -> str:
    return f"{value / 2**20:,.0f} MiB" if value else "-"


def _phase_row(label: str, results: dict[str, PhaseResult]) -> str:
    cells = [label]
    for system in ("am", "aiops"):
        r = results.get(system)
        if r is None:
            cells += ["-", "-", "-", "-"]
            continue
        short = "" if r.absorbed >= 1.0 else f" (not reached: {r.absorbed:.0%} in {r.seconds:.0f} s)"
        rate = f"{r.rate:,.0f}{short}"
        per10k = 10_000 / max(1.0, r.alerts * r.absorbed)
        cpu = f"{r.cpu_worker * per10k:.2f}" + (f" + {r.cpu_broker * per10k:.2f}" if system == "aiops" else "")
        rss = _mib(r.rss_worker) + (f" (broker {_mib(r.rss_broker)})" if system == "aiops" else "")
        cells += [rate, cpu, rss, str(r.notifications)]
    return "| " + " | ".join(cells) + " |"


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


WAVE_ROWS: list[tuple[str, Callable[[WaveResult], str]]] = [
    ("notifications (per wave)", lambda w: f"{w.notifications} ({' / '.join(map(str, w.per_wave))})"),
    ("incidents (AM: groups)", lambda w: str(w.incidents)),
    ("alerts first shown after they resolved", lambda w: f"{w.shown_after_resolve} of {w.alerts}"),
    ("alerts never shown", lambda w: str(w.never_shown)),
    ("alert -> first notification showing it, p50", lambda w: _fmt(w.p50_first_seconds)),
    ("alert -> first notification showing it, p95", lambda w: _fmt(w.p95_first_seconds)),
    ("top root cause = chain root", lambda w: "-" if w.root_cause_right is None
     else f"{w.root_cause_right} of {w.chains} chains"),
]


def markdown(phases: list[PhaseResult], waves: list[WaveResult], scale: Scale) -> str:
    lines = []
    if phases:
        labels = {"new": f"new: first {scale.new:,} alerts", "active": f"up to {scale.active:,} active",
                  "resend": "re-send of every active alert"}
        lines += ["| phase | AM alerts/s | AM CPU-s per 10k | AM RSS | AM notifications | aiops alerts/s | "
                  "aiops CPU-s per 10k (worker + broker) | aiops worker RSS | aiops notifications |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for phase, label in labels.items():
            found = {r.system: r for r in phases if r.phase == phase}
            if found:
                lines.append(_phase_row(f"{label} ({next(iter(found.values())).alerts:,})", found))
    if waves:
        names = {"am": "Alertmanager", "aiops": "aiops"}
        lines += ["", "| waves (" + f"{scale.waves} x {scale.wave_alerts} alerts) | "
                  + " | ".join(names[w.system] for w in waves) + " |", "| --- |" + " ---: |" * len(waves)]
        lines += [f"| {label} | " + " | ".join(cell(w) for w in waves) + " |" for label, cell in WAVE_ROWS]
    return "\n".join(lines)
