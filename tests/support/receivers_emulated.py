"""`EmulatedReceivers`: one local aiohttp server on 127.0.0.1 emulating the receivers' APIs, with faults.

Paths: ``/webhook/...`` (generic signed webhook; verifies the HMAC when `webhook_secret` is set and
dedupes by ``Idempotency-Key``), ``/slack/...`` (incoming webhook, answers ``ok``), ``/teams/...``,
``/pagerduty/v2/enqueue`` (Events API v2: incidents by dedup_key with their status history),
``/servicenow/api/now/table/<table>`` (GET by ``sysparm_query=field=value``, POST, PATCH by sys_id) and
``/jira/rest/api/2/...`` (search by label with issue properties, create, edit with comment/properties,
transitions Done/Reopen). Faults are scripted per API: `fail_next`, `rate_limit_next`, `hang_next`;
`go_down`/`go_up` stop and restart the listener on the same port (connection refused meanwhile).
In-memory and permissive: it checks what aiops relies on, not every rule of the real APIs.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from aiops.sinks.security import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

API_NAMES = ("webhook", "slack", "teams", "pagerduty", "servicenow", "jira")


@dataclass(frozen=True)
class Fault:
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    hang_seconds: float = 0.0


@dataclass
class Received:
    api: str
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    at: float


class EmulatedReceivers:
    def __init__(self, webhook_secret: str | None = None) -> None:
        self.webhook_secret = webhook_secret
        self.port = 0
        self.requests: list[Received] = []
        self.accepted: dict[str, list[str]] = defaultdict(list)  # api -> idempotency keys answered 2xx
        self.pagerduty: dict[str, list[str]] = defaultdict(list)  # dedup_key -> event actions accepted
        self.servicenow: dict[str, dict[str, Any]] = {}  # sys_id -> record
        self.jira: dict[str, dict[str, Any]] = {}  # key -> issue
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
        self._released = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._ids = itertools.count(1)
        self._arrived = asyncio.Condition()

    # ---- lifecycle ---------------------------------------------------------------------------------
    def url(self, api: str, tail: str = "hook") -> str:
        return f"http://127.0.0.1:{self.port}/{api}/{tail}".rstrip("/")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{api}/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        self._released.set()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def go_down(self) -> None:
        await self.stop()
        self._released = asyncio.Event()

    async def go_up(self) -> None:
        await self.start()

    async def __aenter__(self) -> EmulatedReceivers:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---- faults ------------------------------------------------------------------------------------
    def fail_next(self, api: str, count: int, status: int = 500, headers: dict[str, str] | None = None) -> None:
        self._faults[api].extend([Fault(status, dict(headers or {}))] * count)

    def rate_limit_next(self, api: str, count: int = 1, retry_after: str = "1") -> None:
        self.fail_next(api, count, 429, {"Retry-After": retry_after})

    def hang_next(self, api: str, count: int = 1, seconds: float = 3600.0) -> None:
        self._faults[api].extend([Fault(200, {}, seconds)] * count)

    async def wait_for(self, predicate: Any, within_seconds: float = 10.0) -> None:
        async with asyncio.timeout(within_seconds), self._arrived:
            await self._arrived.wait_for(predicate)

    def calls(self, api: str) -> list[Received]:
        return [r for r in self.requests if r.api == api]

    # ---- dispatch ----------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        api = request.match_info["api"]
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        self.requests.append(Received(api, request.method, request.path_qs, dict(request.headers), body,
                                      asyncio.get_running_loop().time()))
        try:
            fault = self._faults[api].popleft() if self._faults[api] else None
            if fault is not None and fault.hang_seconds:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._released.wait(), fault.hang_seconds)
                return web.Response(status=503, text="hung")
            if fault is not None:
                return web.Response(status=fault.status, headers=fault.headers, text="scripted fault")
            handler = getattr(self, f"_{api}", None)
            if handler is None:
                return web.Response(status=404, text="unknown api")
            response: web.StreamResponse = await handler(request, raw, body)
            return response
        finally:
            async with self._arrived:
                self._arrived.notify_all()

    async def _webhook(self, request: web.Request, raw: bytes, body: Any) -> web.Response:
        if self.webhook_secret is not None:
            ok = verify(self.webhook_secret, request.headers.get(TIMESTAMP_HEADER, ""), raw,
                        request.headers.get(SIGNATURE_HEADER, ""))
            if not ok:
                return web.Response(status=401, text="bad signature")
        key = request.headers["Idempotency-Key"]
        if key not in self.accepted["webhook"]:
            self.accepted["webhook"].append(key)
        return web.Response(status=200, text="ok")

    async def _slack(self, request: web.Request, raw: bytes, body: Any) -> web.Response:
        if not isinstance(body, dict) or "blocks" not in body:
            return web.Response(status=400, text="invalid_payload")
        key = body["blocks"][-1]["elements"][0]["text"].rsplit(" ", 1)[-1]
        self.accepted["slack"].append(key)
        return web.Response(status=200, text="ok")

    async def _teams(self, request: web.Request, raw: bytes, body: Any) -> web.Response:
        facts = body["attachments"][0]["content"]["body"][1]["facts"]
        self.accepted["teams"].append(next(f["value"] for f in facts if f["title"] == "Incident"))
        return web.Response(status=202)

    async def _pagerduty(self, request: web.Request, raw: bytes, body: Any) -> web.Response:
        if not isinstance(body, dict) or body.get("event_action") not in {"trigger", "acknowledge", "resolve"}:
            return web.json_response({"status": "invalid event"}, status=400)
        if not body.get("routing_key") or not body.get("dedup_key"):
            return web.json_response({"status": "invalid event"}, status=400)
        self.pagerduty[body["dedup_key"]].append(body["event_action"])
        return web.json_response({"status": "success", "dedup_key": body["dedup_key"]}, status=202)

    async def _servicenow(self, request: web.Request, raw: bytes, body: Any) -> web.Response:
        parts = request.path.split("/")  # /servicenow/api/now/table/<table>[/<sys_id>]
        if request.method == "GET":
            field_name, _, value = request.query.get("sysparm_query", "").partition("=")
            found = [r for r in self.servicenow.values() if r.get(field_name) == value]
            return web.json_response({"result": found[:1]})
        if request.method == "POST":
            sys_id = f"sys{next(self._ids)}"
            self.servicenow[sys_id] = {**body, "sys_id": sys_id, "notes": [body.get("work_notes", "")]}
            return web.json_response({"result": self.servicenow[sys_id]}, status=201)
        record = self.servicenow.get(parts[-1])
        if record is None:
            return web.json_response({"error": "not found"}, status=404)
        notes = [*record["notes"], body.get("work_notes", "")]
        record.update(body)
        record["notes"] = notes
        return web.json_response({"result": record})

    async def _jira(self, request: web.Request, raw: bytes, body: Any) -> web.Response:
        path = request.path.removeprefix("/jira/rest/api/2/")
        if path == "search":
            label = request.query["jql"].split('"')[1]
            found = sorted((i for i in self.jira.values() if label in i["fields"]["labels"]),
                           key=lambda i: i["created"], reverse=True)
            return web.json_response({"issues": found[:1]})
        if path == "issue" and request.method == "POST":
            key = f"OPS-{next(self._ids)}"
            fields = {**body["fields"], "status": _status("To Do", "new"), "resolutiondate": None}
            props = {p["key"]: p["value"] for p in body.get("properties", [])}
            self.jira[key] = {"key": key, "fields": fields, "properties": props, "comments": [],
                              "created": len(self.jira)}
            return web.json_response({"key": key, "id": key}, status=201)
        key, _, rest = path.removeprefix("issue/").partition("/")
        issue = self.jira.get(key)
        if issue is None:
            return web.json_response({"errorMessages": ["not found"]}, status=404)
        if rest == "transitions" and request.method == "GET":
            return web.json_response({"transitions": [{"id": "31", "name": "Done"}, {"id": "41", "name": "Reopen"}]})
        if rest == "transitions":
            done = body["transition"]["id"] == "31"
            issue["fields"]["status"] = _status("Done", "done") if done else _status("To Do", "new")
            issue["fields"]["resolutiondate"] = datetime.now(tz=UTC).isoformat() if done else None
            return web.Response(status=204)
        issue["fields"].update(body.get("fields", {}))
        issue["comments"].extend(c["add"]["body"] for c in body.get("update", {}).get("comment", []))
        issue["properties"].update({p["key"]: p["value"] for p in body.get("properties", [])})
        return web.Response(status=204)


def _status(name: str, category: str) -> dict[str, Any]:
    return {"name": name, "statusCategory": {"key": category}}
