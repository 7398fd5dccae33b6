"""Suppression: silence edges, maintenance windows (midnight, DST in non-UTC zones), inhibition, policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from aiops.correlation.suppression.config import SuppressionConfig
from aiops.correlation.suppression.matchers import Matcher
from aiops.correlation.suppression.rules import InhibitionRule, MaintenanceWindow, Silence, SuppressionPolicy, Verdict

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def _epoch(year: int, month: int, day: int, hour: int, minute: int, zone: ZoneInfo, fold: int = 0) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=zone, fold=fold).timestamp()


def _silence(matchers: list[str], start: datetime = T0, hours: float = 2.0, sid: str = "s1") -> Silence:
    return Silence(id=sid, matchers=[Matcher.parse(m) for m in matchers], starts_at=start,
                   ends_at=start + timedelta(hours=hours), author="alice", comment="deploy", created_at=start)


CHECKOUT = {"service": "checkout", "host": "h1", "name": "HighLatency", "severity": "warning"}


# --- silences -------------------------------------------------------------------------------------------

def test_silence_window_is_half_open() -> None:
    silence = _silence(["service=checkout"])
    start, end = T0.timestamp(), T0.timestamp() + 7200
    assert not silence.active(start - 0.001)
    assert silence.active(start)
    assert silence.active(end - 0.001)
    assert not silence.active(end)
    assert [silence.state(t) for t in (start - 1, start, end)] == ["pending", "active", "expired"]


def test_silence_matches_all_matchers_with_regex_ops() -> None:
    silence = _silence(['service=~"check.*"', 'name!~"Disk.*"', "host!=h2"])
    assert silence.matches(CHECKOUT)
    assert not silence.matches({**CHECKOUT, "name": "DiskFull"})
    assert not silence.matches({**CHECKOUT, "host": "h2"})
    assert not silence.matches({**CHECKOUT, "service": "precheckout"})


def test_silence_validation_and_defaults() -> None:
    with pytest.raises(ValidationError):
        Silence(id="x", matchers=[], starts_at=T0, ends_at=T0, created_at=T0)
    with pytest.raises(ValidationError):
        Silence(id="x", matchers=["a=b"], starts_at=T0, ends_at=T0 - timedelta(seconds=1), created_at=T0)
    with pytest.raises(ValidationError):  # naive datetimes are refused
        Silence(id="x", matchers=["a=b"], starts_at=datetime(2024, 1, 1), ends_at=datetime(2024, 1, 2), created_at=T0)
    silence = Silence.model_validate({"id": "x", "matchers": ["a=b"], "starts_at": "2024-06-01T14:00:00+02:00",
                                      "ends_at": "2024-06-01T13:00:00Z"})
    assert silence.created_at == silence.starts_at == T0
    assert Silence.model_validate_json(silence.model_dump_json()) == silence


def test_expired_silence() -> None:
    silence = _silence(["a=b"])
    ended = silence.expired(T0 + timedelta(minutes=30))
    assert ended.id == silence.id
    assert ended.ends_at == T0 + timedelta(minutes=30)
    assert not ended.active(T0.timestamp() + 1800)
    assert ended.expired(T0 + timedelta(hours=5)) == ended  # expiring again changes nothing
    future = _silence(["a=b"], start=T0 + timedelta(days=1)).expired(T0)
    assert future.starts_at == future.ends_at == T0
    assert not future.active(T0.timestamp())


# --- maintenance windows --------------------------------------------------------------------------------

def _window(start: str, minutes: int, zone: str, weekdays: list[int] | None = None) -> MaintenanceWindow:
    return MaintenanceWindow(name="mw", matchers=["service=batch"], weekdays=weekdays, start=start,
                             duration_minutes=minutes, timezone=zone)


def test_maintenance_crossing_midnight_belongs_to_its_start_day() -> None:
    window = _window("23:00", 120, "America/New_York", weekdays=[4])  # Fridays 23:00-01:00 local
    assert not window.active(_epoch(2024, 6, 7, 22, 59, NEW_YORK))
    assert window.active(_epoch(2024, 6, 7, 23, 0, NEW_YORK))
    assert window.active(_epoch(2024, 6, 8, 0, 30, NEW_YORK))  # Saturday morning, started Friday
    assert not window.active(_epoch(2024, 6, 8, 1, 0, NEW_YORK))
    assert not window.active(_epoch(2024, 6, 8, 23, 30, NEW_YORK))  # Saturday is not a start day
    assert not window.active(_epoch(2024, 6, 6, 23, 30, NEW_YORK))  # nor Thursday
    begin, end = window.occurrence(_epoch(2024, 6, 8, 0, 30, NEW_YORK)) or (0, 0)
    assert (begin, end - begin) == (_epoch(2024, 6, 7, 23, 0, NEW_YORK), 7200)


def test_maintenance_daily_follows_local_time_across_dst() -> None:
    window = _window("22:00", 60, "Europe/Berlin")
    winter = _epoch(2024, 1, 15, 22, 30, BERLIN)
    summer = _epoch(2024, 7, 15, 22, 30, BERLIN)
    assert window.active(winter)
    assert window.active(summer)
    assert datetime.fromtimestamp(winter, UTC).hour == 21
    assert datetime.fromtimestamp(summer, UTC).hour == 20
    assert not window.active(_epoch(2024, 7, 15, 21, 30, BERLIN))


def test_maintenance_spanning_spring_forward_lasts_real_minutes() -> None:
    # 2024-03-31 Berlin: 02:00 CET -> 03:00 CEST. 01:30 + 120 real minutes ends at 04:30 CEST, not 03:30.
    window = _window("01:30", 120, "Europe/Berlin", weekdays=[6])
    assert window.active(_epoch(2024, 3, 31, 1, 30, BERLIN))
    assert window.active(_epoch(2024, 3, 31, 4, 29, BERLIN))
    assert not window.active(_epoch(2024, 3, 31, 4, 30, BERLIN))
    assert not window.active(_epoch(2024, 3, 31, 1, 29, BERLIN))


def test_maintenance_start_inside_spring_forward_gap() -> None:
    # 02:30 does not exist on 2024-03-31 in Berlin; read with the pre-transition offset (fold=0) = 03:30 CEST.
    window = _window("02:30", 30, "Europe/Berlin")
    assert not window.active(_epoch(2024, 3, 31, 3, 29, BERLIN))
    assert window.active(_epoch(2024, 3, 31, 3, 30, BERLIN))
    assert window.active(_epoch(2024, 3, 31, 3, 59, BERLIN))
    assert not window.active(_epoch(2024, 3, 31, 4, 0, BERLIN))


def test_maintenance_spanning_fall_back() -> None:
    # 2024-11-03 New York: 02:00 EDT -> 01:00 EST. 00:30 EDT + 120 min ends at the *second* 01:30 (EST).
    window = _window("00:30", 120, "America/New_York")
    first_0130 = _epoch(2024, 11, 3, 1, 30, NEW_YORK, fold=0)
    second_0100 = _epoch(2024, 11, 3, 1, 0, NEW_YORK, fold=1)
    second_0130 = _epoch(2024, 11, 3, 1, 30, NEW_YORK, fold=1)
    assert window.active(first_0130)
    assert window.active(second_0100)
    assert window.active(second_0130 - 1)
    assert not window.active(second_0130)


def test_maintenance_ambiguous_start_is_first_occurrence() -> None:
    window = _window("01:30", 15, "America/New_York", weekdays=[6])  # 2024-11-03 is a Sunday
    assert window.active(_epoch(2024, 11, 3, 1, 40, NEW_YORK, fold=0))
    assert not window.active(_epoch(2024, 11, 3, 1, 40, NEW_YORK, fold=1))


def test_maintenance_longer_than_a_day() -> None:
    window = _window("20:00", 3 * 1440, "UTC", weekdays=[0])  # Monday 20:00 .. Thursday 20:00
    monday = datetime(2024, 6, 3, 20, 0, tzinfo=UTC).timestamp()
    assert window.active(monday + 2.9 * 86400)
    assert not window.active(monday + 3 * 86400)
    daily = _window("20:00", 2 * 1440, "UTC")  # overlapping occurrences: the one ending last is reported
    assert daily.occurrence(monday + 86400 + 3600) == (monday + 86400, monday + 3 * 86400)


@pytest.mark.parametrize(
    "bad",
    [{"start": "24:00"}, {"start": "7:00"}, {"start": "07:60"}, {"timezone": "Mars/Olympus"},
     {"weekdays": [7]}, {"weekdays": []}, {"duration_minutes": 0}, {"duration_minutes": 7 * 1440 + 1},
     {"matchers": []}],
)
def test_maintenance_validation(bad: dict[str, object]) -> None:
    data = {"name": "mw", "matchers": ["service=x"], "start": "07:00", "duration_minutes": 60, **bad}
    with pytest.raises(ValidationError):
        MaintenanceWindow.model_validate(data)


# --- inhibition -----------------------------------------------------------------------------------------

NODE_DOWN = InhibitionRule(name="node-down", source_matchers=["name=NodeDown"],
                           target_matchers=['severity!="critical"'], equal=["host"])


def test_inhibition_needs_equal_labels() -> None:
    source = {"name": "NodeDown", "host": "h1", "severity": "critical", "service": "infra"}
    assert NODE_DOWN.inhibits(CHECKOUT, [source])
    assert not NODE_DOWN.inhibits(CHECKOUT, [{**source, "host": "h2"}])
    assert not NODE_DOWN.inhibits({**CHECKOUT, "severity": "critical"}, [source])  # not a target
    assert not NODE_DOWN.inhibits(CHECKOUT, [{**source, "name": "Other"}])  # not a source
    assert not NODE_DOWN.inhibits(CHECKOUT, [])


def test_inhibition_equal_label_absent_on_both_sides_counts_as_equal() -> None:
    rule = InhibitionRule(source_matchers=["name=A"], target_matchers=["name=B"], equal=["cluster"])
    assert rule.inhibits({"name": "B"}, [{"name": "A"}])
    assert not rule.inhibits({"name": "B"}, [{"name": "A", "cluster": "eu"}])


def test_member_never_inhibits_itself_or_two_sided_lookalikes() -> None:
    rule = InhibitionRule(source_matchers=['severity=~"warning|critical"'], target_matchers=["severity=warning"],
                          equal=["service"])
    warning = {"service": "checkout", "name": "A", "severity": "warning"}
    assert not rule.inhibits(warning, [warning])
    assert not rule.inhibits(warning, [{**warning, "name": "B"}])  # also matches both sides
    assert rule.inhibits(warning, [warning, {**warning, "name": "C", "severity": "critical"}])


# --- policy ---------------------------------------------------------------------------------------------

def test_policy_precedence_silence_then_maintenance_then_inhibition() -> None:
    at = T0.timestamp() + 60
    silence = _silence(["service=checkout"], sid="sil-1")
    window = MaintenanceWindow(name="noon", matchers=["service=checkout"], start="11:00", duration_minutes=180)
    source = {"name": "NodeDown", "host": "h1", "service": "infra"}
    full = SuppressionPolicy(silences=(silence,), maintenance=(window,), inhibitions=(NODE_DOWN,))
    verdict = full.check(CHECKOUT, at, [source])
    assert (verdict.suppressed, verdict.by, verdict.ref) == (True, "silence", "sil-1")
    assert "alice" in verdict.reason
    assert "deploy" in verdict.reason
    no_silence = full.with_silences([])
    verdict = no_silence.check(CHECKOUT, at, [source])
    assert (verdict.by, verdict.ref) == ("maintenance", "noon")
    assert "2024-06-01T14:00:00" in verdict.reason
    inhibition_only = SuppressionPolicy(inhibitions=(NODE_DOWN,))
    verdict = inhibition_only.check(CHECKOUT, at, iter([source]))
    assert (verdict.by, verdict.ref) == ("inhibition", "node-down")
    assert "NodeDown" in verdict.reason
    assert full.check({**CHECKOUT, "service": "cart"}, at, []) == Verdict(suppressed=False)
    assert not full.check(CHECKOUT, T0.timestamp() + 4 * 3600, []).suppressed  # all expired, no source


def test_policy_from_config_keeps_static_silences_when_swapping_dynamic_ones() -> None:
    config = SuppressionConfig.model_validate({
        "silences": [{"id": "static", "matchers": ["service=cart"], "starts_at": "2024-06-01T00:00:00Z",
                      "ends_at": "2024-06-02T00:00:00Z"}],
        "inhibitions": [{"source_matchers": ["name=A"], "target_matchers": ["name=B"]}],
    })
    policy = config.policy().with_silences([_silence(["service=checkout"], sid="dyn")])
    at = T0.timestamp()
    assert policy.check({"service": "cart"}, at).ref == "static"
    assert policy.check(CHECKOUT, at).ref == "dyn"
    assert policy.with_silences([]).check(CHECKOUT, at).suppressed is False
    assert policy.check({"name": "B"}, at, [{"name": "A"}]).ref == "inhibition[0]"
    disabled = SuppressionConfig.model_validate({**config.model_dump(), "enabled": False}).policy()
    assert disabled.with_silences([_silence(["service=checkout"])]).check(CHECKOUT, at).suppressed is False
    assert SuppressionPolicy().empty
    assert disabled.empty
    assert not policy.empty


def test_config_rejects_unknown_keys() -> None:
    with pytest.raises(ValidationError):
        SuppressionConfig.model_validate({"silencez": []})
    with pytest.raises(ValidationError):
        SuppressionConfig.model_validate({"flapping": {"window": 3}})
