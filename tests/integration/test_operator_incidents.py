"""Reading incidents through the operator API on a real broker (tansu) and a real SQLite store.

In-process (projector + API sharing one store and one feed, incident records produced straight onto the
incidents topic): listed, filtered and paginated; the detail's timeline; a version produced while an SSE
client is connected arrives as an ``incident`` event; real ``amtool alert query`` lists the firing members
and filters them; `aiops incidents list/show` print them and `aiops incidents ack` publishes the action.
Then `aiops run` as a subprocess: an alert becomes an incident in its store, an acknowledge through the API
gives the next version, visible to the API, on its stream and to the CLI.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
import yaml
from prometheus_client import CollectorRegistry
from support.operator_api import TOKENS, read_records
from support.store_samples import incident
from support.worker import WorkerProcess, event, isolated_config, produce

from aiops.actions import Action
from aiops.cli import main
from aiops.config import AiopsConfig
from aiops.runtime.api_http import OperatorApi
from aiops.runtime.api_stream import IncidentFeed
from aiops.runtime.broker import free_loopback_port
from aiops.runtime.http_server import HttpEndpoint
from aiops.runtime.store_projector import StoreProjector, build_store
from aiops.runtime.topics import TopicSpec, ensure_topics

pytestmark = [pytest.mark.integration, pytest.mark.slow]

AMTOOL = shutil.which("amtool")
LITERAL_TOKENS = {name: {"token": secret, "role": role} for name, (secret, role) in TOKENS.items()}


def auth(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[name][0]}"}


async def get(url: str, token: str = "victor") -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.get(url, headers=auth(token)) as response:
        return response.status, orjson.loads(await response.read())


async def until(condition: Any, within: float = 30.0, what: str = "condition") -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        found = await condition()
        if found:
            return found
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


class EventStream:
    """An SSE client: `next_event()` gives (event, id, data) of the next event (comments skipped)."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response

    async def next_event(self, within: float = 30.0) -> tuple[str, str, str]:
        fields: dict[str, str] = {}
        while True:
            line = (await asyncio.wait_for(self.response.content.readline(), within)).decode().rstrip("\n")
            if not line and "data" in fields:  # a block without data (the `retry:` one) is no event
                return fields.get("event", ""), fields.get("id", ""), fields["data"]
            if not line:
                fields = {}
            if line and not line.startswith(":") and ":" in line:
                name, value = line.split(":", 1)
                fields[name] = value.strip()


@asynccontextmanager
async def event_stream(url: str) -> AsyncIterator[EventStream]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None)) as session, \
            session.get(url + "/api/v1/stream", headers=auth("victor")) as response:
        assert (response.status, response.content_type) == (200, "text/event-stream")
        yield EventStream(response)


@dataclass
class Served:
    url: str
    config: AiopsConfig
    projector: StoreProjector


@asynccontextmanager
async def served(bootstrap: str, prefix: str, workdir: Path) -> AsyncIterator[Served]:
    """Projector + API on one store and one feed, on an HTTP endpoint, like `aiops run` wires them."""
    data = isolated_config(prefix, bootstrap, {"api": {"tokens": LITERAL_TOKENS, "stream_heartbeat_seconds": 1},
                                               "store": {"batch_timeout_ms": 50, "retention_days": 3650}})
    config = AiopsConfig.model_validate(data)
    t = config.topics
    await ensure_topics(bootstrap, [TopicSpec(t.incidents, 1), TopicSpec(t.decisions, 1), TopicSpec(t.deadletter, 1),
                                    TopicSpec(config.delivery.notifications_topic, 1),
                                    TopicSpec(t.actions, 2), TopicSpec(t.signals, 2)])
    feed = IncidentFeed(config.api.stream_queue_events)
    store = build_store(config, f"sqlite+aiosqlite:///{workdir / 'store.db'}")
    projector = StoreProjector(config, bootstrap, store, None, on_projected=feed.nudge)
    api = OperatorApi(config, bootstrap, store=store, scope_of=store.incident_scope, audit=store, feed=feed)
    endpoint = HttpEndpoint("127.0.0.1", 0, CollectorRegistry(), lambda: {"ok": True}, installers=[api.install])
    await projector.start()
    task = asyncio.create_task(projector.run())
    await api.start()
    await endpoint.start()
    try:
        yield Served(endpoint.url, config, projector)
    finally:
        await endpoint.stop()
        await api.stop()
        await projector.stop()
        await asyncio.gather(task, return_exceptions=True)


async def amtool(url: str, workdir: Path, *args: str) -> tuple[int, str]:
    http = workdir / "amtool-http.yml"
    http.write_text(yaml.safe_dump({"authorization": {"type": "Bearer", "credentials": TOKENS["victor"][0]}}))
    process = await asyncio.create_subprocess_exec(
        AMTOOL or "amtool", f"--alertmanager.url={url}", f"--http.config.file={http}", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(process.communicate(), 30)
    return process.returncode or 0, output.decode()


async def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = await asyncio.to_thread(main, list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.skipif(AMTOOL is None, reason="amtool not installed (Debian package prometheus-alertmanager)")
async def test_incidents_listed_streamed_and_read_by_amtool_and_the_cli(
        kafka_bootstrap: str, unique_topic_prefix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    async with served(kafka_bootstrap, unique_topic_prefix, tmp_path) as running:
        topic = running.config.topics.incidents
        versions = [incident(1, 1), incident(2, 1, priority="P1"), incident(3, 1, services=("db",), member="DiskFull"),
                    incident(4, 1, status="resolved")]
        for item in versions:
            await produce(kafka_bootstrap, topic, [item.model_dump_json().encode()], key=item.id.encode())

        async def listed() -> Any:
            status, page = await get(running.url + "/api/v1/incidents")
            return page if status == 200 and len(page["items"]) == 4 else None
        page = await until(listed, what="the four incidents in the store")
        assert [item["id"] for item in page["items"]] == ["inc-4", "inc-3", "inc-2", "inc-1"]
        first = await get(running.url + "/api/v1/incidents?status=open&limit=2")
        assert [i["id"] for i in first[1]["items"]] == ["inc-3", "inc-2"]
        rest = await get(running.url + f"/api/v1/incidents?status=open&limit=2&cursor={first[1]['next_cursor']}")
        assert ([i["id"] for i in rest[1]["items"]], rest[1]["next_cursor"]) == (["inc-1"], None)
        urgent = await get(running.url + "/api/v1/incidents?priority=P1&service=checkout")
        assert [i["id"] for i in urgent[1]["items"]] == ["inc-2"]

        async with event_stream(running.url) as stream:
            update = incident(1, 2, status="updated", owner="carol")
            await produce(kafka_bootstrap, topic, [update.model_dump_json().encode()], key=b"inc-1")
            kind, event_id, data = await stream.next_event()
            assert (kind, event_id, orjson.loads(data)["owner"]) == ("incident", "inc-1:2", "carol")
        _, detail = await get(running.url + "/api/v1/incidents/inc-1")
        assert [entry["version"] for entry in detail["timeline"]] == [1, 2]

        code, output = await amtool(running.url, tmp_path, "alert", "query")
        assert code == 0, output
        assert "HighLatency" in output
        assert "DiskFull" in output
        code, output = await amtool(running.url, tmp_path, "alert", "query", "alertname=DiskFull", "-o", "json")
        assert code == 0, output
        assert [(a["labels"]["alertname"], a["labels"]["incident"]) for a in orjson.loads(output)] == [
            ("DiskFull", "inc-3")]

        monkeypatch.setenv("OPS_API_TOKEN", TOKENS["alice"][0])
        code, out, err = await cli(capsys, "incidents", "list", "--url", running.url, "--status", "open",
                                 "--status", "updated")
        assert (code, err) == (0, "")
        assert out.splitlines()[0].split()[:3] == ["ID", "STATUS", "PRI"]
        assert [line.split()[0] for line in out.splitlines()[1:]] == ["inc-3", "inc-2", "inc-1"]
        code, out, _ = await cli(capsys, "incidents", "show", "inc-1", "--url", running.url)
        assert code == 0
        assert out.startswith("inc-1 v2 updated P2")
        assert "owner: carol" in out
        assert "  timeline:" in out
        code, out, _ = await cli(capsys, "incidents", "ack", "inc-2", "--url", running.url, "--comment", "mine")
        assert code == 0
        assert out.startswith("acknowledge of inc-2 accepted: action ")
        [(_, key, value)] = await read_records(kafka_bootstrap, running.config.topics.actions, 1)
        action = Action.model_validate_json(value or b"")
        assert (key, action.kind, action.actor, action.comment) == (b"default", "acknowledge", "alice", "mine")
        code, _, err = await cli(capsys, "incidents", "show", "nope", "--url", running.url)
        assert (code, err) == (2, "aiops: 404: no incident 'nope'\n")
        monkeypatch.setenv("OPS_API_TOKEN", TOKENS["victor"][0])
        code, _, err = await cli(capsys, "incidents", "resolve", "inc-2", "--url", running.url)
        assert code == 2
        assert err.startswith("aiops: 403: token 'victor' has role viewer")
        assert len(err.splitlines()) == 1


def alert(ts: float, service: str, name: str = "HighErrorRate") -> bytes:
    return event(kind="alert", ts=ts, source="prometheus", service=service, host=f"{service}-1", name=name,
                 severity="critical", status="firing", fingerprint=f"{name}-{service}")


async def test_aiops_run_serves_the_store_and_an_ack_shows_in_the_next_version(
        kafka_bootstrap: str, unique_topic_prefix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_loopback_port()
    config = isolated_config(unique_topic_prefix, kafka_bootstrap, {
        "http": {"port": port}, "api": {"tokens": LITERAL_TOKENS},
        "store": {"url": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}", "batch_timeout_ms": 50}})
    topics = config["topics"]
    await ensure_topics(kafka_bootstrap, [TopicSpec(topics["events"], topics["events_partitions"]),
                                          TopicSpec(topics["deadletter"], 1)])
    url = f"http://127.0.0.1:{port}"
    worker = WorkerProcess(config, tmp_path)
    worker.start()
    try:
        async def one_incident() -> Any:
            try:
                status, page = await get(url + "/api/v1/incidents")
            except aiohttp.ClientError:
                return None
            return page["items"][0] if status == 200 and page["items"] else None

        await produce(kafka_bootstrap, topics["events"], [alert(1_760_000_000.0, "api")], key=b"api")
        opened = await until(one_incident, 90, "the incident in aiops run's store")
        assert (opened["version"], opened["services"]) == (1, ["api"]), worker.output()
        async with event_stream(url) as stream:
            async with aiohttp.ClientSession() as session, session.post(
                    f"{url}/api/v1/incidents/{opened['id']}/actions", headers=auth("alice"),
                    json={"kind": "acknowledge", "comment": "on it"}) as response:
                assert response.status == 202, await response.text()
            kind, event_id, _ = await stream.next_event(60)
            assert (kind, event_id) == ("incident", f"{opened['id']}:2"), worker.output()
        _, detail = await get(f"{url}/api/v1/incidents/{opened['id']}")
        assert detail["incident"]["acknowledged_by"] == "alice"
        assert [(e["version"], e["change"]["action"]) for e in detail["timeline"]] == [(1, None), (2, "acknowledge")]
        assert any(d["kind"] == "action" for d in detail["decisions"])

        monkeypatch.setenv("OPS_API_TOKEN", TOKENS["alice"][0])
        code, out, err = await cli(capsys, "incidents", "list", "--url", url)
        assert (code, err) == (0, "")
        assert opened["id"] in out
        assert "updated" in out
        code, out, _ = await cli(capsys, "incidents", "show", opened["id"], "--url", url, "--json")
        assert orjson.loads(out)["incident"]["acknowledged_by"] == "alice"
        code, out, _ = await cli(capsys, "incidents", "resolve", opened["id"], "--url", url)
        assert code == 0, out

        async def resolved() -> Any:
            return (await get(f"{url}/api/v1/incidents/{opened['id']}"))[1]["incident"]["status"] == "resolved"
        await until(resolved, 60, "the resolve in the store")
    finally:
        worker.stop()
