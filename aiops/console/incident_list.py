"""The incident list page: filters, search, sort, counts per priority and one row per incident.

`ListQuery.parse` reads the page's query string (status, priority, service, team, q, sort) into the store's
`IncidentFilter` and a sort key, refusing nothing (an unknown value is ignored and the form shows what was
applied). `list_page` renders the rows server-side; the script then follows ``/console/stream`` and updates
or inserts rows live (marking them changed or new) using the same cells (``data-*`` on each row). Pure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

import orjson

from aiops.console.markup import Markup, Viewer, esc, join, page, tag, when
from aiops.incidents import IncidentStatus, Priority
from aiops.store.models import IncidentFilter, IncidentSummary

Sort = Literal["last_seen", "priority", "age"]
SORTS: dict[str, str] = {"last_seen": "Last change", "priority": "Priority", "age": "Oldest first"}
PRIORITIES: tuple[Priority, ...] = get_args(Priority)
STATUSES: tuple[IncidentStatus, ...] = get_args(IncidentStatus)
ACTIVE: tuple[IncidentStatus, ...] = ("open", "updated")


@dataclass(frozen=True)
class ListQuery:
    """What the list shows: the store filter and the order."""

    filters: IncidentFilter
    sort: Sort = "last_seen"

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> ListQuery:
        status = query.get("status", "active")
        statuses = ACTIVE if status == "active" else () if status == "all" else \
            tuple(s for s in STATUSES if s == status)
        priority = tuple(p for p in PRIORITIES if p == query.get("priority"))
        sort = query.get("sort", "last_seen")
        filters = IncidentFilter(status=statuses, priority=priority,
                                 service=query.get("service", "").strip() or None,
                                 team=query.get("team", "").strip() or None,
                                 text=query.get("q", "").strip()[:200] or None)
        return cls(filters, sort if sort in SORTS else "last_seen")  # type: ignore[arg-type]

    @property
    def status_choice(self) -> str:
        statuses = self.filters.status
        return "active" if statuses == ACTIVE else "all" if not statuses else statuses[0]


def sort_rows(rows: Sequence[IncidentSummary], sort: Sort) -> list[IncidentSummary]:
    if sort == "priority":
        return sorted(rows, key=lambda r: (r.priority, -r.last_seen.timestamp(), r.id))
    if sort == "age":
        return sorted(rows, key=lambda r: (r.first_seen, r.id))
    return list(rows)  # the store's order: newest last_seen first


def _select(name: str, label: str, options: Sequence[tuple[str, str]], chosen: str) -> Markup:
    return tag("label", label, tag("select", *(tag("option", text, value=value, selected=value == chosen)
                                               for value, text in options), name=name))


def _filters(query: ListQuery) -> Markup:
    f = query.filters
    statuses = [("active", "open or updated"), ("all", "any"), *((s, s) for s in STATUSES)]
    return tag(
        "form",
        _select("status", "Status", statuses, query.status_choice),
        _select("priority", "Priority", [("", "any"), *((p, p) for p in PRIORITIES)], (f.priority or ("",))[0]),
        tag("label", "Service", tag("input", name="service", value=f.service or "", size="12")),
        tag("label", "Team", tag("input", name="team", value=f.team or "", size="10")),
        tag("label", "Search", tag("input", type="search", name="q", value=f.text or "", id="search",
                                   placeholder="id, title, service, member…", size="24")),
        _select("sort", "Sort", list(SORTS.items()), query.sort),
        tag("button", "Apply", type="submit"),
        method="get", action="/", class_="filters", role="search")


def incident_row(row: IncidentSummary) -> Markup:
    """One table row (one template: 1,000 rows in a few ms); the script builds the same cells from a stream
    event's summary."""
    i, p, s = esc(row.id), esc(row.priority), esc(row.status)
    services = ", ".join(row.services)
    return Markup(
        f'<tr data-id="{i}" data-version="{row.version}" data-priority="{p}" data-status="{s}" '
        f'data-team="{esc(row.team or "")}" data-services="{esc("|".join(row.services))}" tabindex="-1">'
        f'<td><span class="prio {p}">{p}</span></td>'
        f'<td><a href="/incidents/{i}" class="open">{esc(row.title)}</a><small> {i}</small></td>'
        f'<td>{esc(services)}</td><td>{esc(row.root_cause or "-")}</td>'
        f'<td class="age">{when(row.first_seen)}</td><td><span class="status {s}">{s}</span></td>'
        f'<td>{esc(row.acknowledged_by or "-")}</td></tr>')


def counts_bar(rows: Sequence[IncidentSummary]) -> Markup:
    counts = Counter(row.priority for row in rows)
    return tag("ul", *(tag("li", tag("span", p, class_=f"prio {p}"), " ", tag("b", str(counts[p]), data_count=p))
                       for p in PRIORITIES), class_="counts", aria_label="Incidents per priority")


def list_page(rows: Sequence[IncidentSummary], query: ListQuery, viewer: Viewer | None, *, truncated: bool,
              now: datetime) -> Markup:
    shown = sort_rows(rows, query.sort)
    head = tag("tr", *(tag("th", text, scope="col") for text in
                       ("Priority", "Incident", "Services", "Root cause", "Age", "Status", "Acknowledged by")))
    table = tag("table", tag("caption", f"{len(shown)} incidents" + (" (the newest; narrow the filters)"
                                                                      if truncated else "")),
                tag("thead", head), tag("tbody", *(incident_row(row) for row in shown), id="rows"),
                class_="incidents")
    f = query.filters
    filters = {"status": ",".join(f.status), "priority": ",".join(f.priority), "service": f.service or "",
               "team": f.team or "", "q": f.text or ""}
    body = join([
        tag("h1", "Incidents"),
        _filters(query),
        counts_bar(rows),
        tag("p", "Connecting to the live stream…", id="live", role="status", aria_live="polite"),
        tag("p", "Keys: j / k move, Enter opens, / searches.", class_="muted"),
        table if shown else join([table, tag("p", "No incident matches.", id="empty")]),
    ])
    return page("Incidents", body, viewer, current="/",
                data={"page": "list", "filters": orjson.dumps(filters).decode(), "now": now.isoformat()})


