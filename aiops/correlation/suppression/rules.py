"""Suppression rules: silences, recurring maintenance windows, inhibition, and the policy combining them.

- `Silence`: matchers active in the half-open event-time interval ``[starts_at, ends_at)``. Static ones
  come from config, dynamic ones from the silences topic (`aiops.runtime.silences`); an expired silence is
  the same id with ``ends_at`` moved to the expiry time.
- `MaintenanceWindow`: a recurring local-time window in an IANA zone on chosen weekdays, lasting real
  (elapsed) time, so it may cross midnight and a DST change (`occurrence` says how).
- `InhibitionRule`: Alertmanager semantics; a member never inhibits itself (`inhibiting_source`).
- `SuppressionPolicy.check` → `Verdict`; precedence silence > maintenance > inhibition, first match in
  list order (static silences before dynamic ones).

Pure: event-time epoch seconds are passed in, no clock, no I/O. This module does not decide what a
suppressed member does to an incident (the correlator does) and does not read the silences topic.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from aiops.config_base import StrictModel
from aiops.correlation.suppression.matchers import Matcher, all_match, format_matchers
from aiops.events import UtcDatetime

SuppressedBy = Literal["silence", "maintenance", "inhibition"]
_MAX_WINDOW_MINUTES = 7 * 24 * 60


class Silence(StrictModel):
    """Mute members matching all `matchers` from `starts_at` (inclusive) to `ends_at` (exclusive)."""

    id: str = Field(min_length=1)
    matchers: list[Matcher] = Field(min_length=1)
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    author: str = ""
    comment: str = ""
    created_at: UtcDatetime = Field(description="When it was created; defaults to starts_at.")

    @model_validator(mode="before")
    @classmethod
    def _default_created_at(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and data.get("created_at") is None and "starts_at" in data:
            return {**data, "created_at": data["starts_at"]}
        return data

    @model_validator(mode="after")
    def _check(self) -> Silence:
        if self.ends_at < self.starts_at:
            raise ValueError(f"silence {self.id}: ends_at is before starts_at")
        return self

    def active(self, at: float) -> bool:
        return self.starts_at.timestamp() <= at < self.ends_at.timestamp()

    def state(self, at: float) -> Literal["pending", "active", "expired"]:
        if at < self.starts_at.timestamp():
            return "pending"
        return "active" if at < self.ends_at.timestamp() else "expired"

    def matches(self, attrs: Mapping[str, str]) -> bool:
        return all_match(self.matchers, attrs)

    def expired(self, at: datetime) -> Silence:
        """This silence ended at `at` (a not-yet-started one collapses to an empty interval at `at`; one
        that already ended is returned unchanged)."""
        if at >= self.ends_at:
            return self
        starts_at = min(self.starts_at, at)
        return self.model_copy(update={"starts_at": starts_at, "ends_at": max(at, starts_at)})


class MaintenanceWindow(StrictModel):
    """A recurring local-time window during which matching members are suppressed."""

    name: str = Field(min_length=1)
    matchers: list[Matcher] = Field(min_length=1)
    weekdays: list[int] | None = Field(None, description="0 = Monday .. 6 = Sunday; None = every day.")
    start: str = Field(description="Local wall time HH:MM the window starts.")
    duration_minutes: int = Field(gt=0, le=_MAX_WINDOW_MINUTES)
    timezone: str = "UTC"

    @field_validator("weekdays")
    @classmethod
    def _weekdays(cls, weekdays: list[int] | None) -> list[int] | None:
        if weekdays is not None and (not weekdays or any(day < 0 or day > 6 for day in weekdays)):
            raise ValueError("weekdays must be a non-empty list of 0 (Monday) .. 6 (Sunday), or null")
        return weekdays

    @field_validator("start")
    @classmethod
    def _start(cls, start: str) -> str:
        _parse_hhmm(start)
        return start

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {name!r}") from error
        return name

    def occurrence(self, at: float) -> tuple[float, float] | None:
        """``(start, end)`` epoch seconds of the latest-starting occurrence covering `at`, or None.

        An occurrence starts at ``start`` (HH:MM wall time in ``timezone``) on each of ``weekdays`` (0 =
        Monday .. 6 = Sunday; None = every day) and lasts ``duration_minutes`` of real (elapsed) time, so it
        may cross midnight (the weekday is the day it *starts*) and a DST change. A start time that does not
        exist on a spring-forward day is read with the pre-transition offset (PEP 495 ``fold=0``: 02:30 in a
        02:00→03:00 gap starts at 03:30); an ambiguous one on a fall-back day is its first occurrence."""
        zone = ZoneInfo(self.timezone)  # zoneinfo caches instances per key
        local_day = datetime.fromtimestamp(at, tz=zone).date()
        wall = _parse_hhmm(self.start)
        span = self.duration_minutes * 60
        for back in range(self.duration_minutes // 1440 + 2):  # newest first: it ends last
            day: date = local_day - timedelta(days=back)
            if self.weekdays is not None and day.weekday() not in self.weekdays:
                continue
            begin = datetime.combine(day, wall, tzinfo=zone).timestamp()
            if begin <= at < begin + span:
                return begin, begin + span
        return None

    def active(self, at: float) -> bool:
        return self.occurrence(at) is not None

    def matches(self, attrs: Mapping[str, str]) -> bool:
        return all_match(self.matchers, attrs)


def _parse_hhmm(text: str) -> time:
    parts = text.split(":")
    if len(parts) != 2 or not all(part.isdigit() and len(part) == 2 for part in parts):
        raise ValueError(f"start must be HH:MM, got {text!r}")
    hour, minute = int(parts[0]), int(parts[1])
    if hour > 23 or minute > 59:
        raise ValueError(f"start must be HH:MM within a day, got {text!r}")
    return time(hour, minute)


class InhibitionRule(StrictModel):
    """While a firing source matches, mute targets that share the `equal` labels with it."""

    name: str = ""
    source_matchers: list[Matcher] = Field(min_length=1)
    target_matchers: list[Matcher] = Field(min_length=1)
    equal: list[str] = Field(default_factory=list)

    def inhibiting_source(
        self, target_attrs: Mapping[str, str], firing_source_attrs: Iterable[Mapping[str, str]]
    ) -> Mapping[str, str] | None:
        """The first firing source inhibiting the target, or None.

        Alertmanager semantics: a target matching ``target_matchers`` is inhibited while some *firing*
        source matches ``source_matchers`` and has the same value (absent = empty) for every label in
        ``equal``. When the target itself matches both sides, sources that also match both sides are
        ignored, so a member never inhibits itself (nor its look-alikes)."""
        if not all_match(self.target_matchers, target_attrs):
            return None
        two_sided = all_match(self.source_matchers, target_attrs)
        for source in firing_source_attrs:
            if not all_match(self.source_matchers, source):
                continue
            if any(source.get(label, "") != target_attrs.get(label, "") for label in self.equal):
                continue
            if two_sided and all_match(self.target_matchers, source):
                continue  # Alertmanager: a member matching both sides is not inhibited by its look-alikes
            return source
        return None

    def inhibits(self, target_attrs: Mapping[str, str], firing_source_attrs: Iterable[Mapping[str, str]]) -> bool:
        return self.inhibiting_source(target_attrs, firing_source_attrs) is not None


class Verdict(StrictModel):
    """Whether a member is suppressed, by which kind of rule, which one (`ref`) and why (for humans)."""

    suppressed: bool
    by: SuppressedBy | None = None
    ref: str | None = None
    reason: str = ""


NOT_SUPPRESSED = Verdict(suppressed=False)


class SuppressionPolicy(StrictModel):
    """Static rules plus the current dynamic silences; `check` one member's attributes at an event time."""

    silences: tuple[Silence, ...] = Field(default=(), description="Dynamic silences (the silences topic).")
    maintenance: tuple[MaintenanceWindow, ...] = ()
    inhibitions: tuple[InhibitionRule, ...] = ()
    static_silences: tuple[Silence, ...] = Field(default=(), description="Silences from config.")
    disabled: bool = Field(False, description="True: `check` suppresses nothing (suppression.enabled=false).")

    def with_silences(self, silences: Iterable[Silence]) -> SuppressionPolicy:
        """The same policy with the dynamic silence set replaced (static silences are kept)."""
        return self.model_copy(update={"silences": tuple(silences)})

    @property
    def empty(self) -> bool:
        return self.disabled or not (self.silences or self.static_silences or self.maintenance or self.inhibitions)

    def check(
        self, attrs: Mapping[str, str], at: float, firing_attrs: Iterable[Mapping[str, str]] = ()
    ) -> Verdict:
        """Silence first, then maintenance, then inhibition by the firing members in `firing_attrs`."""
        if self.disabled:
            return NOT_SUPPRESSED
        for silence in (*self.static_silences, *self.silences):
            if silence.active(at) and silence.matches(attrs):
                return _silence_verdict(silence)
        for window in self.maintenance:
            occurrence = window.occurrence(at) if window.matches(attrs) else None
            if occurrence is not None:
                return Verdict(
                    suppressed=True, by="maintenance", ref=window.name,
                    reason=f"maintenance window {window.name} ({window.start} {window.timezone}, "
                    f"{window.duration_minutes} min) until {_iso(occurrence[1])}",
                )
        if not self.inhibitions:
            return NOT_SUPPRESSED
        sources: Sequence[Mapping[str, str]] = list(firing_attrs)
        for index, rule in enumerate(self.inhibitions):
            source = rule.inhibiting_source(attrs, sources)
            if source is not None:
                ref = rule.name or f"inhibition[{index}]"
                keys = dict.fromkeys(("service", "name", *rule.equal))
                what = ", ".join(f"{key}={source.get(key, '')}" for key in keys)
                return Verdict(suppressed=True, by="inhibition", ref=ref,
                               reason=f"inhibited by rule {ref}: firing source {what}")
        return NOT_SUPPRESSED


def _silence_verdict(silence: Silence) -> Verdict:
    who = f" by {silence.author}" if silence.author else ""
    why = f": {silence.comment}" if silence.comment else ""
    return Verdict(
        suppressed=True, by="silence", ref=silence.id,
        reason=f"silenced{who} {format_matchers(silence.matchers)} until {silence.ends_at.isoformat()}{why}",
    )


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat()
