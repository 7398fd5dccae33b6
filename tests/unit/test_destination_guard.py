"""The SSRF guard: every loopback/private spelling is refused for every receiver kind, at start-up and at send
time; DNS answers are checked (fake resolver, no real DNS) and the connection goes to the checked address."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from ipaddress import IPv4Address
from typing import Any

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult
from support.incidents import make_incident
from support.receivers_emulated import EmulatedReceivers

from aiops.errors import ConfigError, DeliveryRejectedError
from aiops.sinks.config import DeliveryConfig, SecurityConfig
from aiops.sinks.destinations import DestinationPolicy, DestinationRefusedError, address_class, parse_host
from aiops.sinks.factory import build_receivers
from aiops.sinks.itsm import JiraSink, ServiceNowSink
from aiops.sinks.receiver_config import (
    JiraReceiverConfig,
    PagerDutyReceiverConfig,
    ServiceNowReceiverConfig,
    SlackReceiverConfig,
    TeamsReceiverConfig,
    WebhookReceiverConfig,
)
from aiops.sinks.receivers import (
    PagerDutySink,
    ReceiverSink,
    SignedWebhookSink,
    SinkOptions,
    SlackSink,
    TeamsSink,
)
from aiops.sinks.resolver import GuardedResolver

KINDS = ("webhook", "slack", "teams", "pagerduty", "servicenow", "jira")
LOOPBACK_SPELLINGS = (
    "127.0.0.1", "0x7f000001", "2130706433", "0177.0.0.1", "127.1", "127.0.0.1.", "localhost", "LOCALHOST.",
    "[::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[::7f00:1]", "[64:ff9b::7f00:1]", "[2002:7f00:1::]",
)
ALWAYS_REFUSED = ("0.0.0.0", "0", "[::]", "169.254.169.254", "0xa9fea9fe", "[::ffff:169.254.169.254]",
                  "[fe80::1]", "224.0.0.1")
PRIVATE = ("10.0.0.1", "012.0.0.1", "172.16.0.1", "192.168.1.1", "100.64.0.1", "[fd00::1]",
           "[::ffff:10.0.0.1]", "[::ffff:c0a8:101]")
REFUSED = LOOPBACK_SPELLINGS + ALWAYS_REFUSED + PRIVATE


def destination(kind: str, base: str) -> dict[str, Any]:
    """The receiver settings of `kind` whose every URL points at `base` (scheme://host:port)."""
    fast = {"timeout_seconds": 1.0}
    return {
        "webhook": {"url": f"{base}/webhook/in", "reliability": fast},
        "slack": {"url": f"{base}/slack/T/B/X", "reliability": fast},
        "teams": {"url": f"{base}/teams/wf", "reliability": fast},
        "pagerduty": {"url": f"{base}/pagerduty/v2/enqueue", "routing_key": "rk", "reliability": fast},
        "servicenow": {"instance_url": f"{base}/servicenow", "username": "u", "password": "p", "reliability": fast},
        "jira": {"base_url": f"{base}/jira", "project_key": "OPS", "email": "e", "api_token": "t",
                 "reliability": fast},
    }[kind]


def delivery(kind: str, base: str, **security: Any) -> DeliveryConfig:
    return DeliveryConfig.model_validate({"security": security, "receivers": {kind: {"r": destination(kind, base)}}})


def direct_sink(kind: str, base: str, options: SinkOptions) -> ReceiverSink:
    """The sink built without the start-up check, so only the send-time guard stands in the way."""
    settings = destination(kind, base)
    if kind == "webhook":
        return SignedWebhookSink("r", WebhookReceiverConfig.model_validate(settings), options, url=settings["url"],
                                 secret=None, headers={})
    if kind == "slack":
        return SlackSink("r", SlackReceiverConfig.model_validate(settings), options, url=settings["url"])
    if kind == "teams":
        return TeamsSink("r", TeamsReceiverConfig.model_validate(settings), options, url=settings["url"])
    if kind == "pagerduty":
        return PagerDutySink("r", PagerDutyReceiverConfig.model_validate(settings), options, routing_key="rk",
                             url=settings["url"])
    if kind == "servicenow":
        return ServiceNowSink("r", ServiceNowReceiverConfig.model_validate(settings), options,
                              instance_url=settings["instance_url"], username="u", password="p")
    return JiraSink("r", JiraReceiverConfig.model_validate(settings), options, base_url=settings["base_url"],
                    email="e", api_token="t")


class FakeResolver(AbstractResolver):
    """Answers from a table (a list of answers per name, the last one repeated); records every lookup."""

    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self.answers = answers
        self.lookups: list[str] = []

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        self.lookups.append(host)
        sequence = self.answers[host]
        addresses = sequence.pop(0) if len(sequence) > 1 else sequence[0]
        return [ResolveResult(hostname=host, host=address, port=port,
                              family=socket.AF_INET6 if ":" in address else socket.AF_INET, proto=0, flags=0)
                for address in addresses]

    async def close(self) -> None:
        return None


@pytest.fixture
async def emu() -> AsyncIterator[EmulatedReceivers]:
    async with EmulatedReceivers() as receivers:
        yield receivers


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("host", REFUSED)
def test_start_up_refuses_every_loopback_and_private_spelling(kind: str, host: str) -> None:
    with pytest.raises(ConfigError, match=r"delivery\.receivers\..*refused|not an http"):
        build_receivers(delivery(kind, f"http://{host}:9"))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("host", REFUSED)
async def test_send_time_refuses_every_spelling_before_connecting(
    emu: EmulatedReceivers, kind: str, host: str
) -> None:
    """The local receiver listens on 127.0.0.1:port, which every loopback spelling (and 0.0.0.0) reaches when
    unguarded; the request must never arrive."""
    resolver = FakeResolver({})
    sink = direct_sink(kind, f"http://{host}:{emu.port}", SinkOptions(resolver=resolver))
    try:
        with pytest.raises(DeliveryRejectedError, match="destination refused"):
            await sink.deliver(make_incident("inc-1"))
    finally:
        await sink.close()
    assert emu.requests == []
    assert resolver.lookups == []  # refused on its spelling alone, no DNS asked


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("answers", [["127.0.0.1"], ["93.184.216.34", "127.0.0.1"], ["10.1.2.3"],
                                     ["::ffff:127.0.0.1"], ["169.254.169.254"]], ids=str)
async def test_a_name_resolving_inside_is_refused_at_send_time(
    emu: EmulatedReceivers, kind: str, answers: list[str]
) -> None:
    resolver = FakeResolver({"hooks.example.test": [answers]})
    config = delivery(kind, f"http://hooks.example.test:{emu.port}")
    sink = build_receivers(config, resolver=resolver)["r"].sink  # a name passes the start-up check
    try:
        with pytest.raises(DeliveryRejectedError, match="destination refused"):
            await sink.deliver(make_incident("inc-2"))
    finally:
        await sink.close()
    assert resolver.lookups == ["hooks.example.test"]
    assert emu.requests == []


async def test_dns_rebinding_cannot_slip_between_check_and_connect(emu: EmulatedReceivers) -> None:
    """Public on the first lookup, loopback on every later one: the one lookup aiohttp makes is the one
    checked and the one connected to, so the loopback answer is refused, never used."""
    resolver = FakeResolver({"rebind.example.test": [["93.184.216.34"], ["127.0.0.1"]]})
    guarded = GuardedResolver(DestinationPolicy(), resolver)
    assert [a["host"] for a in await guarded.resolve("rebind.example.test", 80)] == ["93.184.216.34"]
    with pytest.raises(DestinationRefusedError, match=r"127\.0\.0\.1 is loopback"):
        await guarded.resolve("rebind.example.test", 80)


@pytest.mark.parametrize("kind", KINDS)
async def test_allowed_loopback_is_delivered_to_the_checked_address(emu: EmulatedReceivers, kind: str) -> None:
    """With `allow_loopback` the name's answer is used for the connection: the fake resolver's 127.0.0.1 is
    where the request lands (proof the connector connects to what the guard checked)."""
    resolver = FakeResolver({"receiver.example.test": [["127.0.0.1"]]})
    config = delivery(kind, f"http://receiver.example.test:{emu.port}", allow_loopback=True)
    sink = build_receivers(config, resolver=resolver)["r"].sink
    try:
        await sink.deliver(make_incident("inc-3"))
    finally:
        await sink.close()
    assert [call.api for call in emu.requests][:1] == [kind]
    assert resolver.lookups[:1] == ["receiver.example.test"]


@pytest.mark.parametrize("host", ["127.0.0.1", "0x7f000001", "[::ffff:127.0.0.1]", "localhost"])
async def test_allowed_loopback_spellings_deliver(emu: EmulatedReceivers, host: str) -> None:
    resolver = FakeResolver({"localhost": [["127.0.0.1"]]})
    config = delivery("webhook", f"http://{host}:{emu.port}", allow_loopback=True)
    sink = build_receivers(config, resolver=resolver)["r"].sink
    try:
        await sink.deliver(make_incident("inc-4"))
    finally:
        await sink.close()
    assert emu.accepted["webhook"] == ["inc-4:1"]


@pytest.mark.parametrize("host", ["0.0.0.0", "169.254.169.254", "[::]"])
def test_allow_loopback_never_opens_unspecified_or_link_local(host: str) -> None:
    with pytest.raises(ConfigError, match="always refused"):
        build_receivers(delivery("webhook", f"http://{host}:9", allow_loopback=True))


async def test_private_addresses_need_a_cidr_in_the_allowlist() -> None:
    listed = DestinationPolicy(("*.corp.test", "10.0.0.0/8"))
    assert listed.host_refusal("snow.corp.test") is None
    assert listed.host_refusal("10.1.2.3") is None
    assert listed.host_refusal("012.1.2.3") is None  # octal 012 = 10
    assert listed.host_refusal("192.168.1.1") is not None
    assert listed.host_refusal("hooks.slack.com") is not None  # not on the list at all
    resolver = GuardedResolver(listed, FakeResolver({"snow.corp.test": [["10.9.9.9"]],
                                                     "evil.corp.test": [["192.168.0.7"]]}))
    assert [a["host"] for a in await resolver.resolve("snow.corp.test")] == ["10.9.9.9"]
    with pytest.raises(DestinationRefusedError, match=r"192\.168\.0\.7 is private"):
        await resolver.resolve("evil.corp.test")
    with pytest.raises(DestinationRefusedError, match=r"10\.1\.2\.3 is private"):
        await GuardedResolver(DestinationPolicy(), FakeResolver({"x.test": [["10.1.2.3"]]})).resolve("x.test")


@pytest.mark.parametrize(("host", "address"), [
    ("0x7f000001", "127.0.0.1"), ("2130706433", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"), ("127.1", "127.0.0.1"),
    ("10.1", "10.0.0.1"), ("1.0x10.3", "1.16.0.3"), ("0", "0.0.0.0"), ("[::ffff:7f00:1]", "127.0.0.1"),
    ("::ffff:0:a00:1", "10.0.0.1"), ("Hooks.Slack.COM.", "hooks.slack.com"),
])
def test_parse_host_reads_what_the_system_resolver_reads(host: str, address: str) -> None:
    assert str(parse_host(host)) == address


@pytest.mark.parametrize("host", ["evil.123", "1.2.3.4.5", "0x100000000", "256.1.1.1", "08.0.0.1", "[::zz]", "."])
def test_malformed_numeric_hosts_are_refused(host: str) -> None:
    with pytest.raises(ValueError, match="host"):
        parse_host(host)
    assert DestinationPolicy(allow_loopback=True).host_refusal(host) is not None


def test_public_addresses_pass() -> None:
    assert address_class(IPv4Address("93.184.216.34")) == "public"
    assert DestinationPolicy().host_refusal("93.184.216.34") is None
    assert DestinationPolicy.of(SecurityConfig(allowed_hosts=["hooks.slack.com"])).host_refusal("8.8.8.8") is not None
