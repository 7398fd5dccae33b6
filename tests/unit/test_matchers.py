"""Matchers: operators, anchored regexes, parsing (quoted values, escapes, errors), member attributes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import BaseModel, ValidationError

from aiops.config_base import StrictModel
from aiops.correlation.incident_state import MemberState
from aiops.correlation.suppression.matchers import Matcher, MatcherSyntaxError, member_attributes, parse_matchers
from aiops.errors import ConfigError
from aiops.signals import Signal


@pytest.mark.parametrize(
    ("text", "attrs", "expected"),
    [
        ("service=checkout", {"service": "checkout"}, True),
        ("service=checkout", {"service": "checkouts"}, False),
        ("service!=checkout", {"service": "cart"}, True),
        ("service!=checkout", {"service": "checkout"}, False),
        ('service=~"check.*"', {"service": "checkout"}, True),
        ('service=~"check.*"', {"service": "my-checkout"}, False),  # fully anchored
        ('service=~"out"', {"service": "checkout"}, False),
        ('service!~"check.*"', {"service": "my-checkout"}, True),
        ('service!~"check.*"', {"service": "checkout"}, False),
        ('team=""', {"service": "x"}, True),  # absent attribute matches as ""
        ('team!=""', {"service": "x"}, False),
        ('team=~".*"', {}, True),
        ('team=~".+"', {}, False),
    ],
)
def test_operators(text: str, attrs: dict[str, str], expected: bool) -> None:
    assert Matcher.parse(text).matches(attrs) is expected


@pytest.mark.parametrize(
    ("text", "name", "op", "value"),
    [
        ("service=checkout", "service", "=", "checkout"),
        ('  service = "checkout"  ', "service", "=", "checkout"),
        ('service=~"check.*"', "service", "=~", "check.*"),
        ('name!~"Disk\\.Full"', "name", "!~", "Disk\\.Full"),  # regex escape kept as written
        ('summary="say \\"hi\\" \\\\ bye"', "summary", "=", 'say "hi" \\ bye'),
        ("k8s.io/app=web", "k8s.io/app", "=", "web"),
        ("env=", "env", "=", ""),
        ("expr=a=b", "expr", "=", "a=b"),
    ],
)
def test_parse(text: str, name: str, op: str, value: str) -> None:
    matcher = Matcher.parse(text)
    assert (matcher.name, matcher.op, matcher.value) == (name, op, value)


def test_str_round_trips() -> None:
    for text in ['service=~"check.*"', 'summary="say \\"hi\\""', "env!=prod", 'name=~"a\\\\.b"']:
        matcher = Matcher.parse(text)
        assert Matcher.parse(str(matcher)) == matcher


@pytest.mark.parametrize("text", ["", "service", "=x", 'service="open', 'service=~"(unclosed"', 'a="x"y"'])
def test_parse_errors_are_config_errors(text: str) -> None:
    with pytest.raises(MatcherSyntaxError) as caught:
        Matcher.parse(text)
    assert isinstance(caught.value, ConfigError)


def test_pydantic_field_accepts_text_or_mapping_and_rejects_bad_regex() -> None:
    class Holder(StrictModel):
        matchers: list[Matcher]

    holder = Holder.model_validate({"matchers": ['service=~"a|b"', {"name": "host", "op": "!=", "value": "h1"}]})
    assert holder.matchers == [Matcher(name="service", op="=~", value="a|b"), Matcher(name="host", op="!=", value="h1")]
    with pytest.raises(ValidationError):
        Holder.model_validate({"matchers": ['service=~"("']})
    with pytest.raises(ValidationError):
        Holder.model_validate({"matchers": [{"name": "service", "op": "==", "value": "x"}]})
    assert isinstance(holder, BaseModel)
    assert holder.model_dump()["matchers"][0] == {"name": "service", "op": "=~", "value": "a|b"}


def test_parse_matchers() -> None:
    assert [str(m) for m in parse_matchers(["a=1", 'b=~"x"'])] == ['a="1"', 'b=~"x"']


def test_member_attributes_fixed_keys_win_over_labels() -> None:
    now = datetime(2024, 6, 1, tzinfo=UTC)
    signal = Signal(
        origin="alert", fingerprint="f1", name="HighLatency", service="checkout", host="h1",
        labels={"service": "spoofed", "team": "payments", "status": "weird"}, status="firing",
        severity="critical", ts=now, started_at=now,
    )
    attrs = member_attributes(signal)
    assert attrs == {
        "service": "checkout", "host": "h1", "name": "HighLatency", "alertname": "HighLatency",
        "origin": "alert", "severity": "critical", "status": "firing", "team": "payments",
    }
    assert Matcher.parse("alertname=HighLatency").matches(attrs)


def test_member_attributes_of_a_correlation_member() -> None:
    member = MemberState(fingerprint="f", origin="metric_anomaly", name="latency_p99", service="cart",
                         labels={"team": "web"}, status="resolved", severity="major", first_seen=0.0, last_seen=1.0)
    attrs = member_attributes(member)
    assert attrs["service"] == "cart"
    assert attrs["host"] == ""
    assert attrs["status"] == "resolved"
    assert attrs["team"] == "web"
