"""The on-call console on the operator API's listener: ``/`` and its pages, rendered by `aiops.console`.

Routes: ``GET /`` (incident list), ``/incidents/{id}``, ``/silences``, ``/routing``, ``/pipeline``; form posts
``/incidents/{id}/actions``, ``/silences``, ``/silences/preview``, ``/silences/{id}/expire``; ``/login`` and
``/logout``; ``/console/stream`` (the API's SSE stream for a signed-in browser) and ``/console/static/{name}``.
Who: with tokens configured, a signed session cookie made at sign-in from an API token (HttpOnly,
SameSite=Strict; the key is made at start, so sessions end with the process); without tokens, the API's
anonymous role. Every post needs the session's CSRF token and passes the API gate's Origin/Host checks; it is
audited like an API request. Actions go through `OperatorApi.submit` (the same publish path as the REST
route); after a post the browser is redirected (303) to a page saying what happened. Reads come straight
from the incident store.
"""

from __future__ import annotations

import logging
import secrets
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from importlib.resources import files
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import quote, urlencode

from aiohttp import web
from prometheus_client import CollectorRegistry

from aiops.console.forms import FormError, action_request, silence_request
from aiops.console.incident_list import MAX_ROWS, ListQuery, list_page
from aiops.console.incident_page import incident_page
from aiops.console.markup import Markup, Viewer
from aiops.console.pages import error_page, login_page, muted_now, silences_page
from aiops.console.pipeline import Reading, pipeline_page
from aiops.console.routing_page import explanation, routing_page
from aiops.console.session import COOKIE, SessionSigner
from aiops.correlation.topology import ServiceGraph, load_edges
from aiops.operator.auth import Principal
from aiops.operator.problems import problem
from aiops.operator.requests import build_silence
from aiops.runtime.api_auth import Answer, ApiProblem
from aiops.runtime.api_incidents import DEFAULT_DETAIL_ITEMS, IncidentAnswer, store_call
from aiops.sinks.routing import route_incident, route_steps
from aiops.store.models import MAX_PAGE_SIZE, IncidentFilter, IncidentSummary, matches_text

if TYPE_CHECKING:
    from aiops.runtime.api_http import OperatorApi

log = logging.getLogger("aiops.console")
MAX_LIST_ROWS = MAX_ROWS
ASSETS = {"console.css": "text/css", "console.js": "text/javascript"}
READINGS_KEPT_SECONDS = 120.0
Result = TypeVar("Result")
Page = Callable[[web.Request, Principal, Viewer], Awaitable[web.StreamResponse]]


def html(markup: Markup, status: int = 200) -> web.Response:
    return web.Response(text=markup, status=status, content_type="text/html",
                        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY",
                                 "Content-Security-Policy": "default-src 'self'; style-src 'self'; "
                                 "script-src 'self'; img-src 'self' data:; frame-ancestors 'none'"})


def see_other(location: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(location)


class ConsoleRoutes:
    """The console's handlers over an `OperatorApi` (see the module docstring)."""

    def __init__(self, api: OperatorApi, registry: CollectorRegistry | None = None) -> None:
        self.api = api
        self.registry = registry
        self.signer = SessionSigner(secrets.token_bytes(32))
        config = api.config
        edges = load_edges(config.correlation.topology_file) if config.correlation.topology_file else []
        graph = ServiceGraph(config.services, edges)
        self.depends_on = {name: sorted(targets) for name, targets in graph.depends_on.items()}
        self._assets = {name: (files("aiops.console") / "static" / name).read_bytes() for name in ASSETS}
        self._readings: deque[tuple[float, Reading]] = deque()

    def install(self, app: web.Application) -> None:
        get, post = app.router.add_get, app.router.add_post
        get("/", self._page(self._list))
        get("/incidents/{id}", self._page(self._incident))
        get("/incidents/{id}/version", self._page(self._version))
        get("/console/match/{id}", self._page(self._match))
        post("/incidents/{id}/actions", self._form(self._act))
        get("/silences", self._page(self._silences))
        post("/silences", self._form(self._create_silence))
        post("/silences/preview", self._form(self._preview_silence))
        post("/silences/{id}/expire", self._form(self._expire_silence))
        get("/routing", self._page(self._routing))
        get("/pipeline", self._page(self._pipeline))
        get("/login", self._login_form)
        post("/login", self._login)
        post("/logout", self._logout)
        get("/console/stream", self._page(self._stream))
        get("/console/static/{name}", self._static)

    # who is asking
    def _principal(self, request: web.Request) -> tuple[Principal | None, str | None]:
        tokens = self.api.gate.tokens
        anonymous = tokens.authenticate(None)
        if anonymous is not None:
            return anonymous, None
        cookie = request.cookies.get(COOKIE)
        return self.signer.verify(cookie, time.time()), cookie

    def _viewer(self, principal: Principal, cookie: str | None) -> Viewer:
        return Viewer(principal.name, principal.may("act"), self.signer.csrf_token(cookie), cookie is not None)

    def _page(self, handler: Page) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def guarded(request: web.Request) -> web.StreamResponse:
            try:
                self.api.gate.check_provenance(request)
            except ApiProblem as refused:
                return html(error_page("Refused", refused.problem.detail, None), refused.problem.status)
            principal, cookie = self._principal(request)
            if principal is None:
                raise see_other("/login?" + urlencode({"next": request.path_qs}))
            try:
                return await handler(request, principal, self._viewer(principal, cookie))
            except ApiProblem as refused:
                return html(error_page(refused.problem.title, refused.problem.detail,
                                       self._viewer(principal, cookie)), refused.problem.status)

        return guarded

    def _form(self, handler: Page) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """A form post: provenance, session, CSRF and role checks, then the handler; audited either way."""
        async def guarded(request: web.Request) -> web.StreamResponse:
            principal, cookie = self._principal(request)
            viewer = self._viewer(principal, cookie) if principal is not None else None
            try:
                self.api.gate.check_provenance(request)
                form = await request.post()
                if principal is None or viewer is None:
                    raise see_other("/login")
                if not self.signer.csrf_ok(cookie, str(form.get("csrf", ""))):
                    response: web.StreamResponse = html(error_page(
                        "Refused", "The form's token is missing or stale: reload the page and try again.", viewer), 403)
                elif not principal.may("act"):
                    response = html(error_page("Refused", f"{principal.name} is a {principal.role}: reading only.",
                                               viewer), 403)
                else:
                    response = await handler(request, principal, viewer)
            except ApiProblem as refused:
                response = html(error_page(refused.problem.title, refused.problem.detail, viewer),
                                refused.problem.status)
            except web.HTTPException as redirect:
                response = redirect
            await self.api.gate.record(request, principal, Answer(response, made=response.headers.get(
                "X-Aiops-Made", "")))
            if isinstance(response, web.HTTPException):
                raise response
            return response

        return guarded

    async def _read(self, request: web.Request, call: Awaitable[Result]) -> Result:
        """A store read; a store not open yet or failing becomes the 503 page."""
        return await store_call(request, call, self.api.settings.retry_after_seconds)

    # pages
    async def _list(self, request: web.Request, principal: Principal, viewer: Viewer) -> web.StreamResponse:
        query = ListQuery.parse(request.query)
        rows, next_cursor, notice = await self._page_of_rows(request, query.filters, query.after)
        return html(list_page(rows, query, viewer, next_cursor=next_cursor, now=self.api.wall(), notice=notice))

    async def _page_of_rows(self, request: web.Request, filters: IncidentFilter, after: str | None
                            ) -> tuple[list[IncidentSummary], str | None, str]:
        """Up to MAX_LIST_ROWS rows after cursor `after`, the cursor of the next page (None: no more) and a
        notice: when a store read fails after the first, the rows read so far, continued by the next link."""
        store = self.api.incident_routes.store
        if store is None:
            raise ApiProblem(problem("store-unavailable", "the incident store is not enabled (store.enabled)", "/"))
        rows: list[IncidentSummary] = []
        cursor = after
        while len(rows) < MAX_LIST_ROWS:
            try:
                page = await self._read(request, store.list_incidents(
                    filters, cursor=cursor, limit=min(MAX_PAGE_SIZE, MAX_LIST_ROWS - len(rows))))
            except ApiProblem as failed:
                if not rows or failed.problem.status != 503:
                    raise
                return rows, cursor, (f"The store did not answer for more rows ({failed.problem.detail}): "
                                      f"{len(rows):,} shown; the next page continues after them.")
            rows += page.items
            cursor = page.next_cursor
            if cursor is None:
                break
        return rows, cursor, ""

    async def _rows(self, request: web.Request, filters: IncidentFilter) -> tuple[list[IncidentSummary], bool]:
        rows, cursor, _ = await self._page_of_rows(request, filters, None)
        return rows, cursor is not None

    async def _incident(self, request: web.Request, principal: Principal, viewer: Viewer) -> web.StreamResponse:
        store = self.api.incident_routes.store
        detail = await self._read(request, store.get_incident(request.match_info["id"])) if store is not None else None
        if detail is None:
            return html(error_page("Not found", f"No incident {request.match_info['id']!r}.", viewer), 404)
        limits = {"timeline": DEFAULT_DETAIL_ITEMS, "decisions": DEFAULT_DETAIL_ITEMS,
                  "notifications": DEFAULT_DETAIL_ITEMS}
        shown = IncidentAnswer.of(detail, limits)
        counts = shown.counts
        cut = max(counts.timeline, counts.decisions, counts.notifications) > DEFAULT_DETAIL_ITEMS
        return html(incident_page(shown, viewer, depends_on=self.depends_on, cut=cut,
                                  flash=request.query.get("done", "")[:300]))

    async def _version(self, request: web.Request, principal: Principal, viewer: Viewer) -> web.StreamResponse:
        """The incident's stored version (the page asks once its stream is connected, not to miss one)."""
        rows, _ = await self._rows(request, IncidentFilter(text=request.match_info["id"]))
        version = max((row.version for row in rows if row.id == request.match_info["id"]), default=0)
        return web.json_response({"version": version}, headers={"Cache-Control": "no-store"})

    async def _match(self, request: web.Request, principal: Principal, viewer: Viewer) -> web.StreamResponse:
        """Whether version ``?version=`` of the incident matches the list's ``?q=`` by the store's own rule (the
        script asks for each live event while a search is applied); ``stored`` false: not stored yet."""
        store = self.api.incident_routes.store
        asked = request.query.get("version", "")
        if store is None:
            raise ApiProblem(problem("store-unavailable", "the incident store is not enabled (store.enabled)",
                                     request.path))
        if not asked.isascii() or not asked.isdigit() or len(asked) > 9:
            raise ApiProblem(problem("bad-request", "version: an incident version number", request.path))
        incident = await self._read(request, store.get_version(request.match_info["id"], int(asked)))
        text = request.query.get("q", "").strip()[:200]
        found = {"stored": incident is not None, "matches": incident is not None and matches_text(incident, text)}
        return web.json_response(found, headers={"Cache-Control": "no-store"})

    async def _act(self, request: web.Request, principal: Principal, viewer: Viewer) -> web.StreamResponse:
        incident_id = request.match_info["id"]
        form = {name: str(value) for name, value in (await request.post()).items()}
        back = f"/incidents/{quote(incident_id)}"
        try:
            body = action_request(form, self.api.wall())
        except FormError as error:
            raise see_other(back + "?" + urlencode({"done": f"Not sent: {error}"})) from None
        action = await self.api.submit(request, body, incident_id, principal, uuid.uuid4().hex)
        done = f"{action.kind} accepted (action {action.id[:8]}); the page updates when the next version is stored."
        raise web.HTTPSeeOther(back + "?" + urlencode({"done": done}), headers={"X-Aiops-Made": action.id})

    async def _silences(self, request: web.Request, principal: Principal, viewer: Viewer,
                        **shown: object) -> web.StreamResponse:
        now = self.api.wall()
        listed = [(silence, silence.state(now.timestamp())) for silence in self.api.silences.view.silences()]
        listed.sort(key=lambda item: (item[1] == "expired", item[0].ends_at))
        fields = {"matchers": request.query.get("matchers", ""), "comment": request.query.get("comment", ""),
                  "flash": request.query.get("done", "")[:300], **shown}
        return html(silences_page(listed, viewer, **fields))  # type: ignore[arg-type]

    async def _create_silence(self, request: web.Request, principal: Principal, viewer: Viewer) -> web.StreamResponse:
        form = {name: str(value) for name, value in (await request.post()).items()}
        try:
            silence = build_silence(silence_request(form), silence_id=str(uuid.uuid4()), actor=principal.name,
                                    now=self.api.wall())
        except (FormError, ValueError) as error:
            return await self._silences(request, principal, viewer, matchers=form.get("matchers", ""),
                                        comment=form.get("comment", ""), flash=f"Not created: {error}")
        await self.api.silence_routes.write(request, silence)
        raise web.HTTPSeeOther("/silences?" + urlencode({"done": f"Silence {silence.id[:8]} created."}),
                               headers={"X-Aiops-Made": silence.id})

    async def _preview_silence(self, request: web.Request, principal: Principal,
                               viewer: Viewer) -> web.StreamResponse:
        form = {name: str(value) for name, value in (await request.post()).items()}
        try:
            matchers = silence_request({**form, "comment": form.get("comment") or "preview"}).matchers
        except FormError as error:
            return await self._silences(request, principal, viewer, matchers=form.get("matchers", ""),
                                        comment=form.get("comment", ""), flash=f"Cannot preview: {error}")
        store = self.api.incident_routes.store
        incidents = []
        if store is not None:
            rows, _ = await self._rows(request, IncidentFilter(status=("open", "updated")))
            for row in rows[:200]:
                detail = await self._read(request, store.get_incident(row.id))
                if detail is not None:
                    incidents.append(detail.incident)
        return await self._silences(request, principal, viewer, matchers=form.get("matchers", ""),
                                    comment=form.get("comment", ""), hours=form.get("hours", "2"),
                                    preview=muted_now(matchers, incidents))

    async def _expire_silence(self, request: web.Request, principal: Principal, viewer: Viewer) -> web.StreamResponse:
        expired = await self.api.silence_routes.expire(request)
        raise web.HTTPSeeOther("/silences?" + urlencode({"done": f"Silence {expired.id[:8]} expired."}),
                               headers={"X-Aiops-Made": expired.id})

    async def _routing(self, request: web.Request, principal: Principal, viewer: Viewer) -> web.StreamResponse:
        delivery = self.api.config.delivery
        incident_id = request.query.get("incident", "").strip()[:200]
        store = self.api.incident_routes.store
        explained = None
        recent: list[IncidentSummary] = []
        if store is not None:
            recent = (await self._read(request, store.list_incidents(IncidentFilter(status=("open", "updated")),
                                                                     limit=50))).items
            detail = await self._read(request, store.get_incident(incident_id)) if incident_id else None
            if detail is not None:
                incident = detail.incident
                explained = explanation(incident, route_incident(delivery, incident, self.api.wall()),
                                        route_steps(delivery, incident), delivery)
        return html(routing_page(delivery, viewer, now=self.api.wall(), incident_id=incident_id, recent=recent,
                                 explained=explained))

    async def _pipeline(self, request: web.Request, principal: Principal, viewer: Viewer) -> web.StreamResponse:
        now, reading = time.monotonic(), read_registry(self.registry)
        while self._readings and now - self._readings[0][0] > READINGS_KEPT_SECONDS:
            self._readings.popleft()
        earlier = next(((at, seen) for at, seen in self._readings if now - at >= 1.0), None)
        self._readings.append((now, reading))
        before, seconds = (earlier[1], now - earlier[0]) if earlier is not None else (None, None)
        return html(pipeline_page(reading, before, seconds, viewer))

    async def _stream(self, request: web.Request, principal: Principal, viewer: Viewer) -> web.StreamResponse:
        return (await self.api.stream_route.stream(request, principal)).response

    # sign-in and assets
    async def _login_form(self, request: web.Request) -> web.StreamResponse:
        return html(login_page(next_path=_local(request.query.get("next", "/"))))

    async def _login(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        principal = self.api.gate.tokens.authenticate(str(form.get("token", "")) or None)
        target = _local(str(form.get("next", "/")))
        if principal is None:
            log.info("console: a sign-in from %s was refused", request.remote)
            return html(login_page("That token is not valid.", target), 401)
        response = web.HTTPSeeOther(target)
        response.set_cookie(COOKIE, self.signer.issue(principal, time.time()), httponly=True, samesite="Strict",
                            secure=request.secure, path="/", max_age=int(self.signer.max_age_seconds))
        log.info("console: %s (%s) signed in from %s", principal.name, principal.role, request.remote)
        raise response

    async def _logout(self, request: web.Request) -> web.StreamResponse:
        response = web.HTTPSeeOther("/login")
        response.del_cookie(COOKIE, path="/")
        raise response

    async def _static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in self._assets:
            raise web.HTTPNotFound()
        return web.Response(body=self._assets[name], content_type=ASSETS[name],
                            headers={"Cache-Control": "max-age=300"})


def read_registry(registry: CollectorRegistry | None) -> Reading:
    """Every sample of the registry (counters' ``_created`` left out) as a `Reading`."""
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in registry.collect() if registry is not None else ():
        for sample in family.samples:
            if not sample.name.endswith("_created"):
                samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return Reading(samples)


def _local(path: str) -> str:
    """Only a path on this site after sign-in (never ``//elsewhere`` or a full URL)."""
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path else "/"

