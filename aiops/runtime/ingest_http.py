"""HTTP ingest front: Alertmanager, PagerDuty, OTLP and webhook payloads in, events on the events topic out.

`IngestFront` is a service runner (its `start` opens the Kafka producer) that installs its routes on the
service's HTTP listener (`HttpEndpoint`): every integration under ``/ingest/<name>/...`` and the only
integration of a kind also on that kind's usual paths (``/api/v2/alerts``, ``/v2/enqueue``, ``/v1/logs``...),
plus Alertmanager's ``/api/v2/status``, ``/-/healthy`` and ``/-/ready``. A request is authenticated (bearer
token, constant-time; PagerDuty's ``routing_key`` too), bounded (413), decoded and translated (400 with the
reason, its body dead-lettered with the integration), rate-limited (429 + Retry-After) and written; it is
answered 2xx only once the broker acknowledged every event, else 503 + Retry-After. Tokens are never logged.
Protocol logic lives in `aiops.ingest`; this module is HTTP and Kafka wiring only.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import orjson
from aiohttp import web

from aiops.config import AiopsConfig
from aiops.deadletter import dead_letter
from aiops.errors import BrokerUnavailableError, ConfigError, PayloadRejectedError
from aiops.events import AlertEvent, InboundEvent
from aiops.ingest.base import Received, Translation, Translator
from aiops.ingest.config import IntegrationConfig
from aiops.ingest.payload import decode_body
from aiops.ingest.ratelimit import TokenBucket, retry_after_header
from aiops.ingest.registry import ROUTES, translator_for
from aiops.ingest.replies import reply_for
from aiops.metrics import AiopsMetrics
from aiops.operator.auth import bearer_token, is_loopback_host
from aiops.runtime.ingest_publish import EventWriter
from aiops.runtime.ingest_status import alertmanager_status
from aiops.sinks.security import resolve_secret

log = logging.getLogger("aiops.ingest")
MAX_PENDING_DEAD_LETTERS = 100


@dataclass
class Integration:
    name: str
    config: IntegrationConfig
    translator: Translator
    token: bytes | None
    bucket: TokenBucket | None = None
    paths: tuple[str, ...] = field(default_factory=tuple)


def build_integrations(config: AiopsConfig, environ: Mapping[str, str] | None = None) -> dict[str, Integration]:
    """Every configured integration with its translator and resolved token; `ConfigError` naming the key of
    an unresolvable token, or of a tokenless integration on a listener that is not loopback."""
    http = config.ingest.http
    built: dict[str, Integration] = {}
    for name, integration in http.integrations.items():
        where = f"ingest.http.integrations.{name}.token"
        token = resolve_secret(integration.token, where, environ).encode() if integration.token else None
        if token is None and not http.allow_unauthenticated and not is_loopback_host(config.http.host):
            raise ConfigError(f"{where}: integration {name!r} has no token while http.host {config.http.host} is "
                              "not loopback (set a token, or ingest.http.allow_unauthenticated: true)")
        bucket = (TokenBucket(integration.rate_limit_per_second, integration.rate_limit_burst)
                  if integration.rate_limit_per_second else None)
        built[name] = Integration(name, integration, translator_for(name, integration), token, bucket,
                                  ROUTES[integration.kind])
    return built


def event_record(event: InboundEvent) -> tuple[bytes, bytes]:
    """(key, value) of an event on the events topic. Key ``service|host`` (the series' entity, as `aiops
    produce` sets it), except an alert with a fingerprint: ``service|alert:<fingerprint>``, so every state of
    one alert is in one partition, in order, even when a resolve names no host (a bare PagerDuty resolve).
    The value is the event's fields as JSON (orjson over the validated model's fields: about three times
    faster than pydantic's `model_dump_json`, and `decode_event` gives the same event back)."""
    if isinstance(event, AlertEvent) and event.fingerprint:
        key = f"{event.service}|alert:{event.fingerprint}"
    else:
        key = f"{event.service}|{event.host}"
    return key.encode(), orjson.dumps(event.__dict__)


class IngestFront:
    """Runner and route table of HTTP ingest (see the module docstring)."""

    def __init__(self, config: AiopsConfig, bootstrap: str, metrics: AiopsMetrics, *,
                 wall: Callable[[], float] = time.time, monotonic: Callable[[], float] = time.monotonic,
                 environ: Mapping[str, str] | None = None) -> None:
        self.settings = config.ingest.http
        self.integrations = build_integrations(config, environ)
        self.metrics = metrics
        self.max_event_bytes = config.ingest.max_message_bytes
        """An event larger than this as JSON is refused (413): detection would dead-letter it as oversized."""
        self.writer = EventWriter(bootstrap, config.topics.events, config.topics.deadletter,
                                  client_id=f"{config.kafka.client_id}-ingest",
                                  request_timeout_ms=config.kafka.request_timeout_ms,
                                  ack_seconds=self.settings.publish_timeout_seconds)
        self._wall = wall
        self._monotonic = monotonic
        self._started_at = wall()
        self._ready = False
        self._stopping = asyncio.Event()
        self._letters: set[asyncio.Task[bool]] = set()
        self.aliases = self._alias_paths()

    def _alias_paths(self) -> dict[str, str]:
        """Usual path -> integration, for kinds configured exactly once (paths relative to the root)."""
        by_kind: dict[str, list[Integration]] = {}
        for integration in self.integrations.values():
            by_kind.setdefault(integration.config.kind, []).append(integration)
        return {path: only[0].name for only in by_kind.values() if len(only) == 1
                for path in only[0].paths if path}

    async def start(self) -> None:
        await self.writer.start()
        self._ready = True

    async def run(self) -> None:
        await self._stopping.wait()

    async def stop(self) -> None:
        self._ready = False
        self._stopping.set()
        if self._letters:
            await asyncio.gather(*self._letters, return_exceptions=True)
        await self.writer.stop()

    def install(self, app: web.Application) -> None:
        """Add the ingest routes to `app` (the service's HTTP listener)."""
        for path in ("/api/v2/status", "/ingest/{name}/api/v2/status"):
            app.router.add_get(path, self._status)
        for path in ("/-/healthy", "/-/ready", "/ingest/{name}/-/healthy", "/ingest/{name}/-/ready"):
            app.router.add_get(path, self._health)
        for path in self.aliases:
            app.router.add_post(path, self._post_alias)
        app.router.add_post("/ingest/{name}", self._post_named)
        app.router.add_post("/ingest/{name}/{tail:.*}", self._post_named)

    async def _status(self, request: web.Request) -> web.Response:
        body = alertmanager_status(self._started_at)
        return web.json_response(body)

    async def _health(self, request: web.Request) -> web.Response:
        ready = self._ready or request.path.endswith("healthy")
        return web.Response(status=200 if ready else 503, text="OK" if ready else "starting")

    async def _post_alias(self, request: web.Request) -> web.Response:
        return await self._handle(request, self.integrations[self.aliases[request.path]], request.path)

    async def _post_named(self, request: web.Request) -> web.Response:
        integration = self.integrations.get(request.match_info["name"])
        tail = request.match_info.get("tail", "")
        path = f"/{tail}" if tail else ""
        if integration is None or path not in integration.paths:
            self.metrics.ingest_requests_total.labels(integration="unknown", outcome="unknown").inc()
            what = "integration" if integration is None else f"path for a {integration.config.kind} integration"
            known = ", ".join(sorted(self.integrations)) or "none"
            return web.json_response({"status": "unknown", "message": f"no such {what} (integrations: {known})"},
                                     status=404)
        return await self._handle(request, integration, path)

    async def _handle(self, request: web.Request, integration: Integration, path: str) -> web.Response:
        started = self._monotonic()
        try:
            return await self._accept(request, integration, path)
        finally:
            self.metrics.ingest_request_seconds.labels(integration=integration.name).observe(
                self._monotonic() - started)

    def _respond(self, integration: Integration, outcome: str, message: str = "", *, events: int = 0,
                 extra: dict[str, Any] | None = None, retry_after: float | None = None) -> web.Response:
        self.metrics.ingest_requests_total.labels(integration=integration.name, outcome=outcome).inc()
        status, body = reply_for(integration.config.kind, outcome, message, extra, events)
        headers = {"Retry-After": retry_after_header(retry_after)} if retry_after is not None else {}
        if outcome == "unauthorized":
            headers["WWW-Authenticate"] = 'Bearer realm="aiops"'
        if body is None:
            return web.Response(status=status, headers=headers)
        return web.Response(status=status, body=orjson.dumps(body), content_type="application/json",
                            headers=headers)

    async def _accept(self, request: web.Request, integration: Integration, path: str) -> web.Response:
        try:
            translation, body = await self._admit(request, integration, path)
            await self._write(integration, translation.events)
        except Refused as refused:
            if refused.outcome == "unauthorized":
                log.warning("ingest %s: unauthenticated request from %s refused", integration.name, request.remote)
            return self._respond(integration, refused.outcome, refused.message, retry_after=refused.retry_after)
        self.metrics.ingest_events_total.labels(integration=integration.name).inc(len(translation.events))
        if translation.problems:  # some items refused, the others written (Alertmanager's partial answer)
            detail = "\n".join(translation.problems)
            self._dead_letter(integration, PayloadRejectedError("schema", detail), body)
            return self._respond(integration, "invalid", detail, events=len(translation.events))
        return self._respond(integration, "accepted", events=len(translation.events), extra=translation.reply)

    async def _admit(self, request: web.Request, integration: Integration, path: str) -> tuple[Translation, bytes]:
        """The request's translation and body once it passed every check; `Refused` at the first that fails.
        Authentication comes before the body is parsed or dead-lettered, except PagerDuty's `routing_key`,
        read from a parsed body that is never dead-lettered unless it authenticates."""
        settings = self.settings
        if not self._ready or not self.writer.healthy:
            raise Refused("unavailable", "starting or stopping", settings.retry_after_seconds)
        _refuse_browsers(request)
        if "protobuf" in request.content_type:
            raise Refused("unsupported", "only JSON bodies are accepted (OTLP: set the exporter's encoding: json)")
        bearer = bearer_token(request.headers.get("Authorization"))
        if integration.token is not None and not _bearer_admits(integration, bearer):
            raise Refused("unauthorized", "missing or wrong token")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise Refused("oversized", f"body larger than {settings.max_body_bytes} bytes") from None
        authenticated = integration.token is None or bearer is not None
        try:
            value = decode_body(body, "identity", settings.max_body_bytes, settings.max_json_depth)
            if not authenticated:
                if not _routing_key_admits(integration, value):
                    raise Refused("unauthorized", "missing or wrong token")
                authenticated = True
            translation = integration.translator.translate(value, Received(integration.name, self._wall(), path))
        except PayloadRejectedError as rejected:
            if not authenticated:  # a PagerDuty body that cannot show its routing_key: nothing is kept
                raise Refused("unauthorized", "missing token (no Authorization header and no routing_key)") from None
            self._dead_letter(integration, rejected, body)
            outcome = "oversized" if rejected.reason == "oversized" else "invalid"
            raise Refused(outcome, f"{rejected.reason}: {rejected.detail}") from None
        count = len(translation.events)
        if count > settings.max_events_per_request:
            raise Refused("oversized", f"{count} events in one request (most: {settings.max_events_per_request})")
        wait = integration.bucket.take(count, self._monotonic()) if integration.bucket is not None else 0.0
        if wait:
            raise Refused("rate_limited", "rate limit exceeded", wait)
        return translation, body

    async def _write(self, integration: Integration, events: list[InboundEvent]) -> None:
        records = [event_record(event) for event in events]
        limit = self.max_event_bytes
        too_large = next((index for index, (_, value) in enumerate(records) if len(value) > limit), None)
        if too_large is not None:  # detection would dead-letter it (`ingest.max_message_bytes`): refuse it now
            raise Refused("oversized", f"event {too_large} is {len(records[too_large][1])} bytes as JSON "
                                       f"(ingest.max_message_bytes: {limit})")
        try:
            await self.writer.write(records)
        except BrokerUnavailableError as error:
            log.warning("ingest %s: %s; answered 503", integration.name, error)
            raise Refused("unavailable", str(error), self.settings.retry_after_seconds) from None

    def _dead_letter(self, integration: Integration, rejected: PayloadRejectedError, body: bytes) -> None:
        """The refused body to the dead-letter topic, in the background (at most `MAX_PENDING_DEAD_LETTERS`
        in flight; beyond that it is only counted as refused)."""
        if len(self._letters) >= MAX_PENDING_DEAD_LETTERS:
            return
        if integration.token is not None:  # a routing_key (or any copy of the token) never reaches the topic
            body = body.replace(integration.token, b"<redacted>")
        letter = dead_letter(f"ingest:{integration.name}", rejected.reason, rejected.detail, body,
                             datetime.fromtimestamp(self._wall(), UTC))
        task = asyncio.create_task(self.writer.dead_letter(letter, integration.name.encode()))
        self._letters.add(task)
        task.add_done_callback(self._letters.discard)


class Refused(Exception):  # noqa: N818 - control flow inside the front, never raised out of it
    """A request stops here with `outcome` (see `aiops.ingest.replies`)."""

    def __init__(self, outcome: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.message = message
        self.retry_after = retry_after


def _refuse_browsers(request: web.Request) -> None:
    """A request a web page made (it carries an ``Origin`` other than the listener's own host) is refused:
    monitoring tools send none, and a page must not inject alerts through a browser on the operator's machine."""
    origin = request.headers.get("Origin")
    if origin is not None and urlsplit(origin).netloc != request.host:
        raise Refused("forbidden", "cross-origin requests from web pages are refused")


def _bearer_admits(integration: Integration, bearer: str | None) -> bool:
    """Whether the ``Authorization`` header admits the request before its body is read: a matching token
    (constant time); no header only for PagerDuty, whose body's `routing_key` is checked after parsing."""
    assert integration.token is not None
    if bearer is None:
        return integration.config.kind == "pagerduty"
    return hmac.compare_digest(bearer.encode(), integration.token)


def _routing_key_admits(integration: Integration, body: Any) -> bool:
    """A PagerDuty body's ``routing_key`` matches the integration's token (constant time)."""
    assert integration.token is not None
    routing_key = body.get("routing_key") if isinstance(body, dict) else None
    return isinstance(routing_key, str) and hmac.compare_digest(routing_key.encode(), integration.token)
