"""`HttpEndpoint`: the operational HTTP server exposing ``GET /metrics`` and ``GET /healthz``.

``/metrics`` renders the injected Prometheus registry in the text exposition format; ``/healthz`` calls the
injected ``health()`` and answers 200 with its JSON when ``health()["ok"]`` is truthy, else 503 (also 503
when ``health()`` itself raises). The service passes an `aiops.runtime.health.StageHealth` (callable), whose
body names the failing stages; any ``() -> Mapping`` works. Port 0 binds a free port, readable from
``.port`` after `start`. Other routes plug in through `installers` (HTTP ingest installs its own; see
`aiops.runtime.ingest_http`); this module serves nothing else and does not compute health itself.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

log = logging.getLogger(__name__)

HealthCheck = Callable[[], Mapping[str, Any]]
"""What ``/healthz`` calls: a JSON-able mapping whose ``ok`` decides 200 or 503 (e.g. a `StageHealth`)."""


class HttpEndpoint:
    """Start/stop an aiohttp server for metrics and health on `host:port`."""

    def __init__(
        self, host: str, port: int, registry: CollectorRegistry, health: HealthCheck, *,
        installers: Sequence[Callable[[web.Application], None]] = (), client_max_size: int = 1024**2,
    ) -> None:
        """`installers` add routes to the application; `client_max_size` bounds a request body (413 above)."""
        self._host = host
        self._installers = installers
        self._client_max_size = client_max_size
        self._requested_port = port
        self._registry = registry
        self._health = health
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        """The bound port; only valid after `start`."""
        if self._port is None:
            raise RuntimeError("HttpEndpoint is not started")
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def _app(self) -> web.Application:
        app = web.Application(client_max_size=self._client_max_size)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        for install in self._installers:
            install(app)
        return app

    async def start(self) -> None:
        if self._runner is not None:
            return
        runner = web.AppRunner(self._app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._requested_port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = _bound_port(runner, self._requested_port)
        log.info("http endpoint listening on %s", self.url)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        self._port = None

    async def __aenter__(self) -> HttpEndpoint:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _metrics(self, request: web.Request) -> web.Response:
        body = generate_latest(self._registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _healthz(self, request: web.Request) -> web.Response:
        try:
            report = dict(self._health())
        except Exception as error:  # noqa: BLE001 - per-request guard: a failing check means unhealthy
            log.warning("health check raised: %r", error)
            report = {"ok": False, "error": f"health check raised {type(error).__name__}"}
        status = 200 if report.get("ok") else 503
        return web.Response(
            status=status, text=json.dumps(report, default=str), content_type="application/json"
        )


def _bound_port(runner: web.AppRunner, requested: int) -> int:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return requested
