"""HTTP ingest front on a real broker: accepted payloads land on the events topic, bad input is refused with
the right status and dead-lettered, tokens and rate limits hold, and a broker outage gives 503 then recovery."""

from __future__ import annotations

import asyncio
import base64
import gzip
import os
import signal
from typing import Any

import aiohttp
import orjson
import pytest
from support.ingest import ingest_front
from support.worker import collect

from aiops.runtime.broker import EmbeddedBroker

pytestmark = [pytest.mark.integration]

NOW = "2026-12-07T12:00:00Z"


def am_alert(name: str = "HighErrorRate", service: str = "checkout", **extra: Any) -> dict[str, Any]:
    return {"labels": {"alertname": name, "service": service, "severity": "critical", "instance": "10.0.0.1:9100"},
            "annotations": {"summary": f"{service} errors"}, "startsAt": NOW, **extra}


async def post(url: str, body: Any, headers: dict[str, str] | None = None, raw: bytes | None = None
               ) -> tuple[int, bytes, dict[str, str]]:
    data = raw if raw is not None else orjson.dumps(body)
    headers = {"Content-Type": "application/json", **(headers or {})}
    async with aiohttp.ClientSession() as session, session.post(url, data=data, headers=headers) as response:
        return response.status, await response.read(), dict(response.headers)


async def test_alertmanager_api_accepts_alerts_onto_the_events_topic(
        kafka_bootstrap: str, unique_topic_prefix: str) -> None:
    async with ingest_front(kafka_bootstrap, unique_topic_prefix) as running:
        status, body, _ = await post(running.url + "/api/v2/alerts", [am_alert(), am_alert("DiskFull", "db")])
        assert (status, body) == (200, b"")
        status, _, _ = await post(running.url + "/ingest/alertmanager/api/v2/alerts", [am_alert()])
        assert status == 200
        events = await collect(kafka_bootstrap, running.config.topics.events, lambda r: len(r) >= 3, 20)
        assert sorted(e["name"] for e in events) == ["DiskFull", "HighErrorRate", "HighErrorRate"]
        first = next(e for e in events if e["name"] == "DiskFull")
        assert (first["kind"], first["service"], first["status"], first["source"]) == ("alert", "db", "firing",
                                                                                     "alertmanager")
        assert first["labels"]["severity"] == "critical"
        assert running.counted("alertmanager", "accepted") == 2
        async with aiohttp.ClientSession() as session:
            for path in ("/-/healthy", "/-/ready", "/api/v2/status"):
                async with session.get(running.url + path) as response:
                    assert response.status == 200, path
            async with session.get(running.url + "/api/v2/status") as response:
                assert (await response.json())["cluster"]["status"] == "disabled"


async def test_gzip_bodies_are_accepted(kafka_bootstrap: str, unique_topic_prefix: str) -> None:
    async with ingest_front(kafka_bootstrap, unique_topic_prefix) as running:
        raw = gzip.compress(orjson.dumps([am_alert()]))
        status, _, _ = await post(running.url + "/api/v2/alerts", None, {"Content-Encoding": "gzip"}, raw)
        assert status == 200
        events = await collect(kafka_bootstrap, running.config.topics.events, lambda r: len(r) >= 1, 20)
        assert events[0]["name"] == "HighErrorRate"


@pytest.mark.parametrize(("raw", "status", "reason"), [
    (b"{not json", 400, "invalid_json"),
    (b'{"labels": {}}', 400, "schema"),  # not an array
    (orjson.dumps([{"labels": {"alertname": 5}}]), 400, "schema"),  # wrong type
    (b"[" * 100 + b"]" * 100, 400, "too_deep"),
])
async def test_bad_payloads_get_400_and_a_dead_letter(
        kafka_bootstrap: str, unique_topic_prefix: str, raw: bytes, status: int, reason: str) -> None:
    async with ingest_front(kafka_bootstrap, unique_topic_prefix) as running:
        got, body, _ = await post(running.url + "/api/v2/alerts", None, raw=raw)
        assert got == status, body
        assert reason in orjson.loads(body)
        letters = await collect(kafka_bootstrap, running.config.topics.deadletter, lambda r: len(r) >= 1, 20)
        assert letters[0]["stage"] == "ingest:alertmanager"
        assert letters[0]["reason"] == reason
        assert base64.b64decode(letters[0]["original_b64"]) == raw
        assert running.counted("alertmanager", "invalid") == 1


async def test_oversized_bodies_get_413_even_gzipped(kafka_bootstrap: str, unique_topic_prefix: str) -> None:
    async with ingest_front(kafka_bootstrap, unique_topic_prefix, {"max_body_bytes": 4096}) as running:
        status, _, _ = await post(running.url + "/api/v2/alerts", [am_alert(name="x" * 5000)])
        assert status == 413
        bomb = gzip.compress(b"[" + b" " * 10_000_000 + b"]")  # 10 MB inflated from about 10 KB
        status, _, _ = await post(running.url + "/api/v2/alerts", None, {"Content-Encoding": "gzip"}, bomb)
        assert status == 413
        assert running.counted("alertmanager", "oversized") == 2


async def test_tokens_unknown_integrations_and_protobuf(kafka_bootstrap: str, unique_topic_prefix: str) -> None:
    integrations = {"prom": {"kind": "alertmanager", "token": "${ENV:PROM_TOKEN}"},
                    "pd": {"kind": "pagerduty", "token": "${ENV:PD_KEY}"}}
    secret = "s3cret-token-value"
    async with ingest_front(kafka_bootstrap, unique_topic_prefix, {"integrations": integrations},
                            environ={"PROM_TOKEN": secret, "PD_KEY": "R0UT1NGKEY"}) as running:
        url = running.url + "/ingest/prom/api/v2/alerts"
        assert (await post(url, [am_alert()]))[0] == 401
        status, _, headers = await post(url, [am_alert()], {"Authorization": "Bearer wrong"})
        assert status == 401
        assert headers["WWW-Authenticate"].startswith("Bearer")
        assert (await post(url, [am_alert()], {"Authorization": f"Bearer {secret}"}))[0] == 200
        assert running.counted("prom", "unauthorized") == 2
        assert (await post(running.url + "/ingest/nope/api/v2/alerts", [am_alert()]))[0] == 404
        assert (await post(url, None, {"Content-Type": "application/x-protobuf",
                                       "Authorization": f"Bearer {secret}"}, b"\x0a\x00"))[0] == 415
        trigger = {"routing_key": "R0UT1NGKEY", "event_action": "trigger", "dedup_key": "k1",
                   "payload": {"summary": "disk full", "source": "db-1", "severity": "critical"}}
        status, body, _ = await post(running.url + "/ingest/pd/v2/enqueue", trigger)
        assert status == 202
        assert orjson.loads(body)["dedup_key"] == "k1"
        status, _, _ = await post(running.url + "/ingest/pd/v2/enqueue", {**trigger, "routing_key": "nope"})
        assert status == 401


async def test_rate_limit_answers_429_with_retry_after(kafka_bootstrap: str, unique_topic_prefix: str) -> None:
    integrations = {"am": {"kind": "alertmanager", "rate_limit_per_second": 1, "rate_limit_burst": 3}}
    async with ingest_front(kafka_bootstrap, unique_topic_prefix, {"integrations": integrations}) as running:
        url = running.url + "/api/v2/alerts"
        assert (await post(url, [am_alert(), am_alert("B")]))[0] == 200
        status, _, headers = await post(url, [am_alert("C"), am_alert("D")])
        assert status == 429
        assert int(headers["Retry-After"]) >= 1
        assert running.counted("am", "rate_limited") == 1


async def test_broker_outage_gives_503_then_accepts_and_loses_nothing(unique_topic_prefix: str) -> None:
    async with EmbeddedBroker() as broker:
        http = {"publish_timeout_seconds": 1.5, "retry_after_seconds": 2}
        async with ingest_front(broker.bootstrap, unique_topic_prefix, http) as running:
            url = running.url + "/api/v2/alerts"
            assert (await post(url, [am_alert("Before")]))[0] == 200
            assert broker.pid is not None
            os.kill(broker.pid, signal.SIGSTOP)  # the broker stops answering, as on a network partition
            try:
                status, _, headers = await post(url, [am_alert("During")])
                assert status == 503
                assert headers["Retry-After"] == "2"
            finally:
                os.kill(broker.pid, signal.SIGCONT)
            accepted = False
            for _ in range(20):  # what a sender does: retry after Retry-After until accepted
                status, _, _ = await post(url, [am_alert("During")])
                if status == 200:
                    accepted = True
                    break
                await asyncio.sleep(0.5)
            assert accepted
            events = await collect(broker.bootstrap, running.config.topics.events,
                                   lambda r: len(r) >= 3, 10)
            names = [e["name"] for e in events]
            assert names.count("Before") == 1
            assert 1 <= names.count("During") <= 2  # the 503'd request may have landed too: at least once


async def test_authentication_comes_before_parsing_and_tokens_never_reach_the_dead_letters(
        kafka_bootstrap: str, unique_topic_prefix: str) -> None:
    integrations = {"prom": {"kind": "alertmanager", "token": "${ENV:PROM_TOKEN}"},
                    "pd": {"kind": "pagerduty", "token": "${ENV:PD_KEY}"}}
    async with ingest_front(kafka_bootstrap, unique_topic_prefix, {"integrations": integrations},
                            environ={"PROM_TOKEN": "prom-secret", "PD_KEY": "R0UT1NGKEY"}) as running:
        wrong = await post(running.url + "/ingest/prom/api/v2/alerts", None, {"Authorization": "Bearer nope"},
                           b"{not json")
        assert wrong[0] == 401  # not 400: an unauthenticated body is neither parsed nor dead-lettered
        unparsable = await post(running.url + "/ingest/pd/v2/enqueue", None, raw=b"{not json")
        assert unparsable[0] == 401  # no header and no readable routing_key
        bad_trigger = {"routing_key": "R0UT1NGKEY", "event_action": "trigger", "payload": {"summary": "x"}}
        status, _, _ = await post(running.url + "/ingest/pd/v2/enqueue", bad_trigger)
        assert status == 400  # authenticated by its routing_key, then refused: dead-lettered, redacted
        letters = await collect(kafka_bootstrap, running.config.topics.deadletter, lambda r: len(r) >= 1, 20)
        assert len(letters) == 1
        original = base64.b64decode(letters[0]["original_b64"])
        assert b"R0UT1NGKEY" not in original
        assert b"<redacted>" in original


async def test_cross_origin_browser_requests_are_refused(kafka_bootstrap: str, unique_topic_prefix: str) -> None:
    async with ingest_front(kafka_bootstrap, unique_topic_prefix) as running:
        status, _, _ = await post(running.url + "/api/v2/alerts", [am_alert()], {"Origin": "http://evil.example"})
        assert status == 403
        assert running.counted("alertmanager", "forbidden") == 1
        same = running.url.removeprefix("http://")
        assert (await post(running.url + "/api/v2/alerts", [am_alert()], {"Origin": f"http://{same}"}))[0] == 200


async def test_an_event_detection_would_refuse_as_oversized_is_refused_at_the_door(
        kafka_bootstrap: str, unique_topic_prefix: str) -> None:
    async with ingest_front(kafka_bootstrap, unique_topic_prefix) as running:
        limit = running.config.ingest.max_message_bytes
        big = am_alert(annotations={"description": "x" * (limit + 1)})
        status, body, _ = await post(running.url + "/api/v2/alerts", [big])
        assert status == 413
        assert "ingest.max_message_bytes" in orjson.loads(body)
