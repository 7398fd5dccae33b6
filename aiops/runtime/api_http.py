"""The operator API on the service's HTTP listener: `OperatorApi`, a runner with `install(app)`.

Routes: ``POST /api/v1/incidents/{id}/actions`` (an `aiops.actions.Action` published on the actions topic,
keyed by the incident's scope so it lands in the partition of its signals; 202 with the action id only once
the broker acknowledged it, 503 + Retry-After otherwise; an ``Idempotency-Key`` header makes the id the same
for every retry; a merge across scopes is 409), the incident reads of `aiops.runtime.api_incidents`,
the live stream of `aiops.runtime.api_stream` (``GET /api/v1/stream``), Alertmanager's alerts and alert
groups (`aiops.runtime.api_alerts`), the silences of `aiops.runtime.api_silences`, ``GET /api/v2/receivers``,
``GET /api/v1/openapi.json`` and ``/api/v1/docs`` (no token needed), and ``GET /api/v2/status`` only when
HTTP ingest (which serves it) is off. Every other route goes through the `Gate` (tokens, roles, audit; 503
until `start` has read the silences). The service passes the incident store the projector writes (`store`;
reads, `scope_of` = its `incident_scope`, `audit` = the store; the stream follows its change feed) and the
`IncidentFeed` its projector nudges; without a store, incident routes and actions answer 503. Wiring only:
rules in `aiops.operator`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime

from aiohttp import web
from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from aiops.actions import Action
from aiops.clock import utc_now
from aiops.config import AiopsConfig
from aiops.errors import BrokerUnavailableError
from aiops.metrics import OperatorApiMetrics
from aiops.operator.audit import AuditSink, MemoryAuditSink
from aiops.operator.auth import Principal
from aiops.operator.openapi import docs_page, openapi_document
from aiops.operator.problems import validation_problem
from aiops.operator.requests import ActionAccepted, ActionRequest, build_action
from aiops.runtime.api_actions import ActionPublisher
from aiops.runtime.api_alerts import AlertRoutes
from aiops.runtime.api_audit import AuditBatchStore, BatchedAuditWriter
from aiops.runtime.api_auth import Answer, ApiProblem, Gate, build_token_table, read_body, refuse
from aiops.runtime.api_incidents import IncidentAnswer, IncidentRoutes, store_call
from aiops.runtime.api_silences import LiveSilences, SilenceRoutes
from aiops.runtime.api_stream import ChangeFollower, IncidentFeed, StreamRoute
from aiops.runtime.console_http import ConsoleRoutes
from aiops.runtime.ingest_status import aiops_version, alertmanager_status
from aiops.store.models import IncidentPage
from aiops.store.protocol import IncidentStore

log = logging.getLogger("aiops.api")
ScopeLookup = Callable[[str], str | Awaitable[str | None] | None]
"""incident id -> its correlation scope, None when unknown (sync or async; the incident store provides it)."""
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY = 128
STREAM_POLL_SECONDS = 0.5
"""How often the live stream polls the store's change feed (at once when this process's projector commits)."""


def _action_id(request: web.Request, incident_id: str, principal: Principal) -> str:
    """A new UUID hex, or with an ``Idempotency-Key`` header the same id for every retry of that request:
    sha256 of the actor, the incident and the key (32 hex digits); 400 for a key of over 128 characters."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return uuid.uuid4().hex
    if not 0 < len(key) <= MAX_IDEMPOTENCY_KEY:
        raise refuse("bad-request", f"{IDEMPOTENCY_HEADER}: 1 to {MAX_IDEMPOTENCY_KEY} characters", request)
    return hashlib.sha256(f"{principal.name}\n{incident_id}\n{key}".encode()).hexdigest()[:32]


class OperatorApi:
    """Runner and route table of the operator API (see the module docstring)."""

    def __init__(self, config: AiopsConfig, bootstrap: str, *, scope_of: ScopeLookup | None = None,
                 audit: AuditSink | None = None, wall: Callable[[], datetime] = utc_now,
                 environ: Mapping[str, str] | None = None, store: IncidentStore | None = None,
                 feed: IncidentFeed | None = None, registry: CollectorRegistry | None = None) -> None:
        """`store`: where incidents are read and the stream's change feed (None: those routes answer 503, the
        stream only sends heartbeats); `feed`: the stream's broadcaster, which this process's projector nudges;
        `registry`: the service's metrics, which the console's pipeline page shows."""
        settings = config.api
        self.config = config
        self.wall = wall
        self.settings = settings
        self.scope_of = scope_of
        self.audit = audit if audit is not None else MemoryAuditSink()
        self.audit_writer = BatchedAuditWriter(audit) if isinstance(audit, AuditBatchStore) else None
        self._ready = False
        self.gate = Gate(build_token_table(config, environ), self.audit_writer or self.audit, wall,
                         ready=lambda: self._ready,
                         retry_after_seconds=settings.retry_after_seconds)
        client_id = f"{config.kafka.client_id}-api"
        self.metrics = OperatorApiMetrics(registry if registry is not None else CollectorRegistry())
        self.actions = ActionPublisher(bootstrap, config.topics.actions, self.metrics, client_id=f"{client_id}-actions",
                                       request_timeout_ms=config.kafka.request_timeout_ms,
                                       ack_seconds=settings.publish_timeout_seconds)
        self.silences = LiveSilences(bootstrap, config.suppression.silences_topic, client_id=client_id,
                                     request_timeout_ms=config.kafka.request_timeout_ms,
                                     ack_seconds=settings.publish_timeout_seconds)
        self.silence_routes = SilenceRoutes(self.silences, self.gate, wall, settings.retry_after_seconds)
        self.incident_routes = IncidentRoutes(store, self.gate, settings.retry_after_seconds)
        self.alert_routes = AlertRoutes(config, store, self.silences, self.gate, wall, settings.retry_after_seconds)
        self.feed = feed if feed is not None else IncidentFeed(settings.stream_queue_events)
        self.changes = ChangeFollower(store, self.feed, STREAM_POLL_SECONDS) if store is not None else None
        self.stream_route = StreamRoute(self.feed, settings.stream_heartbeat_seconds,
                                        max_clients=settings.stream_max_clients,
                                        retry_after_seconds=settings.retry_after_seconds)
        self.receivers = sorted(config.delivery.receivers.by_name())
        self.serve_status = not config.ingest.http.enabled
        self.document = openapi_document(aiops_version(), (IncidentPage, IncidentAnswer))
        self._wall = wall
        self._started_at = time.time()
        self._stopping = asyncio.Event()
        self.console = ConsoleRoutes(self, registry) if settings.console else None

    async def start(self) -> None:
        if self.audit_writer is not None:
            await self.audit_writer.start()
        await self.actions.start()
        await self.silences.start()  # read to the end first: no answer from a half-read silence set
        if self.changes is not None:
            await self.changes.start()
        self._ready = True

    async def run(self) -> None:
        while not self._stopping.is_set():  # 401 summaries of a quiet minute are written all the same
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.gate.flood.window_seconds)
            await self.gate.close_flood()

    async def stop(self) -> None:
        self._ready = False
        self._stopping.set()
        if self.changes is not None:
            await self.changes.stop()
        self.feed.close()  # open streams end now, not when the listener's shutdown times out
        await self.silences.stop()
        await self.actions.stop()
        await self.gate.close_flood(force=True)
        if self.audit_writer is not None:
            await self.audit_writer.stop()  # after the listener stopped taking requests: nothing queued is lost

    def install(self, app: web.Application) -> None:
        """Add the operator API's routes to `app` (the service's HTTP listener)."""
        guard = self.gate.guard
        app.router.add_post("/api/v1/incidents/{id}/actions", guard("act", "v1", self._act))
        app.router.add_get("/api/v1/stream", guard("read", "v1", self.stream_route.stream))
        app.router.add_get("/api/v1/openapi.json", self._openapi)
        app.router.add_get("/api/v1/docs", self._docs)
        app.router.add_get("/api/v2/receivers", guard("read", "alertmanager", self._receivers))
        if self.serve_status:  # otherwise HTTP ingest serves it
            app.router.add_get("/api/v2/status", self._status)
        self.silence_routes.install(app)
        self.incident_routes.install(app)
        self.alert_routes.install(app)
        if self.console is not None:
            self.console.install(app)

    async def _openapi(self, request: web.Request) -> web.Response:
        return web.json_response(self.document)

    async def _docs(self, request: web.Request) -> web.Response:
        return web.Response(text=docs_page(self.document), content_type="text/html")

    async def _status(self, request: web.Request) -> web.Response:
        return web.json_response(alertmanager_status(self._started_at))

    async def _receivers(self, request: web.Request, principal: Principal) -> Answer:
        return Answer(web.json_response([{"name": name} for name in self.receivers]))

    async def _scope(self, request: web.Request, incident_id: str) -> str | None:
        assert self.scope_of is not None
        found = self.scope_of(incident_id)
        if not inspect.isawaitable(found):
            return found
        return await store_call(request, found, self.settings.retry_after_seconds)

    async def _act(self, request: web.Request, principal: Principal) -> Answer:
        body = await read_body(request, ActionRequest)
        action = await self.submit(request, body, request.match_info["id"], principal,
                                   _action_id(request, request.match_info["id"], principal))
        accepted = ActionAccepted(id=action.id)
        return Answer(web.json_response(accepted.model_dump(), status=202), made=action.id)

    async def submit(self, request: web.Request, body: ActionRequest, incident_id: str, principal: Principal,
                     action_id: str) -> Action:
        """Publish the action `body` asks for on `incident_id` (also the console's forms); `ApiProblem` when the
        store, the incident, the merge target or the broker says no."""
        if self.scope_of is None:
            raise refuse("store-unavailable", "actions need the incident store, which is not configured", request)
        scope = await self._scope(request, incident_id)
        if scope is None:
            raise refuse("not-found", f"no incident {incident_id!r}", request)
        if body.into is not None:
            into_scope = await self._scope(request, body.into)
            if into_scope is None:
                raise ApiProblem(validation_problem([{"loc": ("into",), "msg": f"no incident {body.into!r}"}],
                                                    request.path))
            if into_scope != scope:
                raise refuse("conflict", f"{incident_id} (scope {scope!r}) cannot be merged into {body.into} "
                             f"(scope {into_scope!r}): incidents merge within one correlation scope", request)
        try:
            action = build_action(body, action_id=action_id, incident_id=incident_id, scope=scope,
                                  actor=principal.name, requested_at=self._wall())
        except ValidationError as error:
            raise ApiProblem(validation_problem(error.errors(include_url=False), request.path)) from None
        try:
            await self.actions.write([(action.key, action.model_dump_json().encode())])
        except BrokerUnavailableError as error:
            log.warning("action %s on %s not published: %s; answered 503", action.kind, incident_id, error)
            raise refuse("unavailable", str(error), request, self.settings.retry_after_seconds) from None
        log.info("action %s %s on incident %s by %s accepted", action.id, action.kind, incident_id, action.actor)
        return action
