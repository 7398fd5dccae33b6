"""The incident list page: filters, search, sort, counts per priority and one row per incident.

`ListQuery.parse` reads the page's query string (status, priority, service, team, q, sort, after) into the
store's `IncidentFilter`, a sort key and the store's cursor, refusing nothing (an unknown value is ignored and
the form shows what was applied). `list_page` renders up to `MAX_ROWS` rows server-side, with links to the
older page and back to the newest; the script then follows ``/console/stream`` and updates or inserts rows
live (marking them changed or new) using the same cells (``data-*`` on each row). Pure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args
from urllib.parse import urlencode

import orjson

from aiops.console.markup import Markup, Viewer, esc, join, page, tag, when
from aiops.incidents import IncidentStatus, Priority
from aiops.store.models import IncidentFilter, IncidentSummary

Sort = Literal["last_seen", "priority", "age"]
SORTS: dict[str, str] = {"last_seen": "Last change", "priority": "Priority", "age": "Oldest first"}
PRIORITIES: tuple[Priority, ...] = get_args(Priority)
STATUSES: tuple[IncidentStatus, ...] = get_args(IncidentStatus)
ACTIVE: tuple[IncidentStatus, ...] = ("open", "updated")
MAX_ROWS = 1000
"""Rows per list page (older ones: the next page, by the store's cursor)."""


@dataclass(frozen=True)
class ListQuery:
    """What the list shows: the store filter and the order."""

    filters: IncidentFilter
    sort: Sort = "last_seen"
    after: str | None = None
    """The store's cursor: this page starts after the last row of the previous one (``?after=``)."""

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
        after = query.get("after", "").strip()[:500] or None
        return cls(filters, sort if sort in SORTS else "last_seen", after)  # type: ignore[arg-type]

    def params(self, after: str | None = None) -> str:
        """This view's query string, on the page after cursor `after` (None: the newest page)."""
        f = self.filters
        chosen = {"status": self.status_choice, "priority": (f.priority or ("",))[0], "service": f.service or "",
                  "team": f.team or "", "q": f.text or "", "sort": self.sort, "after": after or ""}
        defaults = {("status", "active"), ("sort", "last_seen")}
        return urlencode({key: value for key, value in chosen.items() if value and (key, value) not in defaults})

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


def _paging(query: ListQuery, next_cursor: str | None) -> Markup:
    links = []
    if query.after:
        links.append(tag("a", "← Newest incidents", href="/?" + query.params(), rel="first"))
    if next_cursor:
        links.append(tag("a", f"Older incidents (next {MAX_ROWS:,}) →", href="/?" + query.params(next_cursor),
                         rel="next"))
    return tag("nav", *links, class_="paging", aria_label="Pages") if links else Markup("")


def list_page(rows: Sequence[IncidentSummary], query: ListQuery, viewer: Viewer | None, *, next_cursor: str | None,
              now: datetime, notice: str = "") -> Markup:
    """Up to `MAX_ROWS` rows of one page (newest `last_seen` first in the store, sorted here); `next_cursor`:
    there are older ones; `notice`: why the page holds fewer rows than it could (a store read failed)."""
    shown = sort_rows(rows, query.sort)
    head = tag("tr", *(tag("th", text, scope="col") for text in
                       ("Priority", "Incident", "Services", "Root cause", "Age", "Status", "Acknowledged by")))
    which = "an older page" if query.after else "the newest"
    caption = f"{len(shown):,} incidents" + (f" ({which}; more on the next page)" if next_cursor else
                                             " (an older page)" if query.after else "")
    table = tag("table", tag("caption", caption), tag("thead", head),
                tag("tbody", *(incident_row(row) for row in shown), id="rows"), class_="incidents")
    f = query.filters
    filters = {"status": ",".join(f.status), "priority": ",".join(f.priority), "service": f.service or "",
               "team": f.team or "", "q": f.text or "", "sort": query.sort, "older": bool(query.after)}
    paging = _paging(query, next_cursor)
    body = join([
        tag("h1", "Incidents"),
        _filters(query),
        counts_bar(rows),
        tag("p", notice, role="alert", class_="flash") if notice else "",
        tag("p", "Connecting to the live stream…", id="live", role="status", aria_live="polite"),
        tag("p", "Keys: j / k move, Enter opens, / searches.", class_="muted"),
        paging,
        table if shown else join([table, tag("p", "No incident matches.", id="empty")]),
        paging,
    ])
    return page("Incidents", body, viewer, current="/",
                data={"page": "list", "filters": orjson.dumps(filters).decode(), "now": now.isoformat()})
