"""Alertmanager API v2 alerts over HTTP: ``GET /api/v2/alerts`` and ``GET /api/v2/alerts/groups`` (viewer).

Reads the latest versions of the open incidents from the incident store (at most `OPEN_INCIDENTS`, newest
first) and the current silences (the API's live view of the silences topic plus the static ones), and
answers Alertmanager's gettableAlerts / alertGroups as `aiops.operator.alerts.AlertView` builds them (at most
`aiops.operator.alerts.MAX_FIRING` members; built and serialised in a worker thread, off the event loop), so
``amtool alert query [matchers]`` and Grafana's Alertmanager data source read aiops. Errors in
Alertmanager's form (a JSON string; 400 for a bad parameter). ``GET`` only: ``POST /api/v2/alerts`` on the
same path stays HTTP ingest's (a separate route of its own method).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

import orjson
from aiohttp import web

from aiops.config import AiopsConfig
from aiops.incidents import Incident
from aiops.operator.alerts import AlertQuery, AlertView, parse_alert_query
from aiops.operator.auth import Principal
from aiops.runtime.api_auth import Answer, Gate, refuse
from aiops.runtime.api_incidents import require, store_call
from aiops.runtime.api_silences import LiveSilences
from aiops.sinks.routing import route_incident
from aiops.store.protocol import IncidentStore

OPEN_INCIDENTS = 2000
"""Open incidents read per request (the newest): far more alerts than a screen or amtool shows."""


class AlertRoutes:
    """The Alertmanager v2 alert read routes (see the module docstring)."""

    def __init__(self, config: AiopsConfig, store: IncidentStore | None, silences: LiveSilences, gate: Gate,
                 wall: Callable[[], datetime], retry_after_seconds: float) -> None:
        self.config = config
        self.store = store
        self.silences = silences
        self.gate = gate
        self._wall = wall
        self.retry_after = retry_after_seconds

    def install(self, app: web.Application) -> None:
        guard = self.gate.guard
        app.router.add_get("/api/v2/alerts", guard("read", "alertmanager", self._alerts))
        app.router.add_get("/api/v2/alerts/groups", guard("read", "alertmanager", self._groups))

    def _receivers_of(self, now: datetime) -> Callable[[Incident], list[str]]:
        return lambda incident: [d.receiver for d in route_incident(self.config.delivery, incident, now)]

    async def _answer(self, request: web.Request, build: Callable[[AlertView, AlertQuery], object]) -> Answer:
        """`build(view, query)` off the event loop (a view of thousands of members takes a while)."""
        try:
            query = parse_alert_query({name: request.query.getall(name) for name in request.query})
        except ValueError as error:
            raise refuse("bad-request", str(error), request) from None
        store = require(self.store, request)
        incidents = await store_call(request, store.open_incidents(OPEN_INCIDENTS), self.retry_after)
        now = self._wall()
        policy = self.config.suppression.policy(self.silences.view.silences())
        base_url = f"{request.scheme}://{request.host}"
        receivers_of = self._receivers_of(now)
        body = await asyncio.to_thread(
            lambda: orjson.dumps(build(AlertView(incidents, policy, now, receivers_of, base_url), query)))
        return Answer(web.Response(body=body, content_type="application/json"))

    async def _alerts(self, request: web.Request, principal: Principal) -> Answer:
        return await self._answer(request, AlertView.alerts)

    async def _groups(self, request: web.Request, principal: Principal) -> Answer:
        return await self._answer(request, AlertView.groups)
