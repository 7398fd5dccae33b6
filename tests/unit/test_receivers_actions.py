"""Receivers get the effect of operator actions: PagerDuty acknowledge/resolve on the same dedup_key,
ServiceNow's state (In Progress on acknowledge, New on unacknowledge or reopen, resolved), Jira comments
that name who did what and why."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from support.incidents import make_incident
from support.receivers_emulated import EmulatedReceivers

from aiops.incidents import Change, Incident
from aiops.sinks.config import DeliveryConfig
from aiops.sinks.factory import build_receivers
from aiops.sinks.notifications import RepeatThrottle

ENV = {"PD_KEY": "pd-routing-key"}


@pytest.fixture
async def emu() -> AsyncIterator[EmulatedReceivers]:
    async with EmulatedReceivers(webhook_secret="unused") as receivers:
        yield receivers


def config(emu: EmulatedReceivers) -> DeliveryConfig:
    base = emu.url
    return DeliveryConfig.model_validate({
        "security": {"allow_loopback": True},
        "receivers": {
            "pagerduty": {"pd": {"url": base("pagerduty", "v2/enqueue"), "routing_key": "${ENV:PD_KEY}",
                                 "on_update": "skip"}},
            "servicenow": {"snow": {"instance_url": base("servicenow", ""), "username": "u", "password": "p"}},
            "jira": {"jira": {"base_url": base("jira", ""), "project_key": "OPS", "email": "e", "api_token": "t"}},
        },
    })


def acted(inc: Incident, version: int, status: str, action: str | None, reason: str = "", **fields: Any) -> Incident:
    change = Change(action=action, action_id=f"a{version}" if action else "", actor="alice" if action else "",
                    reason=reason)
    return inc.model_copy(update={"version": version, "idempotency_key": f"{inc.id}:{version}", "status": status,
                                  "change": change, **fields})


async def deliver(emu: EmulatedReceivers, name: str, *versions: Incident) -> None:
    sink = build_receivers(config(emu), environ=ENV)[name].sink
    try:
        for version in versions:
            await sink.deliver(version)
    finally:
        await sink.close()


async def test_pagerduty_gets_acknowledge_and_resolve_by_hand_with_the_same_dedup_key(emu: EmulatedReceivers) -> None:
    inc = make_incident("inc-pd")
    await deliver(emu, "pd", inc, acted(inc, 2, "updated", "acknowledge", acknowledged_by="alice"),
                  acted(inc, 3, "updated", "note", "note by alice: db failover"),
                  acted(inc, 4, "resolved", "resolve", resolved_by="alice"))
    assert emu.pagerduty == {"inc-pd": ["trigger", "acknowledge", "resolve"]}  # a note sends nothing (skip)
    acknowledge = emu.calls("pagerduty")[1].body
    assert (acknowledge["dedup_key"], acknowledge["routing_key"]) == ("inc-pd", "pd-routing-key")


async def test_servicenow_state_follows_acknowledge_unacknowledge_and_resolve(emu: EmulatedReceivers) -> None:
    inc = make_incident("inc-sn")
    states = []
    sink_versions = [inc, acted(inc, 2, "updated", "acknowledge", "acknowledge by alice: on it"),
                     acted(inc, 3, "updated", "unacknowledge"), acted(inc, 4, "updated", None),
                     acted(inc, 5, "resolved", "resolve")]
    for version in sink_versions:
        await deliver(emu, "snow", version)
        (record,) = emu.servicenow.values()
        states.append(record.get("state"))
    assert states == [None, "2", "1", "1", "6"]
    assert "acknowledge by alice: on it" in record["notes"][1]


async def test_jira_comments_name_the_operator_and_the_note(emu: EmulatedReceivers) -> None:
    inc = make_incident("inc-j")
    await deliver(emu, "jira", inc, acted(inc, 2, "updated", "note", "note by alice: db failover at 12:03"),
                  acted(inc, 3, "updated", "acknowledge", "acknowledge by alice"))
    (issue,) = emu.jira.values()
    first, second = issue["comments"]
    assert first.splitlines()[:2] == ["inc-j:2 updated", "note by alice: db failover at 12:03"]
    assert second.splitlines()[:2] == ["inc-j:3 updated", "acknowledge by alice"]


def test_the_repeat_throttle_never_holds_an_operator_actions_version() -> None:
    throttle = RepeatThrottle()
    first = make_incident("inc-t")
    throttle.sent(first)
    assert not throttle.allows(acted(first, 2, "updated", None), 300)
    assert throttle.allows(acted(first, 2, "updated", "acknowledge"), 300)
