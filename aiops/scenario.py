"""Built-in demo scenario: a cascading failure along a dependency chain, unrelated noise, recovery.

Generates events (pure: start time and a seeded `random.Random` come in as arguments) for four services
in a chain `frontend -> checkout -> payments -> postgres` plus an unrelated `search` service
(not connected to the chain, so its alert must become a separate incident):
- two hours of normal traffic (latency and error-rate gauges with noise, info logs) so the detectors
  learn every baseline;
- then (times relative to the end of the warm-up) the database slows down at +0 s; +30 s payments'
  latency rises and it logs errors; +60 s checkout's error rate rises and Prometheus fires
  `CheckoutHighErrorRate`; frontend latency follows at +80 s;
- at +100 s an unrelated warning alert fires on `search` and resolves at +160 s (a separate incident);
- from +300 s everything recovers; the checkout alert resolves at +330 s; normal traffic continues to
  +1560 s so the incidents resolve within the scenario.
The matching service catalogue (owners, runbooks, tiers, depends_on) is `SCENARIO_SERVICES`.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

STEP_SECONDS = 10.0
WARMUP_SECONDS = 7200.0
"""Two hours of normal traffic first: detectors learn each series' baseline before anything happens."""
DURATION_SECONDS = WARMUP_SECONDS + 1560.0
"""After the warm-up: 5 min of failure, then normal traffic long enough for every quiet period to pass
(log episodes' 15 min, the incident's 2 min), so the incident resolves within the scenario."""

SCENARIO_SERVICES: dict[str, dict[str, Any]] = {
    "frontend": {"owner": "team-web", "runbook": "https://runbooks.example/frontend", "tier": 1,
                 "depends_on": ["checkout"]},
    "checkout": {"owner": "team-orders", "runbook": "https://runbooks.example/checkout", "tier": 1,
                 "depends_on": ["payments"]},
    "payments": {"owner": "team-payments", "runbook": "https://runbooks.example/payments", "tier": 1,
                 "depends_on": ["postgres"]},
    "postgres": {"owner": "team-dba", "runbook": "https://runbooks.example/postgres", "tier": 2, "depends_on": []},
    "search": {"owner": "team-discovery", "runbook": "https://runbooks.example/search", "tier": 3,
               "depends_on": []},
}

_BASE_LATENCY = {"frontend": 120.0, "checkout": 80.0, "payments": 60.0, "postgres": 5.0, "search": 40.0}
_FAULT_ONSET = {"postgres": 0.0, "payments": 30.0, "checkout": 60.0, "frontend": 80.0}
_RECOVERY = 300.0


def _latency(service: str, offset: float, rng: random.Random) -> float:
    base = _BASE_LATENCY[service]
    value = base * (1.0 + rng.gauss(0.0, 0.03))
    onset = _FAULT_ONSET.get(service)
    if onset is not None and onset <= offset < _RECOVERY:
        value *= 8.0
    return round(value, 3)


def _error_rate(service: str, offset: float, rng: random.Random) -> float:
    value = abs(rng.gauss(0.5, 0.05))
    if service in ("checkout", "payments") and _FAULT_ONSET[service] <= offset < _RECOVERY:
        value += 20.0
    return round(value, 4)


def _metric(ts: float, service: str, name: str, value: float) -> dict[str, Any]:
    return {"kind": "metric", "ts": round(ts, 3), "source": "prometheus", "service": service,
            "host": f"{service}-1", "name": name, "value": value}


def _log(ts: float, service: str, level: str, message: str) -> dict[str, Any]:
    return {"kind": "log", "ts": round(ts, 3), "source": "fluentbit", "service": service,
            "host": f"{service}-1", "level": level, "message": message}


def _alert(ts: float, service: str, name: str, severity: str, status: str, summary: str) -> dict[str, Any]:
    return {"kind": "alert", "ts": round(ts, 3), "source": "prometheus", "service": service,
            "host": f"{service}-1", "name": name, "severity": severity, "status": status,
            "fingerprint": f"{name}-{service}", "annotations": {"summary": summary}}


def _step_events(ts: float, offset: float, rng: random.Random) -> Iterator[dict[str, Any]]:
    """Events of one step; `offset` counts from the end of the warm-up (negative during it)."""
    for service in _BASE_LATENCY:
        yield _metric(ts, service, "latency_p99_ms", _latency(service, offset, rng))
        yield _metric(ts, service, "error_rate_pct", _error_rate(service, offset, rng))
        yield _log(ts + 1, service, "info", f"GET /api/{service} 200 in {rng.randint(3, 90)}ms")
    if _FAULT_ONSET["payments"] <= offset < _RECOVERY:
        for n in range(4):
            yield _log(ts + 2 + n, "payments", "error",
                       f"ERROR charge failed: timeout after 5000ms talking to postgres (attempt {n + 1})")
    if offset == 60.0:
        yield _alert(ts, "checkout", "CheckoutHighErrorRate", "critical", "firing", "checkout 5xx above 5%")
    if offset == 330.0:
        yield _alert(ts, "checkout", "CheckoutHighErrorRate", "critical", "resolved", "checkout 5xx above 5%")
    if offset == 100.0:
        yield _alert(ts, "search", "SearchIndexLag", "warning", "firing", "search index 3 min behind")
    if offset == 160.0:
        yield _alert(ts, "search", "SearchIndexLag", "warning", "resolved", "search index 3 min behind")


def scenario_events(start: float, rng: random.Random) -> Iterator[dict[str, Any]]:
    """Events of the whole scenario in time order; `start` is the epoch of its first step."""
    elapsed = 0.0
    while elapsed <= DURATION_SECONDS:
        yield from _step_events(start + elapsed, elapsed - WARMUP_SECONDS, rng)
        elapsed += STEP_SECONDS
