"""`HttpReceiver`: a scriptable local aiohttp HTTP server on 127.0.0.1 for sink tests.

It records every request (method, path, query, headers, body) and answers 200 unless scripted: fail the
next N requests with a status, rate-limit them with 429 + Retry-After, reject them with a 4xx, or hang
before answering. Hanging handlers are released by `stop`, so stopping never waits for a hang to end.
It does not verify payloads; tests assert on `requests`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: str
    headers: CIMultiDictProxy[str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class ScriptedResponse:
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str = ""
    hang_seconds: float = 0.0


class HttpReceiver:
    """Start with `start()` (port 0 = free port), stop with `stop()`; or use `async with`."""

    def __init__(self, host: str = "127.0.0.1", path: str = "/hook") -> None:
        self.host = host
        self.path = path
        self.requests: list[RecordedRequest] = []
        self.default = ScriptedResponse()
        self._script: deque[ScriptedResponse] = deque()
        self._released = asyncio.Event()
        self._arrived = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{self.path}"

    # ---- scripting -----------------------------------------------------------------------------------
    def script(self, *responses: ScriptedResponse) -> None:
        self._script.extend(responses)

    def fail_next(self, count: int, status: int = 500, headers: Mapping[str, str] | None = None) -> None:
        self.script(*[ScriptedResponse(status=status, headers=dict(headers or {}))] * count)

    def rate_limit_next(self, count: int = 1, retry_after: str = "1") -> None:
        self.fail_next(count, 429, {"Retry-After": retry_after})

    def reject_next(self, count: int = 1, status: int = 400, body: str = "bad payload") -> None:
        self.script(*[ScriptedResponse(status=status, body=body)] * count)

    def hang_next(self, count: int = 1, seconds: float = 3600.0) -> None:
        self.script(*[ScriptedResponse(hang_seconds=seconds)] * count)

    # ---- lifecycle -----------------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, 0)
        await site.start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        self._released.set()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> HttpReceiver:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def wait_for_requests(self, count: int, within_seconds: float = 5.0) -> list[RecordedRequest]:
        async with asyncio.timeout(within_seconds), self._arrived:
            await self._arrived.wait_for(lambda: len(self.requests) >= count)
        return self.requests

    # ---- handler -------------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = CIMultiDictProxy(CIMultiDict(request.headers))
        recorded = RecordedRequest(request.method, request.path, request.query_string, headers, body)
        self.requests.append(recorded)
        async with self._arrived:
            self._arrived.notify_all()
        reply = self._script.popleft() if self._script else self.default
        if reply.hang_seconds:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._released.wait(), reply.hang_seconds)
        return web.Response(status=reply.status, text=reply.body, headers=dict(reply.headers))
