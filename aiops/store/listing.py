"""Query parameters of ``GET /api/v1/incidents``, read into the store's `IncidentFilter`. Pure (no I/O).

``status`` and ``priority`` take comma-separated values or repeat; ``service``, ``team``, ``owner`` one
value; ``since``/``until`` RFC 3339 with an offset (an incident active in the window: seen at or after
`since`, first seen at or before `until`); ``q`` a free-text substring; ``cursor`` a page's `next_cursor`
unchanged; ``limit`` 1..500 (default 50). Any other parameter, or a wrong value, is a `ListingError`
naming it (the API answers 400). Cursors themselves are checked by the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import get_args

from aiops.incidents import IncidentStatus, Priority
from aiops.store.models import MAX_PAGE_SIZE, IncidentFilter

DEFAULT_PAGE_SIZE = 50
STATUSES: tuple[str, ...] = get_args(IncidentStatus)
PRIORITIES: tuple[str, ...] = get_args(Priority)
SINGLE = ("service", "team", "owner", "since", "until", "q", "cursor", "limit")
KNOWN = ("status", "priority", *SINGLE)


class ListingError(ValueError):
    """A query parameter the list cannot take (message names it)."""


@dataclass(frozen=True, slots=True)
class ListRequest:
    filters: IncidentFilter
    cursor: str | None
    limit: int


def _values(query: Mapping[str, Iterable[str]], name: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    found = [part.strip() for value in query.get(name, ()) for part in value.split(",") if part.strip()]
    wrong = [value for value in found if value not in allowed]
    if wrong:
        raise ListingError(f"{name}: {', '.join(repr(w) for w in wrong)} is not one of {', '.join(allowed)}")
    return tuple(dict.fromkeys(found))


def _single(query: Mapping[str, Iterable[str]], name: str) -> str | None:
    values = list(query.get(name, ()))
    if len(values) > 1:
        raise ListingError(f"{name}: give it once")
    return values[0] if values else None


def parse_time(name: str, text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text.strip().upper().replace(" ", "T"))
    except ValueError:
        raise ListingError(f"{name}: {text!r} is not an RFC 3339 time (e.g. 2026-03-01T08:00:00Z)") from None
    if parsed.tzinfo is None:
        raise ListingError(f"{name}: {text!r} needs an offset (Z or +HH:MM)")
    return parsed.astimezone(UTC)


def _limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_PAGE_SIZE
    try:
        limit = int(text)
    except ValueError:
        raise ListingError(f"limit: {text!r} is not a whole number") from None
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ListingError(f"limit: must be 1..{MAX_PAGE_SIZE}, got {limit}")
    return limit


def parse_list_query(query: Mapping[str, Iterable[str]]) -> ListRequest:
    """`query`: parameter name -> its values (as given, in order); `ListingError` for anything wrong."""
    unknown = sorted(set(query) - set(KNOWN))
    if unknown:
        raise ListingError(f"unknown parameter {', '.join(unknown)} (known: {', '.join(KNOWN)})")
    single = {name: _single(query, name) for name in SINGLE}
    since, until = single["since"], single["until"]
    filters = IncidentFilter(
        status=_values(query, "status", STATUSES), priority=_values(query, "priority", PRIORITIES),
        service=single["service"] or None, team=single["team"] or None, owner=single["owner"] or None,
        since=parse_time("since", since) if since else None, until=parse_time("until", until) if until else None,
        text=(single["q"] or "").strip() or None)
    if filters.since and filters.until and filters.since > filters.until:
        raise ListingError("since is after until")
    return ListRequest(filters, single["cursor"] or None, _limit(single["limit"]))
