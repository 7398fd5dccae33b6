"""Incident priority P1..P5 from severity, service tier, blast radius, anomaly strength and novelty.

Novelty is the share of the incident's member types never seen in its scope before the incident started
(the engine passes it; 0 when unknown).

Each factor is normalised to 0..1 and weighted; the weighted sum maps to a priority band. Every factor is
returned with its value and contribution so the incident's explanation can say why. Pure.
"""

from __future__ import annotations

from aiops.correlation.incident_state import IncidentState
from aiops.correlation.root_cause import member_strength
from aiops.correlation.topology import ServiceGraph
from aiops.incidents import Priority, PriorityFactor
from aiops.signals import severity_rank

WEIGHTS = {"severity": 0.35, "tier": 0.25, "blast_radius": 0.15, "strength": 0.15, "novelty": 0.10}
BANDS: list[tuple[float, Priority]] = [(0.8, "P1"), (0.6, "P2"), (0.4, "P3"), (0.2, "P4")]
DEFAULT_TIER = 3


def assess_priority(
    incident: IncidentState, graph: ServiceGraph, novelty: float = 0.0
) -> tuple[Priority, list[PriorityFactor]]:
    members = list(incident.members.values())
    services = {member.service for member in members}
    severity = max((severity_rank(member.severity) for member in members), default=1)
    tiers = [graph.services[s].tier if s in graph.services else DEFAULT_TIER for s in services]
    tier = min(tiers, default=DEFAULT_TIER)
    impacted = set(services)
    for service in services:
        impacted |= graph.transitive_dependents(service)
    strength = max((member_strength(member) for member in members), default=0.0)
    normalised = {
        "severity": (severity - 1) / 4,
        "tier": (5 - tier) / 4,
        "blast_radius": min(1.0, (len(impacted) - 1) / 4),
        "strength": strength,
        "novelty": min(1.0, max(0.0, novelty)),
    }
    score = sum(WEIGHTS[name] * value for name, value in normalised.items())
    priority: Priority = "P5"
    for floor, band in BANDS:
        if score >= floor:
            priority = band
            break
    shown = {
        "severity": f"max member severity rank {severity}/5",
        "tier": f"most critical service tier {tier}",
        "blast_radius": f"{len(impacted)} service(s) affected or depending on them",
        "strength": f"strongest anomaly {strength:.2f}",
        "novelty": f"{novelty:.0%} of member types never seen before",
    }
    factors = [
        PriorityFactor(factor=name, value=shown[name], weight=round(WEIGHTS[name] * normalised[name], 3))
        for name in WEIGHTS
    ]
    return priority, factors
