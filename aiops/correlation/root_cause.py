"""Root-cause ranking of one incident's services.

Scores each affected service from up to four factors and reports each factor's share of its score:
- `graph`: how many other affected services (transitively) depend on it, with a bonus when none of its
  own dependencies is affected (the deepest anomalous dependency);
- `onset`: how early its first member started, relative to the incident's span;
- `strength`: its strongest member (anomaly score or alert severity);
- `learned`: the learned causal direction, the mean probability that its member types fire before the
  other services' member types (only when the learned model knows at least one such pair).
Pure; the precedence lookup is passed in.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from aiops.correlation.state import IncidentState, MemberState
from aiops.correlation.topology import ServiceGraph
from aiops.incidents import RootCauseCandidate
from aiops.signals import severity_rank

WEIGHTS = {"graph": 0.5, "onset": 0.3, "strength": 0.2}
LEARNED_WEIGHTS = {"graph": 0.4, "onset": 0.25, "strength": 0.15, "learned": 0.2}
MAX_CANDIDATES = 5
MAX_PAIRS = 200

Precedence = Callable[[str, str], float | None]
"""P(member type a fires before member type b), or None when the model has no significant relation."""


def member_strength(member: MemberState) -> float:
    """0..1: anomaly tail score on a log scale, or alert severity."""
    if member.evidence is not None:
        tail = max(1.0 - member.evidence.score, 1e-12)
        return min(1.0, -math.log10(tail) / 12.0)
    return severity_rank(member.severity) / 5.0


def _learned(service: str, by_service: dict[str, list[MemberState]], precedence: Precedence | None) -> float | None:
    if precedence is None:
        return None
    mine = sorted({m.member_type for m in by_service[service] if m.member_type})
    theirs = sorted({m.member_type for s, ms in by_service.items() if s != service for m in ms if m.member_type})
    values: list[float] = []
    for a in mine:
        for b in theirs:
            if len(values) >= MAX_PAIRS:
                break
            p = precedence(a, b)
            if p is not None:
                values.append(p)
    return sum(values) / len(values) if values else None


def rank_root_causes(
    incident: IncidentState, graph: ServiceGraph, precedence: Precedence | None = None
) -> list[RootCauseCandidate]:
    by_service: dict[str, list[MemberState]] = {}
    for member in incident.members.values():
        by_service.setdefault(member.service, []).append(member)
    if not by_service:
        return []
    affected = set(by_service)
    span = max(incident.last_seen - incident.first_seen, 1.0)
    learned = {service: _learned(service, by_service, precedence) for service in by_service}
    weights = LEARNED_WEIGHTS if any(v is not None for v in learned.values()) else WEIGHTS
    candidates = []
    for service, members in by_service.items():
        upstream = graph.transitive_dependents(service) & affected
        downstream = graph.transitive_dependencies(service) & affected
        depth = len(upstream) / max(len(affected) - 1, 1)
        graph_score = 0.7 * depth + (0.3 if not downstream and len(affected) > 1 else 0.0)
        onset = min(member.first_seen for member in members)
        parts = {"graph": graph_score, "onset": 1.0 - (onset - incident.first_seen) / span,
                 "strength": max(member_strength(member) for member in members)}
        if "learned" in weights:
            value = learned[service]
            parts["learned"] = value if value is not None else 0.5
        total = sum(weights[name] * value for name, value in parts.items())
        shares = {name: round(weights[name] * value / total, 3) if total else 0.0 for name, value in parts.items()}
        host = next((member.host for member in members if member.host), "")
        reason = _reason(service, upstream, downstream, learned[service])
        candidates.append(RootCauseCandidate(service=service, host=host, score=round(total, 4),
                                             factors=shares, reason=reason))
    candidates.sort(key=lambda c: (-c.score, c.service))
    return candidates[:MAX_CANDIDATES]


def _reason(service: str, upstream: set[str], downstream: set[str], learned: float | None) -> str:
    parts = []
    if upstream:
        parts.append(f"{len(upstream)} affected service(s) depend on {service}: {', '.join(sorted(upstream))}")
    if not downstream:
        parts.append("none of its dependencies is affected")
    else:
        parts.append(f"its affected dependencies: {', '.join(sorted(downstream))}")
    if learned is not None:
        parts.append(f"learned: fires first with probability {learned:.2f}")
    return "; ".join(parts)
