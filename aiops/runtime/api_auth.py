"""The operator API's gate: every route's authentication, role check, error rendering and audit.

`Gate.guard(permission, dialect, handler)` wraps a handler: the bearer token becomes a `Principal`
(`aiops.operator.auth`; 401 without one, 403 when its role lacks `permission`), the handler runs, an
`ApiProblem` it raises becomes the answer, and every mutating request (any method but GET/HEAD), whatever its
outcome, and every 401 becomes an `AuditEntry`: logged on ``aiops.audit`` (the entry as the record's
``audit`` field) and handed to the `AuditSink` (401s beyond `UnauthenticatedFlood`'s quota are counted and
summarised). Dialect ``v1`` answers RFC 9457 problem details; ``alertmanager`` answers what Alertmanager's
API does (a JSON string, 400 for any invalid body), so amtool prints the reason. Before the token: 403 for
an ``Origin`` other than the ``Host`` and, while anonymous callers are admins, for a non-loopback ``Host``
(DNS rebinding); after it, 415 for a POST/PUT/PATCH body not ``application/json``. Tokens are never
logged: only the token's name is. `build_token_table` resolves the configured tokens' secrets.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeVar

import orjson
from aiohttp import web
from pydantic import BaseModel, ValidationError

from aiops.config import AiopsConfig
from aiops.operator.audit import AuditEntry, AuditSink, UnauthenticatedFlood
from aiops.operator.auth import (
    Credential,
    Permission,
    Principal,
    TokenTable,
    anonymous_role,
    bearer_token,
    foreign_origin,
    is_loopback_authority,
)
from aiops.operator.problems import PROBLEM_CONTENT_TYPE, Problem, problem, validation_problem
from aiops.sinks.security import resolve_secret

log = logging.getLogger("aiops.audit")
Dialect = Literal["v1", "alertmanager"]
Model = TypeVar("Model", bound=BaseModel)
OUTCOMES = {400: "invalid", 401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict",
            413: "invalid", 415: "invalid", 422: "invalid", 503: "unavailable"}
BODY_METHODS = ("POST", "PUT", "PATCH")
"""Methods whose body must be ``application/json`` (a browser form cannot send it cross-site unasked)."""


class ApiProblem(Exception):  # noqa: N818 - control flow inside the API, never raised out of it
    """Stop the request with `problem` (and Retry-After seconds for a 503)."""

    def __init__(self, problem: Problem, retry_after: float | None = None) -> None:
        super().__init__(problem.detail)
        self.problem = problem
        self.retry_after = retry_after


def refuse(kind: str, detail: str, request: web.Request, retry_after: float | None = None) -> ApiProblem:
    return ApiProblem(problem(kind, detail, request.path), retry_after)


@dataclass
class Answer:
    """A handler's response and, for the audit, the id it made (an action's or a silence's)."""

    response: web.StreamResponse
    made: str = ""
    detail: str = ""


ApiHandler = Callable[[web.Request, Principal], Awaitable[Answer]]


def build_token_table(config: AiopsConfig, environ: Mapping[str, str] | None = None) -> TokenTable:
    """The configured tokens, secrets resolved (`ConfigError` naming the key that cannot be)."""
    credentials = [Credential(name, resolve_secret(token.token, f"api.tokens.{name}.token", environ).encode(),
                              token.role) for name, token in config.api.tokens.items()]
    return TokenTable(credentials, anonymous_role(bool(credentials), config.http.host))


async def read_body(request: web.Request, model: type[Model]) -> Model:
    """The request's JSON body as `model`: 413 when over the listener's size limit, 400 when it is not JSON,
    422 listing every wrong field."""
    try:
        data = orjson.loads(await request.read())
    except web.HTTPRequestEntityTooLarge:
        raise refuse("payload-too-large", f"the body is larger than {request.client_max_size} bytes",
                     request) from None
    except orjson.JSONDecodeError:
        raise refuse("bad-request", "the body is not valid JSON", request) from None
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ApiProblem(validation_problem(error.errors(include_url=False), request.path)) from None


def render(refused: ApiProblem, dialect: Dialect) -> web.Response:
    status = refused.problem.status
    headers = {"Retry-After": str(max(1, round(refused.retry_after)))} if refused.retry_after else {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="aiops"'
    if dialect == "alertmanager":
        status = 400 if status == 422 else status
        return web.Response(status=status, body=orjson.dumps(refused.problem.detail),
                            content_type="application/json", headers=headers)
    return web.Response(status=status, body=orjson.dumps(refused.problem.body()), headers=headers,
                        content_type=PROBLEM_CONTENT_TYPE)


class Gate:
    """Authentication, authorisation, error rendering and audit around every API handler."""

    def __init__(self, tokens: TokenTable, audit: AuditSink, wall: Callable[[], datetime], *,
                 ready: Callable[[], bool] = lambda: True, retry_after_seconds: float = 5.0) -> None:
        """`ready()` False (starting, stopping): every guarded request is answered 503 + Retry-After."""
        self.tokens = tokens
        self.audit = audit
        self.flood = UnauthenticatedFlood()
        self._wall = wall
        self._ready = ready
        self._retry_after = retry_after_seconds

    def guard(self, permission: Permission, dialect: Dialect,
              handler: ApiHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def guarded(request: web.Request) -> web.StreamResponse:
            principal = self.tokens.authenticate(bearer_token(request.headers.get("Authorization")))
            try:
                answer = await self._run(request, principal, permission, handler)
            except ApiProblem as refused:
                answer = Answer(render(refused, dialect), detail=refused.problem.detail)
            except web.HTTPException as raised:  # aiohttp's own answer (e.g. a client that went away)
                if request.method not in ("GET", "HEAD"):
                    await self.record(request, principal, Answer(web.Response(status=raised.status),
                                                                  detail=raised.reason))
                raise
            if request.method not in ("GET", "HEAD") or answer.response.status == 401:
                await self.record(request, principal, answer)
            return answer.response

        return guarded

    async def _run(self, request: web.Request, principal: Principal | None, permission: Permission,
                   handler: ApiHandler) -> Answer:
        self.check_provenance(request)
        if principal is None:
            raise refuse("unauthorized", "a valid bearer token is required (Authorization: Bearer <token>)", request)
        if not principal.may(permission):
            raise refuse("forbidden", f"token {principal.name!r} has role {principal.role}, which may not "
                         f"{'act' if permission == 'act' else permission} here", request)
        if not self._ready():
            raise refuse("unavailable", "starting or stopping", request, self._retry_after)
        if request.method in BODY_METHODS and request.content_type != "application/json":
            raise refuse("unsupported-media-type", f"send the body as application/json, not "
                         f"{request.headers.get('Content-Type') or 'without a Content-Type'}", request)
        try:
            return await handler(request, principal)
        except (ApiProblem, web.HTTPException):
            raise
        except Exception:
            log.exception("%s %s failed", request.method, request.path)
            raise refuse("internal", "the request failed; see the service's log", request) from None

    def check_provenance(self, request: web.Request) -> None:
        """403 for a browser page of another origin, and, while anonymous callers are admins (no tokens on a
        loopback listener), for a ``Host`` that is not a loopback name (DNS rebinding)."""
        origin = request.headers.get("Origin")
        if origin is not None and foreign_origin(origin, request.host):
            raise refuse("forbidden", f"cross-origin request refused: Origin {origin[:100]!r} is not this "
                         f"listener ({request.host[:100]!r})", request)
        if self.tokens.anonymous == "admin" and not is_loopback_authority(request.host):
            raise refuse("forbidden", f"Host {request.host[:100]!r} is not a loopback name: without tokens the "
                         "API answers only requests addressed to 127.0.0.1, [::1] or localhost", request)

    async def record(self, request: web.Request, principal: Principal | None, answer: Answer) -> None:
        """One audit entry for a mutating request (the console records its form posts here too)."""
        status = answer.response.status
        entry = AuditEntry(
            at=self._wall(), actor=principal.name if principal else "", role=principal.role if principal else "",
            remote=request.remote or "", method=request.method, path=request.path, status=status,
            outcome="accepted" if status < 400 else OUTCOMES.get(status, "failed"),
            target=request.match_info.get("id", ""), action_id=answer.made, detail=answer.detail)
        admitted, summaries = self.flood.admit(entry)
        for item in [*summaries, entry] if admitted else summaries:
            await self._write(item)

    async def close_flood(self, *, force: bool = False) -> None:
        """Write the 401 summaries of a window that ended (`force`: the service stops)."""
        for summary in self.flood.close(self._wall(), force=force):
            await self._write(summary)

    async def _write(self, entry: AuditEntry) -> None:
        log.info("audit: %s %s by %s from %s: %d %s", entry.method, entry.path, entry.actor or "-", entry.remote,
                 entry.status, entry.outcome, extra={"audit": entry.model_dump(mode="json")})
        try:
            await self.audit.record(entry)
        except Exception:
            log.exception("the audit sink failed to record %s %s", entry.method, entry.path)
