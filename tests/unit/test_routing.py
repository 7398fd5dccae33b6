"""Routing tree: matchers, continue, inheritance, min_priority, tz-aware mute/active intervals, throttle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from support.incidents import make_incident

from aiops.cli import main as delivery_cli
from aiops.incidents import Incident
from aiops.sinks.config import DeliveryConfig, TimeIntervalConfig
from aiops.sinks.notifications import RepeatThrottle
from aiops.sinks.routing import in_interval, route_incident

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)  # a Wednesday


def delivery(**extra: Any) -> DeliveryConfig:
    data: dict[str, Any] = {
        "default_receivers": ["ops"],
        "receivers": {"webhook": {name: {"url": f"https://hooks.example.com/{name}"}
                                  for name in ("ops", "pd", "chat", "db", "itsm", "old")}},
        "time_intervals": {"lunch": {"timezone": "Europe/Berlin", "weekdays": ["wed"], "start": "13:00",
                                     "end": "15:00"}},
        **extra,
    }
    return DeliveryConfig.model_validate(data)


def incident(priority: str = "P2", services: tuple[str, ...] = ("payments",), status: str = "open",
             labels: dict[str, str] | None = None, owner: str | None = None) -> Incident:
    base = make_incident(status=status).model_dump()
    base.update(priority=priority, services=list(services))
    base["members"][0]["labels"] = labels or {}
    base["context"]["owner"] = owner
    return Incident.model_validate(base)


def receivers(config: DeliveryConfig, inc: Incident, now: datetime = NOW) -> list[str]:
    return [d.receiver for d in route_incident(config, inc, now) if d.active]


TREE = [
    {"name": "payments", "match_services": ["payments"], "receivers": ["pd"], "continue": True,
     "routes": [{"name": "p1", "match_priorities": ["P1"], "receivers": ["pd", "chat"]}]},
    {"name": "db", "match_labels": {"team": "~db.*"}, "receivers": ["db"]},
    {"name": "itsm", "match_teams": ["team-x"], "receivers": ["itsm"], "min_priority": "P2"},
]


def test_default_receiver_when_nothing_matches() -> None:
    assert receivers(delivery(routes=TREE), incident(services=("web",))) == ["ops"]


def test_first_match_continue_children_and_inheritance() -> None:
    config = delivery(routes=TREE)
    assert receivers(config, incident("P1")) == ["pd", "chat"]  # child p1 wins inside payments
    assert receivers(config, incident("P3")) == ["pd"]  # no child matched: the route itself
    # payments continues, so the db route is tried next and matches by regex label
    assert receivers(config, incident("P3", labels={"team": "dba"})) == ["pd", "db"]
    assert receivers(config, incident("P3", services=("web",), labels={"team": "dba"})) == ["db"]


def test_min_priority_filters_but_resolves_pass() -> None:
    config = delivery(routes=TREE)
    assert receivers(config, incident("P1", services=("web",), owner="team-x")) == ["itsm"]
    assert receivers(config, incident("P3", services=("web",), owner="team-x")) == ["ops"]
    assert receivers(config, incident("P3", services=("web",), owner="team-x", status="resolved")) == ["itsm"]


def test_mute_and_active_intervals_are_timezone_aware() -> None:
    tree = [{"name": "pay", "match_services": ["payments"], "receivers": ["pd"], "mute_time_intervals": ["lunch"]}]
    config = delivery(routes=tree)
    at_lunch = datetime(2024, 5, 1, 11, 30, tzinfo=UTC)  # 13:30 in Berlin (CEST)
    (decision,) = route_incident(config, incident(), at_lunch)
    assert decision.receiver == "pd"
    assert decision.muted == "muted by time interval lunch"
    assert receivers(config, incident(), at_lunch - timedelta(hours=1)) == ["pd"]
    active = delivery(routes=[{**tree[0], "mute_time_intervals": [], "active_time_intervals": ["lunch"]}])
    assert receivers(active, incident(), at_lunch) == ["pd"]
    morning = at_lunch - timedelta(hours=2)
    assert route_incident(active, incident(), morning)[0].muted == "outside active time intervals lunch"


def test_interval_spanning_midnight() -> None:
    nights = TimeIntervalConfig(timezone="UTC", weekdays=["mon"], start="22:00", end="06:00")
    assert in_interval(nights, datetime(2024, 4, 29, 23, 0, tzinfo=UTC))  # Monday 23:00
    assert in_interval(nights, datetime(2024, 4, 30, 5, 59, tzinfo=UTC))  # Tuesday early, from Monday
    assert not in_interval(nights, datetime(2024, 4, 30, 6, 0, tzinfo=UTC))
    assert not in_interval(nights, datetime(2024, 4, 30, 23, 0, tzinfo=UTC))  # Tuesday not listed


def test_a_leading_catch_all_continue_route_gets_everything_in_addition() -> None:
    """What the removed `webhooks:` list did, written as a route: first, no matchers, `continue`."""
    config = delivery(routes=[{"name": "webhooks[old]", "receivers": ["old"], "continue": True}, *TREE])
    names = [d.receiver for d in route_incident(config, incident("P1"), NOW)]
    assert names == ["old", "pd", "chat"]


@pytest.mark.parametrize(("change", "message"), [
    ({"default_receivers": ["nope"]}, "unknown receiver"),
    ({"routes": [{"receivers": ["nope"]}]}, "unknown receiver"),
    ({"routes": [{"mute_time_intervals": ["never"]}]}, "unknown time interval"),
    ({"routes": [{"match_labels": {"a": "~("}}]}, "bad regular expression"),
    ({"time_intervals": {"x": {"timezone": "Mars/Base"}}}, "unknown time zone"),
    ({"time_intervals": {"x": {"start": "25:00"}}}, "HH:MM"),
])
def test_invalid_routing_config(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        delivery(**change)


def test_receiver_validation() -> None:
    with pytest.raises(ValidationError, match="unknown template variables"):
        DeliveryConfig.model_validate({"receivers": {"slack": {"s": {"url": "x", "title_template": "$nope"}}}})
    with pytest.raises(ValidationError, match="used by both"):
        DeliveryConfig.model_validate({"receivers": {"slack": {"a": {"url": "x"}}, "teams": {"a": {"url": "x"}}}})
    with pytest.raises(ValidationError, match="fallback"):
        DeliveryConfig.model_validate({"receivers": {"slack": {"a": {"url": "x", "fallback": "a"}}}})


def test_repeat_throttle() -> None:
    throttle = RepeatThrottle()
    first = incident(status="open")
    throttle.sent(first)
    update = Incident.model_validate({**incident(status="updated").model_dump(), "version": 2})
    assert not throttle.allows(update, 300)
    later = Incident.model_validate({**update.model_dump(), "last_seen": first.last_seen + timedelta(seconds=301)})
    assert throttle.allows(later, 300)
    escalated = Incident.model_validate({**update.model_dump(), "priority": "P1"})
    assert throttle.allows(escalated, 300)
    assert throttle.allows(update, 0)


def test_routes_test_cli(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"delivery": delivery(routes=TREE).model_dump(by_alias=True)}))
    assert delivery_cli(["routes", "test", "--config", str(path), "--service", "payments", "--priority", "P1"]) == 0
    out = capsys.readouterr().out
    assert "pd: SEND via root/payments" in out
    assert "chat: SEND" in out
    inc = tmp_path / "i.json"
    inc.write_text(incident("P3", services=("web",)).model_dump_json())
    assert delivery_cli(["routes", "test", str(inc), "--config", str(path)]) == 0
    assert "ops: SEND via root: no route matched" in capsys.readouterr().out
