"""The routing page: the routing tree as the service reads it, and where one incident would go, and why.

The tree: the root (default receivers, min_priority, repeat interval), then each route in order with its
matchers (labels, priorities, services, teams), its receivers (or the ones it inherits), ``continue``, the
overrides and time intervals, children indented under their parent; the receivers by name and kind (never
their URLs or secrets). With an incident: the receivers `route_incident` picks now (send, or muted and why;
the route; the matchers that held; min_priority and repeat interval), then every route tried in order with
whether it matched and, if not, why. A form picks the incident (recent active ones offered). Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from aiops.console.markup import Markup, Viewer, join, page, tag, when
from aiops.incidents import Incident
from aiops.sinks.config import DeliveryConfig, RouteFields
from aiops.sinks.routing import RouteDecision, RouteStep
from aiops.store.models import IncidentSummary

NOTHING = Markup("")


def _matchers(route: RouteFields) -> str:
    parts = [f"{key}={value}" if not value.startswith("~") else f"{key}=~{value[1:]}"
             for key, value in route.match_labels.items()]
    for what, values in (("priority", route.match_priorities), ("service", route.match_services),
                         ("team", route.match_teams)):
        if values:
            parts.append(f"{what} in {', '.join(values)}")
    return "; ".join(parts) or "matches everything"


def _route_item(route: RouteFields, path: str, inherited: Sequence[str], children: Markup = NOTHING) -> Markup:
    receivers = ", ".join(route.receivers) if route.receivers else \
        f"inherited: {', '.join(inherited) or 'none'}"
    extra = []
    if route.continue_:
        extra.append("continue: also try the next routes")
    if route.min_priority:
        extra.append(f"min_priority {route.min_priority}")
    if route.repeat_interval_seconds is not None:
        extra.append(f"repeat every {route.repeat_interval_seconds:g} s")
    if route.mute_time_intervals:
        extra.append(f"muted during {', '.join(route.mute_time_intervals)}")
    if route.active_time_intervals:
        extra.append(f"active only during {', '.join(route.active_time_intervals)}")
    return tag("li", tag("b", path), " ", tag("code", _matchers(route)), " → ", tag("span", receivers),
               tag("small", " · " + "; ".join(extra)) if extra else "", children, data_route=path)


def routing_tree(delivery: DeliveryConfig) -> Markup:
    items = []
    for index, route in enumerate(delivery.routes):
        path = f"root/{route.name or f'#{index}'}"
        own = route.receivers or delivery.default_receivers
        children = [_route_item(child, f"{path}/{child.name or f'#{i}'}", own) for i, child in enumerate(route.routes)]
        items.append(_route_item(route, path, delivery.default_receivers,
                                 tag("ul", *children) if children else NOTHING))
    root = tag("li", tag("b", "root"), " default receivers: ", ", ".join(delivery.default_receivers) or "none",
               tag("small", f" · min_priority {delivery.min_priority}; repeat every "
                            f"{delivery.repeat_interval_seconds:g} s; when no route matches"),
               tag("ul", *items) if items else "", data_route="root")
    return tag("ul", root, class_="tree")


def receivers_table(delivery: DeliveryConfig) -> Markup:
    names = delivery.receivers.by_name()
    rows = [tag("tr", tag("td", name), tag("td", delivery.receivers.kind_of(name))) for name in sorted(names)]
    if not rows:
        return tag("p", "No receiver configured (delivery.receivers).", class_="muted")
    return tag("table", tag("caption", f"{len(rows)} receivers (name and kind; targets and secrets not shown)"),
               tag("thead", tag("tr", tag("th", "Receiver", scope="col"), tag("th", "Kind", scope="col"))),
               tag("tbody", *rows))


def explanation(incident: Incident, decisions: Sequence[RouteDecision], steps: Sequence[RouteStep],
                delivery: DeliveryConfig) -> Markup:
    head = tag("tr", *(tag("th", text, scope="col") for text in
                       ("Receiver", "Kind", "Now", "Route", "Why", "Min priority", "Repeat")))
    rows = [tag("tr", tag("td", d.receiver), tag("td", delivery.receivers.kind_of(d.receiver)),
                tag("td", "send" if d.active else f"muted: {d.muted}"), tag("td", d.route), tag("td", d.reason),
                tag("td", d.min_priority), tag("td", f"{d.repeat_interval_seconds:g} s"), data_receiver=d.receiver)
            for d in decisions]
    reached = tag("table", tag("caption", f"{len(rows)} receivers for {incident.priority} {incident.status} "
                                          f"“{incident.title}”"), tag("thead", head), tag("tbody", *rows),
                  class_="reached") if rows else tag("p", "No receiver: the root has no default receivers.")
    tried = [tag("li", tag("b", step.path), ": ", "matched" if step.matched else "no", " (", step.why, ")",
                 class_="matched" if step.matched else "skipped", data_depth=str(step.depth)) for step in steps]
    return join([
        tag("h2", "Which receivers ", tag("a", incident.id, href=f"/incidents/{incident.id}"),
            " would reach now, and why", id="reach"),
        reached,
        tag("h3", "Routes tried, in order"),
        tag("ol", *tried, class_="tried") if tried else tag("p", "No routes: the root decides.", class_="muted"),
    ])


def _picker(incident_id: str, recent: Sequence[IncidentSummary]) -> Markup:
    options = [tag("option", f"{row.priority} {row.title}", value=row.id) for row in recent]
    return tag("form", tag("label", "Incident id ", tag("input", name="incident", id="route-incident",
                                                        value=incident_id, list="recent-incidents", size="28"),
                           for_="route-incident"),
               tag("datalist", *options, id="recent-incidents"), tag("button", "Explain", type="submit"),
               method="get", action="/routing", class_="filters")


def routing_page(delivery: DeliveryConfig, viewer: Viewer, *, now: datetime, incident_id: str = "",
                 recent: Sequence[IncidentSummary] = (), explained: Markup | None = None) -> Markup:
    missing = tag("p", f"No incident {incident_id!r}.", role="alert") if incident_id and explained is None else ""
    body = join([
        tag("h1", "Routing"),
        tag("p", "Where incidents go (delivery.routes, as this service read its config at start; ", when(now), ")."),
        _picker(incident_id, recent), missing, explained or "",
        tag("h2", "Routing tree", id="tree"),
        tag("p", "Top-level routes are tried in order; the first match wins unless it says continue; inside a "
                 "matched route its children likewise; no match: the root's default receivers.", class_="muted"),
        routing_tree(delivery),
        tag("h2", "Receivers", id="receivers"),
        receivers_table(delivery),
    ])
    return page("Routing", body, viewer, current="/routing")
