"""Silences over the operator API on a real broker: v1 and Alertmanager v2 create/read/expire round trips
through the silences topic (the set `aiops silence` and the correlation worker read), silences written by
the CLI showing up live, and real `amtool silence add/query/expire` against aiops."""

from __future__ import annotations

import asyncio
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from support.operator_api import TOKENS, RunningApi, operator_api

from aiops.correlation.suppression.matchers import Matcher
from aiops.correlation.suppression.rules import Silence
from aiops.runtime.silences import load_silences, publish_silence

pytestmark = [pytest.mark.integration]

AMTOOL = shutil.which("amtool")


async def on_topic(running: RunningApi) -> dict[str, Silence]:
    """The silences as `aiops silence list --all` reads them."""
    silences = await load_silences(running.api.silences.bootstrap, running.config.suppression.silences_topic)
    return {silence.id: silence for silence in silences}


async def test_v1_silences_round_trip_through_the_topic(kafka_bootstrap: str, unique_topic_prefix: str) -> None:
    async with operator_api(kafka_bootstrap, unique_topic_prefix) as running:
        body = {"matchers": ['service="checkout"', {"name": "name", "op": "=~", "value": "Disk.*"}],
                "comment": "disk swap", "duration_seconds": 3600}
        status, created, _ = await running.call("POST", "/api/v1/silences", body, token="alice")
        assert status == 201, created
        assert (created["author"], created["state"]) == ("alice", "active")
        stored = (await on_topic(running))[created["id"]]
        assert [str(m) for m in stored.matchers] == ['service="checkout"', 'name=~"Disk.*"']
        status, listed, _ = await running.call("GET", "/api/v1/silences", token="victor")
        assert [s["id"] for s in listed] == [created["id"]]
        assert (await running.call("GET", f"/api/v1/silences/{created['id']}", token="victor"))[1] == listed[0]
        status, expired, _ = await running.call("DELETE", f"/api/v1/silences/{created['id']}", token="alice")
        assert (status, expired["state"]) == (200, "expired")
        assert (await on_topic(running))[created["id"]].ends_at <= datetime.now(UTC)
        assert (await running.call("GET", "/api/v1/silences", token="victor"))[1] == []
        assert len((await running.call("GET", "/api/v1/silences?state=expired", token="victor"))[1]) == 1
        status, problem, _ = await running.call("POST", "/api/v1/silences", {"matchers": [], "comment": ""},
                                                token="alice")
        assert status == 422
        assert {error["field"] for error in problem["errors"]} >= {"matchers", "comment"}
        assert (await running.call("DELETE", "/api/v1/silences/nope", token="alice"))[0] == 404
        assert (await running.call("POST", "/api/v1/silences", body, token="victor"))[0] == 403
        assert [entry.outcome for entry in running.audit.entries] == [
            "accepted", "accepted", "invalid", "not_found", "forbidden"]
        assert running.audit.entries[0].action_id == created["id"]


async def test_silences_written_elsewhere_show_up_live(kafka_bootstrap: str, unique_topic_prefix: str) -> None:
    async with operator_api(kafka_bootstrap, unique_topic_prefix) as running:
        now = datetime.now(UTC)
        cli = Silence(id="from-cli", matchers=[Matcher.parse("service=db")], starts_at=now,
                      ends_at=now + timedelta(hours=1), author="ops", comment="as aiops silence add writes it")
        await publish_silence(kafka_bootstrap, running.config.suppression.silences_topic, cli)
        for _ in range(50):
            status, listed, _ = await running.call("GET", "/api/v2/silences", token="victor")
            assert status == 200
            if listed:
                break
            await asyncio.sleep(0.1)
        assert [(s["id"], s["createdBy"], s["status"]["state"]) for s in listed] == [("from-cli", "ops", "active")]


async def test_alertmanager_v2_silences_round_trip(kafka_bootstrap: str, unique_topic_prefix: str) -> None:
    receivers = {"webhook": {"ops": {"url": "http://127.0.0.1:9/hook"}}}
    async with operator_api(kafka_bootstrap, unique_topic_prefix, extra={"delivery": {"receivers": receivers}}
                            ) as running:
        now = datetime.now(UTC)
        posted = {"matchers": [{"name": "alertname", "value": "DiskFull", "isRegex": False},
                               {"name": "instance", "value": "db-.*", "isRegex": True, "isEqual": True}],
                  "startsAt": now.isoformat(), "endsAt": (now + timedelta(hours=2)).isoformat(),
                  "createdBy": "grafana", "comment": "maintenance"}
        status, answer, _ = await running.call("POST", "/api/v2/silences", posted, token="alice")
        assert status == 200, answer
        silence_id = answer["silenceID"]
        status, got, _ = await running.call("GET", f"/api/v2/silence/{silence_id}", token="victor")
        assert (got["status"], got["createdBy"], got["matchers"][1]) == (
            {"state": "active"}, "grafana", {"name": "instance", "value": "db-.*", "isRegex": True, "isEqual": True})
        assert set(got) == {"id", "status", "updatedAt", "matchers", "startsAt", "endsAt", "createdBy", "comment"}
        assert [str(m) for m in (await on_topic(running))[silence_id].matchers] == [
            'alertname="DiskFull"', 'instance=~"db-.*"']
        assert len((await running.call("GET", "/api/v2/silences?filter=alertname%3D%22DiskFull%22",
                                       token="victor"))[1]) == 1
        assert (await running.call("GET", "/api/v2/silences?filter=alertname%3DOther", token="victor"))[1] == []
        updated = {**posted, "id": silence_id, "comment": "longer maintenance"}
        assert (await running.call("POST", "/api/v2/silences", updated, token="alice"))[1] == {"silenceID": silence_id}
        assert (await on_topic(running))[silence_id].comment == "longer maintenance"
        assert (await running.call("DELETE", f"/api/v2/silence/{silence_id}", token="alice"))[0] == 200
        assert (await running.call("GET", f"/api/v2/silence/{silence_id}", token="victor"))[1]["status"] == {
            "state": "expired"}
        status, reason, _ = await running.call("POST", "/api/v2/silences", {**posted, "matchers": []}, token="alice")
        assert status == 400
        assert isinstance(reason, str)
        assert (await running.call("GET", "/api/v2/silence/unknown", token="victor"))[0] == 404
        assert (await running.call("GET", "/api/v2/receivers", token="victor"))[1] == [{"name": "ops"}]


async def amtool(url: str, config: Path, *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        AMTOOL or "amtool", f"--alertmanager.url={url}", f"--http.config.file={config}", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(process.communicate(), 30)
    return process.returncode or 0, output.decode()


@pytest.mark.skipif(AMTOOL is None, reason="amtool not installed (Debian package prometheus-alertmanager)")
async def test_amtool_adds_queries_and_expires_a_silence(kafka_bootstrap: str, unique_topic_prefix: str,
                                                         tmp_path: Path) -> None:
    config = tmp_path / "http.yml"
    config.write_text(yaml.safe_dump({"authorization": {"type": "Bearer", "credentials": TOKENS["alice"][0]}}))
    async with operator_api(kafka_bootstrap, unique_topic_prefix) as running:
        code, output = await amtool(running.url, config, "silence", "add", "alertname=X", "--comment", "c",
                                    "--author", "a", "--duration", "1h")
        assert code == 0, output
        silence_id = output.strip()
        stored = (await on_topic(running))[silence_id]
        assert ([str(m) for m in stored.matchers], stored.author, stored.comment) == (['alertname="X"'], "a", "c")
        assert stored.active(datetime.now(UTC).timestamp())
        code, output = await amtool(running.url, config, "silence", "query")
        assert code == 0, output
        assert silence_id in output
        assert "alertname=\"X\"" in output or "alertname=X" in output
        code, output = await amtool(running.url, config, "silence", "query", "-q", "alertname=X")
        assert (code, output.split()) == (0, [silence_id])
        code, output = await amtool(running.url, config, "silence", "expire", silence_id)
        assert code == 0, output
        assert not (await on_topic(running))[silence_id].active(datetime.now(UTC).timestamp())
        code, output = await amtool(running.url, config, "silence", "query", "-q")
        assert (code, output.strip()) == (0, "")
        no_token = tmp_path / "none.yml"
        no_token.write_text("{}\n")
        code, output = await amtool(running.url, no_token, "silence", "add", "alertname=Y", "--comment", "c",
                                    "--author", "a", "--duration", "1h")
        assert code != 0
        assert [e.outcome for e in running.audit.entries] == ["accepted", "accepted", "unauthorized"]
        assert running.audit.entries[0].actor == "alice"
