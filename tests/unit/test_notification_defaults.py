"""Default notification pacing: one incident pages on open, on escalation, at most every 5 min (event time)
while it changes, and when it ends; repeat_interval 0 (at the root or on a route) still gets every version."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from support.incidents import make_incident

from aiops.config import AiopsConfig
from aiops.incidents import Incident
from aiops.sinks.config import DeliveryConfig
from aiops.sinks.notifications import RepeatThrottle
from aiops.sinks.routing import route_incident

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
T0 = make_incident().last_seen


def _version(number: int, status: str, priority: str, seconds: float) -> Incident:
    data = make_incident(version=number, status=status).model_dump()
    data.update(priority=priority, last_seen=T0 + timedelta(seconds=seconds))
    return Incident.model_validate(data)


def _cascade() -> list[Incident]:
    """What the demo's cascade looks like on the topic: a version every 30 s of event time for 9 minutes,
    escalating P3 -> P1 at v3, then resolved."""
    versions = [_version(1, "open", "P3", 0)]
    versions += [_version(n, "updated", "P3" if n < 3 else "P1", 30 * (n - 1)) for n in range(2, 19)]
    return [*versions, _version(19, "resolved", "P1", 600)]


def _sent(config: DeliveryConfig, versions: list[Incident]) -> list[int]:
    """Versions the receiver `ops` gets, as the delivery worker decides (route, then repeat throttle)."""
    throttle = RepeatThrottle()
    sent = []
    for incident in versions:
        (decision,) = route_incident(config, incident, NOW)
        if throttle.allows(incident, decision.repeat_interval_seconds):
            throttle.sent(incident)
            sent.append(incident.version)
    return sent


def _ops(**extra: object) -> DeliveryConfig:
    return DeliveryConfig.model_validate({
        "default_receivers": ["ops"], "receivers": {"webhook": {"ops": {"url": "https://hooks.example.com/o"}}},
        **extra})


def test_default_is_five_minutes_of_event_time_like_alertmanagers_group_interval() -> None:
    assert AiopsConfig().delivery.repeat_interval_seconds == 300.0


def test_one_incident_pages_on_open_escalation_every_5_min_and_resolve_not_on_every_version() -> None:
    versions = _cascade()
    # v1 open; v3 raised priority (at once); v13 the first update 5 min after v3; v19 the resolve.
    assert _sent(_ops(), versions) == [1, 3, 13, 19]
    assert len(versions) == 19


def test_zero_sends_every_version() -> None:
    assert _sent(_ops(repeat_interval_seconds=0), _cascade()) == list(range(1, 20))


def test_a_route_with_zero_gets_every_version_under_the_default_root() -> None:
    """What the removed `webhooks:` list did (every version), written as a catch-all route with 0."""
    config = _ops(routes=[{"name": "every-version", "receivers": ["ops"], "continue": True,
                           "repeat_interval_seconds": 0}])
    assert config.repeat_interval_seconds == 300.0
    assert _sent(config, _cascade()) == list(range(1, 20))
