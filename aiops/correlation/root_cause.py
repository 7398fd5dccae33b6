"""Root-cause ranking of one incident's services.

Scores each affected service from three factors and reports each factor's share:
- `graph`: how many other affected services (transitively) depend on it, with a bonus when none of its
  own dependencies is affected (the deepest anomalous dependency);
- `onset`: how early its first member started, relative to the incident's span;
- `strength`: its strongest member (anomaly score or alert severity).
Pure; the learned causal direction of the correlation issue will add a fourth factor.
"""

from __future__ import annotations

import math

from aiops.correlation.state import IncidentState, MemberState
from aiops.correlation.topology import ServiceGraph
from aiops.incidents import RootCauseCandidate
from aiops.signals import severity_rank

WEIGHTS = {"graph": 0.5, "onset": 0.3, "strength": 0.2}
MAX_CANDIDATES = 5


def member_strength(member: MemberState) -> float:
    """0..1: anomaly tail score on a log scale, or alert severity."""
    if member.evidence is not None:
        tail = max(1.0 - member.evidence.score, 1e-12)
        return min(1.0, -math.log10(tail) / 12.0)
    return severity_rank(member.severity) / 5.0


def rank_root_causes(incident: IncidentState, graph: ServiceGraph) -> list[RootCauseCandidate]:
    by_service: dict[str, list[MemberState]] = {}
    for member in incident.members.values():
        by_service.setdefault(member.service, []).append(member)
    if not by_service:
        return []
    affected = set(by_service)
    span = max(incident.last_seen - incident.first_seen, 1.0)
    candidates = []
    for service, members in by_service.items():
        upstream = graph.transitive_dependents(service) & affected
        downstream = graph.transitive_dependencies(service) & affected
        depth = len(upstream) / max(len(affected) - 1, 1)
        graph_score = 0.7 * depth + (0.3 if not downstream and len(affected) > 1 else 0.0)
        onset = min(member.first_seen for member in members)
        onset_score = 1.0 - (onset - incident.first_seen) / span
        strength = max(member_strength(member) for member in members)
        parts = {"graph": graph_score, "onset": onset_score, "strength": strength}
        total = sum(WEIGHTS[name] * value for name, value in parts.items())
        shares = {name: round(WEIGHTS[name] * value / total, 3) if total else 0.0 for name, value in parts.items()}
        host = next((member.host for member in members if member.host), "")
        reason = _reason(service, upstream, downstream)
        candidates.append(RootCauseCandidate(service=service, host=host, score=round(total, 4),
                                             factors=shares, reason=reason))
    candidates.sort(key=lambda c: (-c.score, c.service))
    return candidates[:MAX_CANDIDATES]


def _reason(service: str, upstream: set[str], downstream: set[str]) -> str:
    parts = []
    if upstream:
        parts.append(f"{len(upstream)} affected service(s) depend on {service}: {', '.join(sorted(upstream))}")
    if not downstream:
        parts.append("none of its dependencies is affected")
    else:
        parts.append(f"its affected dependencies: {', '.join(sorted(downstream))}")
    return "; ".join(parts)
