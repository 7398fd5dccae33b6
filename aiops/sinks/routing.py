"""The routing tree: which receivers an incident version reaches, and why. Pure: `now` is an argument.

Semantics (close to Alertmanager's): top-level routes are tried in order; the first that matches is
taken and, unless it sets ``continue``, the search stops. Inside a matched route its child routes are
tried the same way; when no child matches, the route itself delivers. When no top-level route matches,
the root delivers to `default_receivers`. A route with no receivers inherits its parent's, and so do
`min_priority` and `repeat_interval_seconds`; time intervals are not inherited. `min_priority` is part of
matching, except that `resolved` versions pass it (a receiver told about an incident must hear it end).
A muted route still yields a decision, marked muted, so callers can record the mute. Each receiver is
reported once (its first decision). This module does not deliver or throttle (see
`aiops.sinks.notifications.RepeatThrottle`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from aiops.incidents import Incident, Priority
from aiops.sinks.config import WEEKDAYS, DeliveryConfig, RouteConfig, RouteFields, TimeIntervalConfig


@dataclass(frozen=True)
class RouteDecision:
    receiver: str
    route: str
    reason: str
    muted: str | None
    min_priority: Priority
    repeat_interval_seconds: float

    @property
    def active(self) -> bool:
        return self.muted is None


@dataclass(frozen=True)
class _Inherited:
    path: str
    receivers: tuple[str, ...]
    min_priority: Priority
    repeat_interval_seconds: float


def priority_rank(priority: str) -> int:
    """P1 -> 1 (most urgent) .. P5 -> 5."""
    return int(priority[1:])


def incident_labels(incident: Incident) -> dict[str, str]:
    """Union of the members' labels (the first member to set a label wins)."""
    labels: dict[str, str] = {}
    for member in incident.members:
        for key, value in member.labels.items():
            labels.setdefault(key, value)
    return labels


def _match(route: RouteFields, incident: Incident, min_priority: Priority) -> tuple[bool, str]:
    """Whether `route` matches, with a human-readable account of the matchers that held."""
    why: list[str] = []
    labels = incident_labels(incident)
    for key, wanted in route.match_labels.items():
        value = labels.get(key)
        ok = value is not None and (re.fullmatch(wanted[1:], value) is not None if wanted.startswith("~")
                                    else value == wanted)
        if not ok:
            return False, f"label {key}={value!r} does not match {wanted!r}"
        why.append(f"label {key}={value}")
    checks: list[tuple[str, Sequence[str], Iterable[str]]] = [
        ("priority", route.match_priorities, [incident.priority]),
        ("service", route.match_services, incident.services),
        ("team", route.match_teams, [incident.context.owner] if incident.context.owner else []),
    ]
    for what, wanted_values, have in checks:
        if wanted_values:
            hit = next((value for value in have if value in wanted_values), None)
            if hit is None:
                return False, f"{what} not in {list(wanted_values)}"
            why.append(f"{what} {hit}")
    if incident.status != "resolved" and priority_rank(incident.priority) > priority_rank(min_priority):
        return False, f"{incident.priority} is below min_priority {min_priority}"
    return True, ", ".join(why) or "matches everything"


def in_interval(interval: TimeIntervalConfig, now: datetime) -> bool:
    """Whether the aware datetime `now` falls in the weekly window (end before start spans midnight)."""
    local = now.astimezone(ZoneInfo(interval.timezone))
    minute = local.hour * 60 + local.minute
    start, end = (_minutes(interval.start), _minutes(interval.end))
    today = WEEKDAYS[local.weekday()]
    yesterday = WEEKDAYS[(local.weekday() - 1) % 7]
    if start < end:
        return today in interval.weekdays and start <= minute < end
    return (today in interval.weekdays and minute >= start) or (yesterday in interval.weekdays and minute < end)


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _muted(route: RouteFields, delivery: DeliveryConfig, now: datetime) -> str | None:
    for name in route.mute_time_intervals:
        if in_interval(delivery.time_intervals[name], now):
            return f"muted by time interval {name}"
    active = route.active_time_intervals
    if active and not any(in_interval(delivery.time_intervals[name], now) for name in active):
        return f"outside active time intervals {', '.join(active)}"
    return None


def _inherit(parent: _Inherited, route: RouteFields, index: int) -> _Inherited:
    return _Inherited(
        path=f"{parent.path}/{route.name or f'#{index}'}",
        receivers=tuple(route.receivers) or parent.receivers,
        min_priority=route.min_priority or parent.min_priority,
        repeat_interval_seconds=(route.repeat_interval_seconds if route.repeat_interval_seconds is not None
                                 else parent.repeat_interval_seconds),
    )


def _decisions(node: _Inherited, reason: str, muted: str | None) -> list[RouteDecision]:
    return [RouteDecision(receiver, node.path, reason, muted, node.min_priority, node.repeat_interval_seconds)
            for receiver in node.receivers]


def _walk_children(
    route: RouteConfig, node: _Inherited, reason: str, incident: Incident, delivery: DeliveryConfig, now: datetime
) -> list[RouteDecision]:
    found: list[RouteDecision] = []
    for index, child in enumerate(route.routes):
        child_node = _inherit(node, child, index)
        ok, why = _match(child, incident, child_node.min_priority)
        if ok:
            found.extend(_decisions(child_node, f"{reason}; {child_node.path}: {why}", _muted(child, delivery, now)))
            if not child.continue_:
                break
    return found or _decisions(node, reason, _muted(route, delivery, now))


def route_incident(delivery: DeliveryConfig, incident: Incident, now: datetime) -> list[RouteDecision]:
    """Every receiver the incident version reaches (muted ones included, marked), first decision each."""
    root = _Inherited("root", tuple(delivery.default_receivers), delivery.min_priority,
                      delivery.repeat_interval_seconds)
    found: list[RouteDecision] = []
    matched = False
    for index, route in enumerate(delivery.routes):
        node = _inherit(root, route, index)
        ok, why = _match(route, incident, node.min_priority)
        if not ok:
            continue
        matched = True
        found.extend(_walk_children(route, node, f"{node.path}: {why}", incident, delivery, now))
        if not route.continue_:
            break
    if not matched:
        found = _decisions(root, "root: no route matched (default receivers)", None)
    unique: dict[str, RouteDecision] = {}
    for decision in found:
        unique.setdefault(decision.receiver, decision)
    return list(unique.values())


def explain(delivery: DeliveryConfig, incident: Incident, now: datetime) -> list[str]:
    """One line per receiver for `aiops routes test`."""
    lines = []
    for decision in route_incident(delivery, incident, now):
        state = f"MUTED ({decision.muted})" if decision.muted else "SEND"
        lines.append(f"{decision.receiver}: {state} via {decision.reason} "
                     f"[min_priority={decision.min_priority}, repeat_interval={decision.repeat_interval_seconds:g}s]")
    return lines or ["(no receiver: the root has no default_receivers)"]


@dataclass(frozen=True)
class RouteStep:
    """One route `route_incident` tried for an incident: whether it matched, and the matchers' account."""

    path: str
    matched: bool
    why: str
    depth: int


def route_steps(delivery: DeliveryConfig, incident: Incident) -> list[RouteStep]:
    """The routes `route_incident` tries for `incident`, in its order (the console's "why"): the top-level
    routes up to the first match without ``continue``, and inside each matched route its children likewise."""
    root = _Inherited("root", tuple(delivery.default_receivers), delivery.min_priority,
                      delivery.repeat_interval_seconds)
    steps: list[RouteStep] = []
    for index, route in enumerate(delivery.routes):
        node = _inherit(root, route, index)
        ok, why = _match(route, incident, node.min_priority)
        steps.append(RouteStep(node.path, ok, why, 0))
        if not ok:
            continue
        for child_index, child in enumerate(route.routes):
            child_node = _inherit(node, child, child_index)
            child_ok, child_why = _match(child, incident, child_node.min_priority)
            steps.append(RouteStep(child_node.path, child_ok, child_why, 1))
            if child_ok and not child.continue_:
                break
        if not route.continue_:
            break
    return steps
