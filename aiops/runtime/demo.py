"""`aiops demo` runners: feed the built-in scenario, print incidents, receive them at a local webhook.

`ScenarioFeeder` produces the scenario's two hours of normal history at once, then its incident part at
an accelerated pace (event time is compressed: 26 minutes of scenario in about 16 s). `IncidentPrinter`
follows the incidents topic and `DemoWebhookReceiver` is a loopback HTTP server the demo configures as a
signed webhook receiver (`delivery.receivers`, HMAC-SHA256) that checks every delivery's signature. Both
report to one `DemoConsole`, the only writer: one line per incident version in topic order (saying what
changed, `incident_text`), one webhook line per incident once its resolve was delivered (which versions
arrived, whether every signature was valid), and "all N incidents resolved". Demo plumbing only; the
pipeline is the real one.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from typing import TextIO

import orjson
from aiohttp import web
from aiokafka import AIOKafkaProducer

from aiops.config import AiopsConfig
from aiops.runtime.demo_console import DemoConsole
from aiops.runtime.incident_text import span
from aiops.runtime.kafka_io import event_key, follow_incidents
from aiops.scenario import DURATION_SECONDS, STEP_SECONDS, WARMUP_SECONDS, scenario_events
from aiops.sinks.security import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify


class ScenarioFeeder:
    def __init__(self, bootstrap: str, config: AiopsConfig, step_wall_seconds: float = 0.1,
                 seed: int = 7, out: TextIO = sys.stdout) -> None:
        self.bootstrap = bootstrap
        self.config = config
        self.step_wall_seconds = step_wall_seconds
        self.seed = seed
        self.out = out
        self._producer: AIOKafkaProducer | None = None

    @property
    def speedup(self) -> float:
        """How much faster than the wall clock the scenario's event time runs once live."""
        return STEP_SECONDS / self.step_wall_seconds

    async def start(self) -> None:
        self._producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, linger_ms=5)
        await self._producer.start()

    async def run(self) -> None:
        assert self._producer is not None
        await asyncio.sleep(3.0)  # let the worker join its consumer groups first
        start = time.time() - DURATION_SECONDS
        current = start
        live_from = start + WARMUP_SECONDS - 60.0
        print(f"demo: sending {WARMUP_SECONDS / 3600:.0f} h of normal history at once (detectors learn "
              f"baselines), then {(DURATION_SECONDS - WARMUP_SECONDS) / 60:.0f} min of scenario at "
              f"{self.step_wall_seconds / STEP_SECONDS * 60:.1f}s wall per scenario minute", file=self.out, flush=True)
        for event in scenario_events(start, random.Random(self.seed)):
            if event["ts"] >= current + STEP_SECONDS:
                current = event["ts"]
                await asyncio.sleep(self.step_wall_seconds if current >= live_from else 0)
            line = orjson.dumps(event)
            await self._producer.send(self.config.topics.events, value=line, key=event_key(line))
        await self._producer.flush()
        print("demo: scenario fully fed (Ctrl-C to stop)", file=self.out, flush=True)

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()


class IncidentPrinter:
    """Follows the incidents topic from the beginning and hands every version to the console."""

    def __init__(self, bootstrap: str, config: AiopsConfig, console: DemoConsole) -> None:
        self.bootstrap = bootstrap
        self.topic = config.topics.incidents
        self.console = console

    async def start(self) -> None:
        return None

    async def run(self) -> None:
        async for incident in follow_incidents(self.bootstrap, self.topic, from_beginning=True):
            self.console.version(incident)

    async def stop(self) -> None:
        return None


class DemoWebhookReceiver:
    """A loopback webhook that checks each delivery's HMAC signature and reports it to the console."""

    def __init__(self, port: int, secret: str, console: DemoConsole) -> None:
        self.port = port
        self.secret = secret
        self.console = console
        self._runner: web.AppRunner | None = None

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        signed = verify(self.secret, request.headers.get(TIMESTAMP_HEADER, ""), body,
                        request.headers.get(SIGNATURE_HEADER, ""))
        incident = orjson.loads(body)["incident"]
        self.console.delivery(incident["id"], int(incident["version"]), incident["status"], signed)
        return web.json_response({"ok": signed}, status=200 if signed else 401)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/incidents", self._receive)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def run(self) -> None:
        return None

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def notification_note(config: AiopsConfig, speedup: float) -> str:
    """The demo's line on how often the webhook is notified (the defaults, on accelerated event time)."""
    interval = config.delivery.repeat_interval_seconds
    if interval <= 0:
        return "demo: the webhook gets every incident version (delivery.repeat_interval_seconds = 0)"
    return (f"demo: the webhook gets open, a raised priority and resolved at once, other updates at most every "
            f"{span(interval)} of event time per incident (delivery.repeat_interval_seconds = {interval:g}); "
            f"event time runs {speedup:g}x faster here, so that is every {span(interval / speedup)} of wall time")
