"""Receivers against local emulations of their APIs: payloads, signing, record-per-incident, secrets,
allowlist and redaction."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from support.incidents import make_incident
from support.receivers_emulated import EmulatedReceivers

from aiops.errors import ConfigError, DeliveryError, DeliveryRejectedError
from aiops.incidents import Incident
from aiops.sinks.config import DeliveryConfig, SecurityConfig
from aiops.sinks.factory import build_receivers
from aiops.sinks.security import check_destination, resolve_secret, sign, verify

SECRET = "s3cr3t-signing-key"


@pytest.fixture
async def emu() -> AsyncIterator[EmulatedReceivers]:
    async with EmulatedReceivers(webhook_secret=SECRET) as receivers:
        yield receivers


def config(emu: EmulatedReceivers, **security: Any) -> DeliveryConfig:
    base = emu.url
    return DeliveryConfig.model_validate({
        "link_template": "https://aiops.example/i/$id",
        "security": {"allow_loopback": True, **security},
        "receivers": {
            "webhook": {"hook": {"url": base("webhook", "in?token=QSECRET"), "signing_secret": "${ENV:HOOK_SECRET}",
                                 "headers": {"X-Team": "sre"}, "title_template": "$priority: $title ($services)"}},
            "slack": {"slack": {"url": base("slack", "T0/B0/XSECRET")}},
            "teams": {"teams": {"url": base("teams", "wf")}},
            "pagerduty": {"pd": {"url": base("pagerduty", "v2/enqueue"), "routing_key": "${ENV:PD_KEY}"}},
            "servicenow": {"snow": {"instance_url": base("servicenow", ""), "username": "u", "password": "p"}},
            "jira": {"jira": {"base_url": base("jira", ""), "project_key": "OPS", "email": "e", "api_token": "t"}},
        },
    })


ENV = {"HOOK_SECRET": SECRET, "PD_KEY": "pd-routing-key"}


def version(inc: Incident, v: int, status: str, **changes: Any) -> Incident:
    return Incident.model_validate({**inc.model_dump(), "version": v, "idempotency_key": f"{inc.id}:{v}",
                                    "status": status, **changes})


async def test_signed_webhook_headers_payload_and_template(emu: EmulatedReceivers) -> None:
    receivers = build_receivers(config(emu), environ=ENV)
    sink = receivers["hook"].sink
    try:
        await sink.deliver(make_incident("inc-7", 2, "updated"))
    finally:
        await sink.close()
    (call,) = emu.calls("webhook")
    assert emu.accepted["webhook"] == ["inc-7:2"]  # signature verified by the emulator
    assert call.headers["Idempotency-Key"] == "inc-7:2"
    assert call.headers["X-Team"] == "sre"
    assert call.body["title"] == "P2: checkout: HighLatency (checkout)"
    assert call.body["link"] == "https://aiops.example/i/inc-7"
    assert call.body["incident"]["id"] == "inc-7"
    assert call.body["payload_version"] == 1


def test_sign_and_verify() -> None:
    signature = sign("k", "1700000000", b'{"a":1}')
    assert signature.startswith("v1=")
    assert verify("k", "1700000000", b'{"a":1}', signature)
    assert not verify("k", "1700000001", b'{"a":1}', signature)


async def test_slack_teams_payloads(emu: EmulatedReceivers) -> None:
    receivers = build_receivers(config(emu), environ=ENV)
    try:
        await receivers["slack"].sink.deliver(make_incident("inc-1"))
        await receivers["teams"].sink.deliver(make_incident("inc-1"))
    finally:
        for r in receivers.values():
            await r.sink.close()
    slack = emu.calls("slack")[0].body
    fields = " ".join(f["text"] for f in slack["blocks"][1]["fields"])
    assert "*Priority*\nP2" in fields
    assert "*Services*\ncheckout" in fields
    assert "Root cause" in fields
    assert slack["blocks"][3]["elements"][0]["url"] == "https://aiops.example/i/inc-1"
    assert emu.accepted["slack"] == ["inc-1:1"]
    assert emu.accepted["teams"] == ["inc-1:1"]


async def test_pagerduty_trigger_then_resolve_same_dedup_key(emu: EmulatedReceivers) -> None:
    sink = build_receivers(config(emu), environ=ENV)["pd"].sink
    inc = make_incident("inc-pd")
    try:
        await sink.deliver(inc)
        await sink.deliver(version(inc, 2, "updated"))
        await sink.deliver(version(inc, 3, "resolved"))
    finally:
        await sink.close()
    assert emu.pagerduty == {"inc-pd": ["trigger", "trigger", "resolve"]}
    trigger = emu.calls("pagerduty")[0].body
    assert trigger["routing_key"] == "pd-routing-key"
    assert trigger["payload"]["severity"] == "error"
    assert trigger["links"][0]["href"] == "https://aiops.example/i/inc-pd"


async def test_servicenow_one_record_updated_and_resolved_in_place(emu: EmulatedReceivers) -> None:
    sink = build_receivers(config(emu), environ=ENV)["snow"].sink
    inc = make_incident("inc-sn")
    try:
        await sink.deliver(inc)
        await sink.deliver(inc)  # duplicate: found again by correlation id, version already applied
        await sink.deliver(version(inc, 2, "updated", priority="P1"))
        await sink.deliver(version(inc, 3, "resolved"))
        await sink.deliver(version(inc, 2, "updated"))  # stale replay: ignored
    finally:
        await sink.close()
    (record,) = emu.servicenow.values()
    assert record["correlation_id"] == "inc-sn"
    assert record["state"] == "6"
    assert record["u_aiops_version"] == "3"
    assert [c.method for c in emu.calls("servicenow")].count("POST") == 1
    assert len(record["notes"]) == 3


async def test_jira_create_comment_resolve_and_reopen(emu: EmulatedReceivers) -> None:
    sink = build_receivers(config(emu), environ=ENV)["jira"].sink
    inc = make_incident("inc-j")
    try:
        await sink.deliver(inc)
        await sink.deliver(version(inc, 2, "updated"))
        await sink.deliver(version(inc, 2, "updated"))  # duplicate: no second comment
        await sink.deliver(version(inc, 3, "resolved"))
        (issue,) = emu.jira.values()
        assert issue["fields"]["status"]["statusCategory"]["key"] == "done"
        assert len(issue["comments"]) == 2
        await sink.deliver(version(inc, 4, "updated"))  # within the reopen window: reopened
        assert issue["fields"]["status"]["statusCategory"]["key"] == "new"
        assert issue["properties"]["aiops"]["version"] == 4
    finally:
        await sink.close()
    assert len(emu.jira) == 1
    assert issue["fields"]["labels"] == ["aiops", "aiops-inc-j"]


async def test_jira_done_issue_outside_reopen_window_gets_a_new_issue(emu: EmulatedReceivers) -> None:
    data = config(emu).model_dump(by_alias=True)
    data["receivers"]["jira"]["jira"]["reopen_within_seconds"] = 0
    sink = build_receivers(DeliveryConfig.model_validate(data), environ=ENV)["jira"].sink
    inc = make_incident("inc-k")
    try:
        await sink.deliver(version(inc, 1, "resolved"))
        await sink.deliver(version(inc, 2, "updated"))
    finally:
        await sink.close()
    assert len(emu.jira) == 2


async def test_classification_400_permanent_429_retry_after(emu: EmulatedReceivers) -> None:
    sink = build_receivers(config(emu), environ=ENV)["slack"].sink
    emu.fail_next("slack", 1, 400)
    emu.rate_limit_next("slack", 1, retry_after="7")
    try:
        with pytest.raises(DeliveryRejectedError):
            await sink.deliver(make_incident())
        with pytest.raises(DeliveryError) as caught:
            await sink.deliver(make_incident())
    finally:
        await sink.close()
    assert caught.value.retry_after == 7.0


async def test_secrets_never_in_errors_or_logs(emu: EmulatedReceivers, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    receivers = build_receivers(config(emu), environ=ENV)
    emu.fail_next("slack", 1, 503)
    emu.fail_next("webhook", 1, 500)
    errors = []
    for name in ("slack", "hook"):
        with pytest.raises(DeliveryError) as caught:
            await receivers[name].sink.deliver(make_incident())
        errors.append(str(caught.value))
        await receivers[name].sink.close()
    text = " ".join(errors) + caplog.text
    for secret in ("XSECRET", "QSECRET", SECRET, "pd-routing-key"):
        assert secret not in text


def test_secret_references(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_text("from-file\n")
    assert resolve_secret(f"file:{path}", "x") == "from-file"
    assert resolve_secret("${ENV:K}", "x", {"K": "v"}) == "v"
    assert resolve_secret("literal", "x", {}) == "literal"
    with pytest.raises(ConfigError, match=r"delivery.receivers.a.url: environment variable K is not set"):
        resolve_secret("${ENV:K}", "delivery.receivers.a.url", {})
    with pytest.raises(ConfigError, match="cannot read secret file"):
        resolve_secret(f"file:{tmp_path}/absent", "x")


@pytest.mark.parametrize(("url", "security", "ok"), [
    ("https://hooks.slack.com/services/T/B/X", {}, True),
    ("http://127.0.0.1:9/x", {}, False),
    ("http://localhost:9/x", {}, False),
    ("http://[::1]:9/x", {"allow_loopback": True}, True),
    ("http://169.254.169.254/latest", {"allow_loopback": True}, False),
    ("https://evil.example/x", {"allowed_hosts": ["*.slack.com", "10.0.0.0/8"]}, False),
    ("https://10.1.2.3/x", {"allowed_hosts": ["*.slack.com", "10.0.0.0/8"]}, True),
    ("ftp://hooks.slack.com/x", {}, False),
])
def test_destination_allowlist(url: str, security: dict[str, Any], ok: bool) -> None:
    config = SecurityConfig.model_validate(security)
    if ok:
        check_destination(url, config, "r")
    else:
        with pytest.raises(ConfigError):
            check_destination(url, config, "r")


def test_loopback_receiver_refused_without_explicit_allow(emu: EmulatedReceivers) -> None:
    data = config(emu).model_dump(by_alias=True)
    data["security"]["allow_loopback"] = False
    with pytest.raises(ConfigError, match="allow_loopback") as caught:
        build_receivers(DeliveryConfig.model_validate(data), environ=ENV)
    assert "QSECRET" not in str(caught.value)
