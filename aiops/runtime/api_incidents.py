"""Reading incidents over HTTP: ``GET /api/v1/incidents``, ``/api/v1/incidents/{id}`` and
``/api/v1/incidents/{id}/versions/{version}``, from the incident store (role viewer).

The list answers ``{items: [summary...], next_cursor}`` (query parameters: `aiops.store.listing`); one
incident answers `IncidentAnswer`: the store's `IncidentDetail` (the latest version with members, root cause
and explanation, its timeline oldest first, decisions, notifications), each list cut here to its latest
``<list>_limit`` items (default 500, at most 5,000), with ``counts``; a version answers that full version.
Wrong parameters or cursors are 400 problems, unknown ids or versions 404. Without a store
(``store.enabled: false``) every route is 503 ``store-unavailable``; a store that is not open yet or fails
is 503 ``unavailable`` with Retry-After. `store_call` is that error mapping, shared with the alert routes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Mapping
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import SQLAlchemyError

from aiops.errors import StoreUnavailableError, UsageError
from aiops.operator.auth import Principal
from aiops.runtime.api_auth import Answer, Gate, refuse
from aiops.store.listing import ListingError, parse_list_query
from aiops.store.models import IncidentDetail
from aiops.store.protocol import IncidentStore

log = logging.getLogger("aiops.api")
Result = TypeVar("Result")
DETAIL_LISTS = ("timeline", "decisions", "notifications")
DEFAULT_DETAIL_ITEMS = 500
MAX_DETAIL_ITEMS = 5000
"""Items of each list of ``GET /api/v1/incidents/{id}``: the latest 500 unless ``<list>_limit`` asks (at most)."""


async def store_call(request: web.Request, call: Awaitable[Result], retry_after: float) -> Result:
    """Await `call` on the store: a bad cursor becomes 400, an unreachable or unopened store 503."""
    try:
        return await call
    except UsageError as error:
        raise refuse("bad-request", str(error), request) from None
    except (SQLAlchemyError, OSError, StoreUnavailableError) as error:
        log.warning("%s %s: the incident store failed: %s", request.method, request.path,
                    (str(error).splitlines() or [type(error).__name__])[0][:300])
        raise refuse("unavailable", "the incident store is not available", request, retry_after) from None


def require(store: IncidentStore | None, request: web.Request) -> IncidentStore:
    if store is None:
        raise refuse("store-unavailable", "the incident store is not enabled (store.enabled)", request)
    return store


class DetailCounts(BaseModel):
    """How many items each list of an incident holds in the store (the answer shows the latest of them)."""

    model_config = ConfigDict(frozen=True)

    timeline: int
    decisions: int
    notifications: int


class IncidentAnswer(IncidentDetail):
    """``GET /api/v1/incidents/{id}``: the store's detail, each list cut to its latest ``<list>_limit`` items."""

    counts: DetailCounts = Field(description="Items in the store per list: more than shown when a list was cut.")

    @classmethod
    def of(cls, detail: IncidentDetail, limits: Mapping[str, int]) -> IncidentAnswer:
        lists = {name: getattr(detail, name) for name in DETAIL_LISTS}
        return cls(incident=detail.incident, counts=DetailCounts(**{n: len(items) for n, items in lists.items()}),
                   **{name: items[-limits[name]:] for name, items in lists.items()})


def _detail_limits(request: web.Request) -> dict[str, int]:
    """``timeline_limit``, ``decisions_limit``, ``notifications_limit`` (1..`MAX_DETAIL_ITEMS`); 400 otherwise."""
    limits = dict.fromkeys(DETAIL_LISTS, DEFAULT_DETAIL_ITEMS)
    for name in request.query:
        text = request.query.getall(name)[-1]
        wanted = name.removesuffix("_limit")
        if wanted not in limits or not name.endswith("_limit"):
            raise refuse("bad-request", f"unknown parameter {name} (known: "
                         f"{', '.join(f'{n}_limit' for n in DETAIL_LISTS)})", request)
        if re.fullmatch(r"[0-9]{1,5}", text) is None or not 1 <= int(text) <= MAX_DETAIL_ITEMS:
            raise refuse("bad-request", f"{name}: must be 1..{MAX_DETAIL_ITEMS}", request)
        limits[wanted] = int(text)
    return limits


class IncidentRoutes:
    """The incident read routes over an `IncidentStore` (see the module docstring)."""

    def __init__(self, store: IncidentStore | None, gate: Gate, retry_after_seconds: float) -> None:
        self.store = store
        self.gate = gate
        self.retry_after = retry_after_seconds

    def install(self, app: web.Application) -> None:
        guard = self.gate.guard
        app.router.add_get("/api/v1/incidents", guard("read", "v1", self._list))
        app.router.add_get("/api/v1/incidents/{id}", guard("read", "v1", self._get))
        app.router.add_get("/api/v1/incidents/{id}/versions/{version}", guard("read", "v1", self._version))

    async def _list(self, request: web.Request, principal: Principal) -> Answer:
        store = require(self.store, request)
        try:
            asked = parse_list_query({name: request.query.getall(name) for name in request.query})
        except ListingError as error:
            raise refuse("bad-request", str(error), request) from None
        page = await store_call(request, store.list_incidents(asked.filters, cursor=asked.cursor,
                                                                      limit=asked.limit), self.retry_after)
        return Answer(web.json_response(page.model_dump(mode="json")))

    async def _get(self, request: web.Request, principal: Principal) -> Answer:
        store = require(self.store, request)
        incident_id = request.match_info["id"]
        limits = _detail_limits(request)
        detail = await store_call(request, store.get_incident(incident_id), self.retry_after)
        if detail is None:
            raise refuse("not-found", f"no incident {incident_id!r}", request)
        return Answer(web.json_response(IncidentAnswer.of(detail, limits).model_dump(mode="json")))

    async def _version(self, request: web.Request, principal: Principal) -> Answer:
        store = require(self.store, request)
        incident_id, text = request.match_info["id"], request.match_info["version"]
        if re.fullmatch(r"[0-9]+", text) is None or not text.strip("0"):
            raise refuse("bad-request", f"version: {text[:40]!r} is not a positive whole number", request)
        if re.fullmatch(r"0*[0-9]{1,9}", text) is None:  # no incident has a billion versions
            raise refuse("not-found", f"no version {text[:40]} of incident {incident_id!r}", request)
        incident = await store_call(request, store.get_version(incident_id, int(text)), self.retry_after)
        if incident is None:
            raise refuse("not-found", f"no version {text} of incident {incident_id!r}", request)
        return Answer(web.json_response(incident.model_dump(mode="json")))

