"""Root-cause ranking of one incident's services.

Scores each affected service from up to four factors (`WEIGHTS`, `LEARNED_WEIGHTS`) and reports each
factor's share of its score: `graph` (how many affected services depend on it and show an anomaly it can
explain, see `explains`; whether it or one of them is an entry point of the catalogue; whether it is the
deepest anomalous dependency), `onset` (how early it started among the services it is causally related
to), `strength` (its strongest member) and, when the learned model knows a relevant pair, `learned`
(whether its member types usually fire first). Only anomalies that could cause one another count for the
order: an earlier anomaly that can neither cause this one nor be caused by it says nothing about which of
the two is the root cause. Factor definitions: `rank_root_causes`. Pure: the precedence lookup is passed
in. Not done here: grouping, priority.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from aiops.correlation.incident_state import IncidentState, MemberState
from aiops.correlation.topology import ServiceGraph
from aiops.incidents import RootCauseCandidate
from aiops.signals import severity_rank

WEIGHTS = {"graph": 0.7, "onset": 0.15, "strength": 0.15}
LEARNED_WEIGHTS = {"graph": 0.56, "onset": 0.12, "strength": 0.12, "learned": 0.2}
MAX_CANDIDATES = 5
MAX_PAIRS = 200
MIN_SHARE = 0.1
"""A dependency's deviation must be at least this share of its dependent's (same metric) to explain it."""

Precedence = Callable[[str, str], float | None]
"""P(member type a fires before member type b), or None when the model has no significant relation."""


def member_strength(member: MemberState) -> float:
    """0..1: anomaly tail score on a log scale (clamped to 0..1), or alert severity (also for a NaN score)."""
    if member.evidence is not None and not math.isnan(member.evidence.score):
        tail = max(1.0 - min(max(member.evidence.score, 0.0), 1.0), 1e-12)
        return min(1.0, -math.log10(tail) / 12.0)
    return severity_rank(member.severity) / 5.0


@dataclass(frozen=True, slots=True)
class Symptoms:
    """What a service's anomalies look like: largest |observed - expected| per (metric name, direction)."""

    deviations: dict[tuple[str, int], float]
    unknown: bool
    """It has a member of unknown kind (alert, log anomaly, metric without a baseline or with a non-finite
    deviation): explains anything."""


def symptoms_of(members: Iterable[MemberState]) -> Symptoms:
    """Symptoms from the earliest member of each member type (the least fingerprint on ties: the member
    order, which a restored state need not reproduce, decides nothing)."""
    first: dict[str, MemberState] = {}
    for member in members:
        current = first.get(member.member_type)
        if current is None or (member.first_seen, member.fingerprint) < (current.first_seen, current.fingerprint):
            first[member.member_type] = member
    deviations: dict[tuple[str, int], float] = {}
    unknown = False
    for member in first.values():
        evidence = member.evidence
        delta = (math.nan if member.origin != "metric_anomaly" or evidence is None or evidence.observed is None
                 or evidence.expected is None else evidence.observed - evidence.expected)
        if delta == 0.0 or not math.isfinite(delta):
            unknown = True  # no size or direction to compare (NaN/inf values too)
            continue
        key = (member.name, 1 if delta > 0 else -1)
        deviations[key] = max(deviations.get(key, 0.0), abs(delta))
    return Symptoms(deviations, unknown)


def explains(dependent: Symptoms, dependency: Symptoms) -> bool:
    """Can the dependency's anomaly account for the dependent's?

    Yes when either side has a member of unknown kind (an alert, a log anomaly), or when both have a metric
    anomaly of the same name deviating the same way and the dependency's deviation is at least `MIN_SHARE`
    of the dependent's: anomalies propagate along calls as the same symptom, so a caller's latency rise is
    not explained by a callee whose latency fell, whose availability rose, or whose latency rose by a
    hundredth as much."""
    if dependent.unknown or dependency.unknown:
        return True
    return any(dependency.deviations.get(key, 0.0) >= MIN_SHARE * size for key, size in dependent.deviations.items())


@dataclass(frozen=True, slots=True)
class _Place:
    """Where a service sits among the affected ones: whose anomaly it explains, and what explains its own."""

    upstream: set[str]
    """Affected services depending on it (transitively) whose anomaly it explains."""
    downstream: set[str]
    """Affected dependencies (transitive) that explain its anomaly."""
    unrelated: set[str]
    """Affected dependencies whose anomaly does not explain its own."""
    related: set[str]
    """Affected services it explains or that explain it, itself included (what its onset and learned order
    are compared with)."""
    entry: bool
    """It, or an affected dependent it explains, is a catalogue entry point (nothing else depends on it)."""

    @classmethod
    def of(cls, service: str, graph: ServiceGraph, symptoms: dict[str, Symptoms]) -> _Place:
        mine = symptoms[service]
        others = {s for s in symptoms if s != service}  # on a dependency cycle a service reaches itself
        upstream = {s for s in graph.transitive_dependents(service) & others if explains(symptoms[s], mine)}
        below = graph.transitive_dependencies(service) & others
        downstream = {s for s in below if explains(mine, symptoms[s])}
        entry = any(s in graph.depends_on and not graph.dependents.get(s, set()) - {s} for s in upstream | {service})
        return cls(upstream, downstream, below - downstream, upstream | downstream | {service}, entry)

    def score(self, affected: int) -> float:
        """0.5 x share of the other affected services it explains, + 0.2 when that reaches an entry point,
        + 0.3 when nothing below explains it (0 for a one-service incident: nothing to compare)."""
        depth = len(self.upstream) / max(affected - 1, 1)
        if affected < 2:
            return 0.0
        return 0.5 * depth + 0.2 * self.entry + (0.0 if self.downstream else 0.3)


def _learned(service: str, by_service: dict[str, list[MemberState]], precedence: Precedence | None,
             related: set[str]) -> float | None:
    if precedence is None:
        return None
    mine = sorted({m.member_type for m in by_service[service] if m.member_type})
    theirs = sorted({m.member_type for s, ms in by_service.items() if s != service and s in related
                     for m in ms if m.member_type})
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
    """The incident's services ranked as probable root causes (at most `MAX_CANDIDATES`), from:

    - `graph`: how many other affected services (transitively) depend on it *and show an anomaly it can
      explain* (0.5 x their share), a bonus when one of them, or itself, is an entry point of the catalogue
      (a known service nothing else depends on, e.g. the frontend: where users feel the failure; 0.2), and a
      bonus when none of its own affected dependencies can explain its anomaly (the deepest anomalous
      dependency; 0.3). Each service's symptoms are read from the earliest member of each member type (what
      an incident digest keeps);
    - `onset`: how early its first member started compared with the affected services whose anomaly it
      explains or that explain its own (1 when none of them started earlier, less by the delay over the
      incident's span);
    - `strength`: its strongest member (anomaly score or alert severity);
    - `learned`: the learned causal direction, the mean probability that its member types fire before the
      member types of the services it explains or that explain it (only when the learned model knows at
      least one such pair).
    """
    by_service: dict[str, list[MemberState]] = {}
    for member in incident.members.values():
        by_service.setdefault(member.service, []).append(member)
    if not by_service:
        return []
    affected = set(by_service)
    symptoms = {service: symptoms_of(members) for service, members in by_service.items()}
    onsets = {service: min(member.first_seen for member in members) for service, members in by_service.items()}
    span = max(incident.last_seen - incident.first_seen, 1.0)
    places = {service: _Place.of(service, graph, symptoms) for service in by_service}
    learned = {service: _learned(service, by_service, precedence, places[service].related) for service in by_service}
    weights = LEARNED_WEIGHTS if any(v is not None for v in learned.values()) else WEIGHTS
    candidates = []
    for service, members in by_service.items():
        place = places[service]
        delay = onsets[service] - min(onsets[other] for other in place.related)
        parts = {"graph": place.score(len(affected)), "onset": 1.0 - delay / span,
                 "strength": max(member_strength(member) for member in members)}
        if "learned" in weights:
            value = learned[service]
            parts["learned"] = value if value is not None else 0.5
        total = sum(weights[name] * value for name, value in parts.items())
        shares = {name: round(weights[name] * value / total, 3) if total else 0.0 for name, value in parts.items()}
        host = min(((m.first_seen, m.fingerprint, m.host) for m in members if m.host), default=(0.0, "", ""))[2]
        reason = _reason(service, place, learned[service])
        candidates.append(RootCauseCandidate(service=service, host=host, score=round(total, 4),
                                             factors=shares, reason=reason))
    candidates.sort(key=lambda c: (-c.score, c.service))
    return candidates[:MAX_CANDIDATES]


def _reason(service: str, place: _Place, learned: float | None) -> str:
    parts = []
    if place.upstream:
        parts.append(f"{len(place.upstream)} affected service(s) depend on {service}: "
                     f"{', '.join(sorted(place.upstream))}")
    if place.entry:
        parts.append("explains an affected entry point" if place.upstream else "it is an entry point")
    if place.downstream:
        parts.append(f"its affected dependencies: {', '.join(sorted(place.downstream))}")
    elif place.unrelated:
        parts.append("none of its affected dependencies explains its anomaly")
    else:
        parts.append("none of its dependencies is affected")
    if place.unrelated:
        parts.append(f"affected dependencies with an unrelated anomaly: {', '.join(sorted(place.unrelated))}")
    if learned is not None:
        parts.append(f"learned: fires first with probability {learned:.2f}")
    return "; ".join(parts)
