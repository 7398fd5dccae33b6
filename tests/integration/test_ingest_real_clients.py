"""HTTP ingest end to end with real clients this project did not write: `aiops run` as a subprocess on the
test broker, each client started by the test on loopback (free ports) and stopped after.

- Prometheus (Debian `prometheus`) with aiops as its Alertmanager and a rule on a metric the test serves:
  the incident opens while the rule fires and resolves when it stops (Prometheus's resolved re-send).
- Alertmanager (Debian `prometheus-alertmanager`) forwarding through a `webhook_config`, alerts injected
  with its `amtool`: the incident opens, and resolves on the resolved notification; `amtool` pointed at
  aiops itself (aiops as an Alertmanager API v2 server) adds an alert and reads `/api/v2/status`.
- PagerDuty Events API v2 (aiohttp as the client): trigger, acknowledge, resolve with one dedup_key; a
  change event lands on the events topic as kind ``change``.
- OTLP/HTTP JSON logs: the OpenTelemetry Collector is no Debian package (and is not downloaded), so the
  client is aiohttp posting the JSON an `otlphttp` exporter with `encoding: json` sends; a burst of error
  lines of a new template after a baseline gives a log anomaly signal and incident.
The Prometheus and Alertmanager tests skip only when their binary is absent.
"""

from __future__ import annotations

import asyncio
import gzip
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
import yaml
from aiohttp import web
from support.worker import WorkerProcess, collect, isolated_config

from aiops.runtime.broker import free_loopback_port
from aiops.runtime.topics import TopicSpec, ensure_topics

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PROMETHEUS = shutil.which("prometheus")
ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
AMTOOL = shutil.which("amtool")
STARTUP_SECONDS = 60.0
"""Deadline for a process to answer its readiness probe (generous: a loaded 2-core machine)."""
PIPELINE_SECONDS = 60.0
"""Deadline for an event to come out of the worker as an incident or signal."""

Records = list[dict[str, Any]]


def statuses(records: Records, service: str) -> list[str]:
    return [r["status"] for r in records if r.get("services") == [service]]


async def incidents_until(config: dict[str, Any], done: Callable[[Records], bool], worker: WorkerProcess
                          ) -> Records:
    """The incidents topic once `done(records)` holds; fails with the worker's log when it never does."""
    records = await collect(config["kafka"]["bootstrap"], config["topics"]["incidents"], done, PIPELINE_SECONDS)
    assert done(records), f"incidents: {records}\nworker log:\n{worker.output()}"
    return records


async def ready(url: str, alive: Callable[[], bool], what: str, log: Callable[[], str]) -> None:
    """Poll GET `url` until it answers 200; fail early (with `log()`) when the process died."""
    deadline = time.monotonic() + STARTUP_SECONDS
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        while time.monotonic() < deadline:
            assert alive(), f"{what} exited:\n{log()}"
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.2)
    raise AssertionError(f"{what} not ready at {url} within {STARTUP_SECONDS}s:\n{log()}")


@asynccontextmanager
async def aiops_worker(prefix: str, bootstrap: str, workdir: Path, extra: dict[str, Any] | None = None
                       ) -> AsyncIterator[tuple[WorkerProcess, dict[str, Any], str]]:
    """`aiops run` with an isolated config listening on a free port; yields (worker, config, base URL) once
    its ingest front is ready (``/-/ready``)."""
    port = free_loopback_port()
    config = isolated_config(prefix, bootstrap, {"http": {"port": port}, **(extra or {})})
    topics = config["topics"]
    await ensure_topics(bootstrap, [TopicSpec(topics["events"], topics["events_partitions"]),
                                    TopicSpec(topics["deadletter"], 1)])
    worker = WorkerProcess(config, workdir)
    worker.start()
    try:
        url = f"http://127.0.0.1:{port}"
        await ready(url + "/-/ready", lambda: worker.process is not None and worker.process.poll() is None,
                    "aiops run", worker.output)
        yield worker, config, url
    finally:
        worker.stop()


@contextmanager
def real_process(argv: list[str], workdir: Path, name: str) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """A third-party binary running with its output in `workdir/name.log`; terminated (then killed) after."""
    log_path = workdir / f"{name}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
    try:
        yield process, log_path
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def tail(path: Path) -> str:
    return path.read_text(errors="replace")[-4000:] if path.exists() else ""


@asynccontextmanager
async def metrics_target(value: list[float]) -> AsyncIterator[int]:
    """A scrape target serving ``demo_errors <value[0]>``; yields its port. The test changes `value[0]`."""
    async def metrics(request: web.Request) -> web.Response:
        body = f"# TYPE demo_errors gauge\ndemo_errors {value[0]}\n"
        return web.Response(text=body, content_type="text/plain", headers={"X-Content-Type-Options": "nosniff"})

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield int(runner.addresses[0][1])
    finally:
        await runner.cleanup()


def prometheus_files(workdir: Path, aiops_port: int, target_port: int) -> Path:
    """prometheus.yml (aiops as the Alertmanager, 1 s scrape and evaluation) and its rule file."""
    rules = {"groups": [{"name": "demo", "interval": "1s", "rules": [{
        "alert": "DemoErrors", "expr": "demo_errors > 0", "for": "0s",
        "labels": {"severity": "critical", "service": "checkout"},
        "annotations": {"summary": "checkout errors: {{ $value }}"}}]}]}
    (workdir / "rules.yml").write_text(yaml.safe_dump(rules))
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
        "rule_files": [str(workdir / "rules.yml")],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{aiops_port}"]}]}]},
        "scrape_configs": [{"job_name": "demo", "static_configs": [{"targets": [f"127.0.0.1:{target_port}"]}]}],
    }
    path = workdir / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.skipif(PROMETHEUS is None, reason="prometheus binary not found (Debian package `prometheus`)")
async def test_prometheus_with_aiops_as_its_alertmanager_opens_then_resolves_an_incident(
        kafka_bootstrap: str, unique_topic_prefix: str, tmp_path: Path) -> None:
    assert PROMETHEUS is not None
    value = [1.0]
    async with metrics_target(value) as target_port, \
            aiops_worker(unique_topic_prefix, kafka_bootstrap, tmp_path) as (worker, config, url):
        aiops_port = int(url.rsplit(":", 1)[1])
        web_port = free_loopback_port()
        argv = [PROMETHEUS, f"--config.file={prometheus_files(tmp_path, aiops_port, target_port)}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}", f"--web.listen-address=127.0.0.1:{web_port}",
                "--rules.alert.resend-delay=1s", "--log.level=info"]
        with real_process(argv, tmp_path, "prometheus") as (prometheus, log_path):
            await ready(f"http://127.0.0.1:{web_port}/-/ready", lambda: prometheus.poll() is None,
                        "prometheus", lambda: tail(log_path))
            opened = await incidents_until(config, lambda r: "open" in statuses(r, "checkout"), worker)
            incident = next(r for r in opened if r["services"] == ["checkout"])
            member = incident["members"][0]
            assert (member["name"], member["severity"], member["origin"]) == ("DemoErrors", "critical", "alert")
            assert member["labels"]["job"] == "demo"

            value[0] = 0.0  # the rule stops firing: Prometheus sends the alert with endsAt in the past
            records = await incidents_until(config, lambda r: statuses(r, "checkout")[-1:] == ["resolved"], worker)
            assert statuses(records, "checkout")[0] == "open"
            events = await collect(kafka_bootstrap, config["topics"]["events"],
                                   lambda r: any(e.get("status") == "resolved" for e in r), 20)
            resolved = [e for e in events if e["kind"] == "alert" and e["status"] == "resolved"]
            assert resolved, f"no resolved alert from Prometheus on the events topic:\n{tail(log_path)}"
            assert resolved[0]["name"] == "DemoErrors"
            assert resolved[0]["fingerprint"] == member["fingerprint"].split(":", 1)[1]


async def amtool(url: str, *args: str) -> tuple[int, str]:
    """Run the real `amtool --alertmanager.url=URL ARGS`; (exit code, stdout + stderr)."""
    assert AMTOOL is not None
    process = await asyncio.create_subprocess_exec(
        AMTOOL, f"--alertmanager.url={url}", "--timeout=20s", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, output.decode(errors="replace")


def rfc3339(epoch: float) -> str:
    return datetime.fromtimestamp(int(epoch), UTC).isoformat()


def alertmanager_config(workdir: Path, aiops_url: str) -> Path:
    """One route to a webhook receiver posting to aiops's alertmanager-webhook integration, timers at 1 s."""
    config = {
        "route": {"receiver": "aiops", "group_by": ["alertname", "service"], "group_wait": "1s",
                  "group_interval": "1s", "repeat_interval": "1h"},
        "receivers": [{"name": "aiops", "webhook_configs": [
            {"url": f"{aiops_url}/ingest/alertmanager-webhook", "send_resolved": True}]}],
    }
    path = workdir / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.skipif(ALERTMANAGER is None or AMTOOL is None,
                    reason="prometheus-alertmanager / amtool not found (Debian package `prometheus-alertmanager`)")
async def test_alertmanager_webhook_forwards_an_alert_added_with_amtool_that_opens_then_resolves(
        kafka_bootstrap: str, unique_topic_prefix: str, tmp_path: Path) -> None:
    assert ALERTMANAGER is not None
    async with aiops_worker(unique_topic_prefix, kafka_bootstrap, tmp_path) as (worker, config, url):
        port = free_loopback_port()
        argv = [ALERTMANAGER, f"--config.file={alertmanager_config(tmp_path, url)}",
                f"--storage.path={tmp_path / 'am-data'}", f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=", "--log.level=debug"]
        with real_process(argv, tmp_path, "alertmanager") as (alertmanager, log_path):
            am_url = f"http://127.0.0.1:{port}"
            await ready(am_url + "/-/ready", lambda: alertmanager.poll() is None, "alertmanager",
                        lambda: tail(log_path))
            labels = ["SearchLatencyHigh", "service=search", "severity=critical", "instance=search-1:9100"]
            started = rfc3339(time.time())
            code, output = await amtool(am_url, "alert", "add", *labels, f"--start={started}",
                                        "--annotation=summary=search p99 above 2s")
            assert code == 0, output
            opened = await incidents_until(config, lambda r: "open" in statuses(r, "search"), worker)
            member = next(r for r in opened if r["services"] == ["search"])["members"][0]
            assert (member["name"], member["severity"], member["host"]) == ("SearchLatencyHigh", "critical",
                                                                            "search-1:9100")
            assert member["annotations"]["summary"] == "search p99 above 2s"
            assert member["annotations"]["external_url"].startswith("http")

            await asyncio.sleep(1.1)  # endsAt (whole seconds) after the firing notification's receipt
            code, output = await amtool(am_url, "alert", "add", *labels, f"--start={started}",
                                        f"--end={rfc3339(time.time())}")
            assert code == 0, output
            records = await incidents_until(config, lambda r: "resolved" in statuses(r, "search"), worker)
            assert statuses(records, "search")[0] == "open"
            events = await collect(kafka_bootstrap, config["topics"]["events"],
                                   lambda r: any(e.get("status") == "resolved" for e in r), 20)
            assert [e["status"] for e in events if e.get("name") == "SearchLatencyHigh"][-1] == "resolved", \
                tail(log_path)


@pytest.mark.skipif(AMTOOL is None, reason="amtool not found (Debian package `prometheus-alertmanager`)")
async def test_amtool_talks_to_aiops_as_an_alertmanager_api_v2_server(
        kafka_bootstrap: str, unique_topic_prefix: str, tmp_path: Path) -> None:
    async with aiops_worker(unique_topic_prefix, kafka_bootstrap, tmp_path) as (worker, config, url):
        for base in (url, url + "/ingest/alertmanager"):  # the usual path and the integration's own
            code, output = await amtool(base, "config", "show")  # both read GET /api/v2/status
            assert code == 0, output
            assert "aiops" in output
            code, output = await amtool(base, "cluster", "show")
            assert code == 0, output
            assert "disabled" in output
        code, output = await amtool(url + "/ingest/alertmanager", "alert", "add", "LedgerStuck",
                                    "service=ledger", "severity=warning", "--annotation=summary=ledger stuck")
        assert code == 0, output  # amtool sends Go's zero time as startsAt/endsAt: unset, so firing
        opened = await incidents_until(config, lambda r: "open" in statuses(r, "ledger"), worker)
        member = next(r for r in opened if r["services"] == ["ledger"])["members"][0]
        assert (member["name"], member["status"], member["labels"]["severity"]) == ("LedgerStuck", "firing",
                                                                                   "warning")


async def post_json(url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as response:
        return response.status, await response.json(content_type=None)


async def test_pagerduty_events_v2_trigger_then_resolve_and_a_change_event(
        kafka_bootstrap: str, unique_topic_prefix: str, tmp_path: Path) -> None:
    """The service comes from the integration (PagerDuty's model: the routing key names the service), so the
    resolve carries no payload, as PagerDuty's own examples send it."""
    integrations = {"pagerduty": {"kind": "pagerduty", "default_service": "payments"}}
    extra = {"ingest": {"http": {"integrations": integrations}}}  # merged into the isolated `ingest` section
    async with aiops_worker(unique_topic_prefix, kafka_bootstrap, tmp_path, extra) as (worker, config, url):
        base = {"routing_key": "R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY12", "dedup_key": "db-1/disk-full"}
        trigger = {**base, "event_action": "trigger", "client": "checks", "payload": {
            "summary": "Disk 97% full on db-1", "source": "db-1", "severity": "error", "component": "postgres",
            "group": "prod-db", "class": "disk", "custom_details": {"free_bytes": 1024}}}
        assert await post_json(url + "/v2/enqueue", trigger) == (
            202, {"status": "success", "message": "Event processed", "dedup_key": "db-1/disk-full"})
        opened = await incidents_until(config, lambda r: "open" in statuses(r, "payments"), worker)
        member = next(r for r in opened if r["services"] == ["payments"])["members"][0]
        assert (member["name"], member["severity"], member["host"]) == ("disk", "high", "db-1")
        assert member["annotations"]["summary"] == "Disk 97% full on db-1"

        status, body = await post_json(url + "/v2/enqueue", {**base, "event_action": "acknowledge"})
        assert (status, body["dedup_key"]) == (202, "db-1/disk-full")
        status, body = await post_json(url + "/v2/enqueue", {**base, "event_action": "resolve"})
        assert (status, body["status"]) == (202, "success")
        records = await incidents_until(config, lambda r: "resolved" in statuses(r, "payments"), worker)
        assert [s for s in statuses(records, "payments") if s in ("open", "resolved")] == ["open", "resolved"]

        change = {"routing_key": base["routing_key"], "links": [{"href": "https://ci.example/b/42", "text": "b42"}],
                  "payload": {"summary": "deploy payments 1.4.2", "source": "ci", "timestamp": rfc3339(time.time()),
                              "custom_details": {"change_type": "deploy", "version": "1.4.2"}}}
        status, body = await post_json(url + "/v2/change/enqueue", change)
        assert (status, body["status"]) == (202, "success")
        events = await collect(kafka_bootstrap, config["topics"]["events"],
                               lambda r: sorted(e["kind"] for e in r) == ["alert", "alert", "change"], 20)
        (changed,) = [e for e in events if e["kind"] == "change"]
        assert (changed["service"], changed["summary"], changed["change_type"]) == (
            "payments", "deploy payments 1.4.2", "deploy")
        assert changed["links"] == [{"href": "https://ci.example/b/42", "text": "b42"}]
        assert changed["details"]["version"] == "1.4.2"
        assert sorted(e["status"] for e in events if e["kind"] == "alert") == ["firing", "resolved"]  # no ack event
        assert worker.process is not None
        assert worker.process.poll() is None, "the worker died on a change event"


def otlp_logs(records: list[tuple[float, str, int, str]]) -> dict[str, Any]:
    """An OTLP/HTTP JSON ExportLogsServiceRequest as the Collector's `otlphttp` exporter (encoding: json)
    sends it: one resource (service.name, host.name), one scope, records of (epoch, level, number, body)."""
    def attribute(key: str, value: str) -> dict[str, Any]:
        return {"key": key, "value": {"stringValue": value}}

    return {"resourceLogs": [{
        "resource": {"attributes": [attribute("service.name", "storefront"), attribute("host.name", "web-1")]},
        "scopeLogs": [{"scope": {"name": "storefront.http"}, "logRecords": [{
            "timeUnixNano": str(int(at * 1e9)), "observedTimeUnixNano": str(int(at * 1e9)),
            "severityNumber": number, "severityText": level, "body": {"stringValue": body},
            "attributes": [attribute("http.route", "/cart")]} for at, level, number, body in records]}]}]}


async def post_otlp(url: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST like the Collector: gzip, JSON; the answer must be a full success (no partialSuccess)."""
    data = gzip.compress(orjson.dumps(body))
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    async with aiohttp.ClientSession() as session, session.post(url, data=data, headers=headers) as response:
        assert response.status == 200, await response.text()
        answer: dict[str, Any] = await response.json()
    assert "partialSuccess" not in answer, answer
    return answer


async def test_otlp_json_log_burst_gives_a_log_anomaly(
        kafka_bootstrap: str, unique_topic_prefix: str, tmp_path: Path) -> None:
    """A baseline of info lines over the last 30 s of event time (past the 10 s warm-up), then error lines of a
    template never seen before, now: a `log_anomaly` signal and an incident with the lines as samples."""
    detection = {"logs": {"window_seconds": 2.0, "warmup_seconds": 10.0, "min_errors": 3,
                          "new_template_level": "warning"}}
    async with aiops_worker(unique_topic_prefix, kafka_bootstrap, tmp_path, {"detection": detection}) as (
            worker, config, url):
        now = time.time()
        baseline = [(now - 30 + i, "INFO", 9, f"GET /cart/{i} 200 in {10 + i % 7}ms") for i in range(25)]
        await post_otlp(url + "/v1/logs", otlp_logs(baseline))
        burst = [(now + i * 0.1, "ERROR", 17, f"payment gateway timeout after {3000 + i}ms order={1000 + i}")
                 for i in range(8)]
        await post_otlp(url + "/ingest/otlp/v1/logs", otlp_logs(burst))

        signals = await collect(kafka_bootstrap, config["topics"]["signals"],
                                lambda r: any(s.get("origin") == "log_anomaly" for s in r), PIPELINE_SECONDS)
        anomalies = [s for s in signals if s.get("origin") == "log_anomaly"]
        assert anomalies, f"no log anomaly signal:\n{worker.output()}"
        assert {s["service"] for s in anomalies} == {"storefront"}
        assert "log_new_template" in {s["name"] for s in anomalies}, anomalies
        opened = await incidents_until(config, lambda r: "open" in statuses(r, "storefront"), worker)
        member = next(r for r in opened if r["services"] == ["storefront"])["members"][0]
        assert (member["origin"], member["host"]) == ("log_anomaly", "web-1")
        assert member["evidence"]["samples"]
        assert all("payment gateway timeout" in line for line in member["evidence"]["samples"])
