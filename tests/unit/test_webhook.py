"""The webhook receiver (`SignedWebhookSink`) against the local receiver: payload, headers, classification,
timeouts, redaction."""

from __future__ import annotations

import logging

import pytest
from support.incidents import make_incident
from support.receiver import HttpReceiver

from aiops.errors import DeliveryError, DeliveryRejectedError
from aiops.incidents import Incident
from aiops.runtime.broker import free_loopback_port
from aiops.sinks.config import SecurityConfig
from aiops.sinks.receiver_config import WebhookReceiverConfig
from aiops.sinks.receivers import SignedWebhookSink, SinkOptions

LOOPBACK = SecurityConfig(allow_loopback=True)  # the local receiver listens on 127.0.0.1


def _sink(url: str, headers: dict[str, str] | None = None, timeout_seconds: float = 5.0) -> SignedWebhookSink:
    config = WebhookReceiverConfig.model_validate(
        {"url": url, "reliability": {"timeout_seconds": timeout_seconds}})
    return SignedWebhookSink("ops", config, SinkOptions(security=LOOPBACK), url=url, secret=None, headers=headers or {})


async def test_posts_incident_json_with_protocol_and_configured_headers(http_receiver: HttpReceiver) -> None:
    sink = _sink(
        http_receiver.url,
        headers={"Authorization": "Bearer t0k3n", "Idempotency-Key": "must-not-win", "X-Team": "sre",
                 "idempotency-key": "nor-in-lower-case", "content-type": "text/plain"},
    )
    incident = make_incident("inc-9", 3, status="updated")
    try:
        await sink.deliver(incident)
    finally:
        await sink.close()
    (request,) = http_receiver.requests
    assert request.method == "POST"
    assert request.path == "/hook"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Idempotency-Key"] == "inc-9:3"
    assert request.headers.getall("Idempotency-Key") == ["inc-9:3"]
    assert request.headers.getall("Content-Type") == ["application/json"]
    assert request.headers["X-Aiops-Incident"] == "inc-9"
    assert request.headers["X-Aiops-Version"] == "3"
    assert request.headers["Authorization"] == "Bearer t0k3n"
    assert request.headers["X-Team"] == "sre"
    assert Incident.model_validate(request.json()["incident"]) == incident


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
async def test_retryable_statuses(http_receiver: HttpReceiver, status: int) -> None:
    http_receiver.fail_next(1, status)
    sink = _sink(http_receiver.url)
    try:
        with pytest.raises(DeliveryError, match=str(status)):
            await sink.deliver(make_incident())
    finally:
        await sink.close()


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 422, 301])
async def test_permanent_statuses(http_receiver: HttpReceiver, status: int) -> None:
    redirect = {"Location": "http://127.0.0.1:1/elsewhere"} if status == 301 else None
    http_receiver.fail_next(1, status, redirect)
    sink = _sink(http_receiver.url)
    try:
        with pytest.raises(DeliveryRejectedError, match=str(status)):
            await sink.deliver(make_incident())
    finally:
        await sink.close()
    assert len(http_receiver.requests) == 1  # the redirect was not followed


async def test_429_retry_after_seconds_is_parsed(http_receiver: HttpReceiver) -> None:
    http_receiver.rate_limit_next(1, retry_after="3")
    sink = _sink(http_receiver.url)
    try:
        with pytest.raises(DeliveryError) as caught:
            await sink.deliver(make_incident())
    finally:
        await sink.close()
    assert caught.value.retry_after == 3.0


async def test_hanging_receiver_times_out_as_retryable(http_receiver: HttpReceiver) -> None:
    http_receiver.hang_next(1)
    sink = _sink(http_receiver.url, timeout_seconds=0.3)
    try:
        with pytest.raises(DeliveryError, match="timed out"):
            await sink.deliver(make_incident())
        await sink.deliver(make_incident())  # the next request is answered normally
    finally:
        await sink.close()


async def test_connection_refused_is_retryable() -> None:
    port = free_loopback_port()  # nothing listens there
    sink = _sink(f"http://127.0.0.1:{port}/hook", timeout_seconds=1.0)
    try:
        with pytest.raises(DeliveryError, match=r"POST http://127\.0\.0\.1"):
            await sink.deliver(make_incident())
    finally:
        await sink.close()


async def test_errors_and_logs_never_contain_credentials_or_query(
    http_receiver: HttpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"http://user:s3cret@127.0.0.1:{http_receiver.port}/hook/T0/B0/SECRETPATH?token=SECRETQ"
    http_receiver.fail_next(1, 500)
    sink = _sink(url)
    caplog.set_level(logging.DEBUG)
    try:
        with pytest.raises(DeliveryError) as caught:
            await sink.deliver(make_incident())
        await sink.deliver(make_incident())
    finally:
        await sink.close()
    text = str(caught.value) + caplog.text
    for secret in ("s3cret", "SECRETQ", "SECRETPATH", "user:"):
        assert secret not in text
    assert http_receiver.requests[0].query == "token=SECRETQ"  # the real request kept the full URL
