"""Configuration of delivery: the `delivery:` section (routes, receivers).

`DeliveryConfig` holds the notifications topic, security (destination allowlist, TLS), weekly time
intervals, the routing tree (`routes`, two levels under a root whose receivers are `default_receivers`)
and the receivers by kind (`aiops.sinks.receiver_config`). Cross-references (route -> receiver,
receiver -> fallback, route -> time interval) are checked here. Models only: secrets are resolved and
destinations checked when the sinks are built (`aiops.sinks.factory`), never at load time.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from aiops.config_base import StrictModel
from aiops.incidents import Priority
from aiops.sinks.receiver_config import ReceiverConfig, ReceiversConfig

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^([01]\d|2[0-4]):[0-5]\d$")


class SecurityConfig(StrictModel):
    allowed_hosts: list[str] = Field(
        default_factory=lambda: ["*"],
        description="Host globs (hooks.slack.com, *.service-now.com) or CIDRs a receiver may call; '*' = any "
                    "name or public address. Every address a destination reaches (written in any numeric or "
                    "IPv4-in-IPv6 form, or resolved at send time) is checked: a private one (10/8, 172.16/12, "
                    "192.168/16, 100.64/10, fc00::/7, ...) needs a CIDR here; unspecified, link-local (cloud "
                    "metadata), multicast and reserved ones are always refused.",
    )
    allow_loopback: bool = Field(
        False, description="Allow 127.0.0.0/8, ::1 and localhost, in any spelling (tests, demo).")
    verify_tls: bool = Field(True, description="Verify TLS certificates (turn off only for lab receivers).")


class TimeIntervalConfig(StrictModel):
    """A weekly window: these weekdays, from `start` to `end` local time (end < start spans midnight)."""

    timezone: str = "UTC"
    weekdays: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS))
    start: str = Field("00:00", description="HH:MM, inclusive.")
    end: str = Field("24:00", description="HH:MM, exclusive.")

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not _CLOCK.match(value) or (value.startswith("24") and value != "24:00"):
            raise ValueError(f"{value!r} is not HH:MM")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # noqa: PLC0415

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value


class RouteFields(StrictModel):
    """Matchers, receivers and overrides shared by both route levels. Empty matchers match everything."""

    name: str = ""
    match_labels: dict[str, str] = Field(
        default_factory=dict, description="Member labels; a value starting with '~' is a regular expression."
    )
    match_priorities: list[Priority] = Field(default_factory=list)
    match_services: list[str] = Field(default_factory=list, description="Any of the incident's services.")
    match_teams: list[str] = Field(default_factory=list, description="The owner from the service catalogue.")
    receivers: list[str] = Field(default_factory=list, description="Empty: the parent's receivers.")
    continue_: bool = Field(False, alias="continue", description="Also try the following sibling routes.")
    min_priority: Priority | None = Field(None, description="Skip less urgent incidents (None: inherit).")
    repeat_interval_seconds: float | None = Field(
        None, ge=0, description="Send `updated` versions at most this often per incident (None: inherit)."
    )
    mute_time_intervals: list[str] = Field(default_factory=list)
    active_time_intervals: list[str] = Field(default_factory=list, description="Empty: always active.")

    @field_validator("match_labels")
    @classmethod
    def _regexes(cls, value: dict[str, str]) -> dict[str, str]:
        for key, pattern in value.items():
            if pattern.startswith("~"):
                try:
                    re.compile(pattern[1:])
                except re.error as error:
                    raise ValueError(f"match_labels.{key}: bad regular expression: {error}") from None
        return value


class LeafRouteConfig(RouteFields):
    """A second-level route (no children)."""


class RouteConfig(RouteFields):
    routes: list[LeafRouteConfig] = Field(default_factory=list, description="Child routes, first match wins.")


class DeliveryConfig(StrictModel):
    notifications_topic: str = "aiops.notifications"
    notifications_partitions: int = Field(2, ge=1)
    link_template: str = Field(
        "", description="Incident link in messages, e.g. https://aiops.example/incidents/$id ('' = none)."
    )
    default_receivers: list[str] = Field(default_factory=list, description="Root route: nothing else matched.")
    min_priority: Priority = Field("P5", description="Root default of routes' min_priority.")
    repeat_interval_seconds: float = Field(
        300.0, ge=0, description="Root default: an incident's `updated` versions reach a receiver at most once per "
        "this much event time (like Alertmanager's group_interval, 5 min); `open`, `resolved` and a raised "
        "priority always go out at once; 0 sends every version.")
    security: SecurityConfig = SecurityConfig()
    time_intervals: dict[str, TimeIntervalConfig] = Field(default_factory=dict)
    routes: list[RouteConfig] = Field(default_factory=list)
    receivers: ReceiversConfig = ReceiversConfig()

    @model_validator(mode="after")
    def _references_exist(self) -> DeliveryConfig:
        names = set(self.receivers.by_name())
        for name in self.default_receivers:
            if name not in names:
                raise ValueError(f"default_receivers names unknown receiver {name!r}")
        for route in [*self.routes, *(child for parent in self.routes for child in parent.routes)]:
            label = route.name or "<unnamed route>"
            for name in route.receivers:
                if name not in names:
                    raise ValueError(f"route {label}: unknown receiver {name!r}")
            for name in [*route.mute_time_intervals, *route.active_time_intervals]:
                if name not in self.time_intervals:
                    raise ValueError(f"route {label}: unknown time interval {name!r}")
        for name, receiver in self.receivers.by_name().items():
            if receiver.fallback is not None and (receiver.fallback not in names or receiver.fallback == name):
                raise ValueError(f"receiver {name}: fallback {receiver.fallback!r} is not another receiver")
        return self

    def receiver(self, name: str) -> ReceiverConfig:
        return self.receivers.by_name()[name]


__all__ = [
    "DeliveryConfig", "LeafRouteConfig", "RouteConfig", "RouteFields", "SecurityConfig", "TimeIntervalConfig",
]
