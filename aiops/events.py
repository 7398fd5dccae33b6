"""Inbound event contract: one JSON object per message on the input topic.

Defines the pydantic models of `metric`, `log`, `alert` and `change` events and `decode_event`, which turns raw
message bytes into a validated event or raises `InvalidEventError` with a reason class for the
dead-letter record. It does not read Kafka, route events or keep any state.

Timestamp rule (documented in docs/events.md): `ts` is an RFC 3339 string with an offset (``Z`` or
``+hh:mm``; naive or numeric strings are rejected) or a JSON number of epoch seconds, or milliseconds when
its absolute value is above 2e10. It is normalised to UTC and must lie in [1970-01-01, 2200-01-01)
(else reason ``implausible_time``). Types are strict: no string, boolean or number is coerced into another.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
)
from pydantic_core import PydanticCustomError

from aiops.errors import InvalidEventError

MILLISECONDS_THRESHOLD = 2e10
"""Numeric `ts` values with an absolute value above this are epoch milliseconds, else seconds."""
EARLIEST_EVENT_TIME = 0.0
"""1970-01-01T00:00:00Z: an event `ts` before it is implausible (a sign error, a clock that was never set)."""
LATEST_EVENT_TIME = 7_258_118_400.0
"""2200-01-01T00:00:00Z: an event `ts` from then on is implausible. Far enough from year 9999 that every
timer (window, quiet period, idle tick) computed from event time stays a representable datetime."""
IMPLAUSIBLE_TIME = "implausible_time"


def plausible_epoch(seconds: float) -> bool:
    """Whether an event time (epoch seconds) lies in [1970-01-01, 2200-01-01); false for NaN."""
    return EARLIEST_EVENT_TIME <= seconds < LATEST_EVENT_TIME

LOG_LEVELS: dict[str, int] = {
    "trace": 0, "debug": 10, "info": 20, "notice": 25, "warn": 30, "warning": 30,
    "error": 40, "err": 40, "critical": 50, "crit": 50, "fatal": 50, "alert": 55, "emergency": 60, "emerg": 60,
}


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00: a validation error, not a crash
        raise ValueError("the time in UTC is outside the representable range") from None


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]


def _implausible(epoch: float) -> PydanticCustomError:
    return PydanticCustomError(
        IMPLAUSIBLE_TIME, "event time {epoch} is outside [1970-01-01, 2200-01-01)", {"epoch": epoch})


def _strict_ts(value: Any) -> Any:
    """Before pydantic's datetime parsing: only numbers, RFC 3339 strings and datetimes get through."""
    if isinstance(value, datetime):  # first: what the HTTP ingest translators pass, on its hot path
        return value
    if isinstance(value, bool):
        raise PydanticCustomError("ts_type", "ts must be an RFC 3339 string or a number, not a boolean")
    if isinstance(value, int | float):
        try:
            seconds = value / 1000 if abs(value) > MILLISECONDS_THRESHOLD else value
        except OverflowError:  # an integer too large for a float
            raise _implausible(float("inf") if value > 0 else float("-inf")) from None
        if math.isfinite(seconds) and not plausible_epoch(seconds):
            raise _implausible(seconds)
        return value
    if isinstance(value, str):
        if ":" in value:  # an RFC 3339 time (a number never holds a colon): no float() and its exception
            return value
        try:
            float(value)
        except ValueError:
            return value
        raise PydanticCustomError("ts_type", "ts must be a JSON number, not a numeric string")
    raise PydanticCustomError("ts_type", "ts must be an RFC 3339 string or a number")


def _bounded_utc(value: datetime) -> datetime:
    try:
        utc = value if value.tzinfo is UTC else value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00, 9999-12-31T23:59:59-01:00
        raise PydanticCustomError(IMPLAUSIBLE_TIME, "event time is outside the representable range") from None
    epoch = utc.timestamp()
    if not plausible_epoch(epoch):
        raise _implausible(epoch)
    return utc


EventTime = Annotated[AwareDatetime, BeforeValidator(_strict_ts), AfterValidator(_bounded_utc)]
"""An inbound event's `ts`: strict input forms, normalised to UTC, within the plausible range."""


class _EventBase(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=False, allow_inf_nan=False)

    ts: EventTime = Field(description="Event time: RFC 3339 with offset, or epoch seconds / milliseconds.")
    source: str = Field("unknown", description="The tool that sent the event (prometheus, zabbix, fluentbit...).")
    service: str = Field(min_length=1, description="The service the event is about.")
    host: str = Field("", description="Host, pod or device the event is about; empty when not applicable.")
    labels: dict[str, str] = Field(default_factory=dict, description="Free-form string labels.")

    @property
    def epoch(self) -> float:
        """Event time as float seconds since the Unix epoch (used on the hot path)."""
        return self.ts.timestamp()


class MetricEvent(_EventBase):
    """One sample of one metric series."""

    kind: Literal["metric"]
    name: str = Field(min_length=1, description="Metric name, e.g. http_request_latency_p99_ms.")
    value: float = Field(strict=True, description="The sample value: a finite JSON number (no string, no boolean).")


class LogEvent(_EventBase):
    """One log line, already attributed to a service."""

    kind: Literal["log"]
    message: str = Field(description="The log line text.")
    level: str = Field("info", description="Log level (debug/info/warning/error/critical, common aliases).")

    @property
    def level_rank(self) -> int:
        """Numeric severity of `level` (unknown levels count as info)."""
        return LOG_LEVELS.get(self.level.lower(), 20)


class AlertEvent(_EventBase):
    """An alert raised (or resolved) by an external monitoring tool."""

    kind: Literal["alert"]
    name: str = Field(min_length=1, description="Alert name, e.g. HighErrorRate.")
    severity: str = Field("warning", description="critical / high / warning / info (free text tolerated).")
    status: Literal["firing", "resolved"] = Field(description="Whether the alert fires or has resolved.")
    fingerprint: str | None = Field(None, description="The source tool's own dedup key, passed through.")
    annotations: dict[str, str] = Field(default_factory=dict, description="Summary, description, runbook...")
    starts_at: EventTime | None = Field(
        None, description="When the alert started firing (a re-send keeps it while `ts` is the time of the "
        "re-send); null: `ts`.")
    ends_at: EventTime | None = Field(
        None, description="A firing alert not refreshed by then (event time) is resolved, as Alertmanager does "
        "with `endsAt`; null: correlation's `stale_seconds` after its last refresh.")


class ChangeEvent(_EventBase):
    """A change to a service: a deploy, a config change, a feature flag, an infrastructure change."""

    kind: Literal["change"]
    summary: str = Field(min_length=1, description="What changed, in one line (e.g. 'deploy payments 1.4.2').")
    change_type: str = Field("change", description="deploy / config / feature_flag / infrastructure / change.")
    links: list[dict[str, str]] = Field(
        default_factory=list, description="Links about the change: objects with `href` and optional `text`.")
    details: dict[str, str] = Field(default_factory=dict, description="Free-form details, as strings.")


InboundEvent = MetricEvent | LogEvent | AlertEvent | ChangeEvent
"""Any event of the contract."""
Event = Annotated[InboundEvent, Field(discriminator="kind")]
EVENT_ADAPTER: TypeAdapter[InboundEvent] = TypeAdapter(Event)


def _summarise(error: ValidationError) -> str:
    parts = []
    for item in error.errors()[:5]:
        where = ".".join(str(p) for p in item["loc"]) or "<root>"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def decode_event(raw: bytes | None, max_bytes: int) -> InboundEvent:
    """Validate one raw message against the contract.

    Raises `InvalidEventError` with reason ``empty``, ``oversized``, ``not_utf8``, ``invalid_json``,
    ``non_finite`` (every validation error is a non-finite number: a metric `value` of NaN, +-Infinity or one
    that overflows a float, a data-quality problem at the source), ``implausible_time`` (every validation
    error is a `ts` outside [1970-01-01, 2200-01-01) or beyond what a datetime can hold) or ``schema`` (wrong
    types, missing fields, unknown kind, naive timestamps, or several kinds of error together).
    """
    if not raw:
        raise InvalidEventError("empty", "message has no value")
    if len(raw) > max_bytes:
        raise InvalidEventError("oversized", f"{len(raw)} bytes > limit {max_bytes}")
    try:
        return EVENT_ADAPTER.validate_json(raw)
    except ValidationError as error:
        errors = error.errors()
        first = errors[0]["type"] if errors else ""
        if first == "json_invalid":
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as bad:
                raise InvalidEventError("not_utf8", str(bad)) from None
            raise InvalidEventError("invalid_json", _summarise(error)) from None
        for kind, reason in (("finite_number", "non_finite"), (IMPLAUSIBLE_TIME, IMPLAUSIBLE_TIME)):
            if errors and all(item["type"] == kind for item in errors):
                raise InvalidEventError(reason, _summarise(error)) from None
        raise InvalidEventError("schema", _summarise(error)) from None


def check_event_time(epoch: float, reference: float | None, max_past: float | None, max_future: float | None) -> None:
    """Raise `InvalidEventError` (``implausible_time``) when `epoch` lies more than `max_future` seconds after
    or `max_past` seconds before `reference` (the record's broker timestamp; None: no reference, no check).
    A bound of None is not checked."""
    if reference is None:
        return
    if max_future is not None and epoch > reference + max_future:
        raise InvalidEventError(IMPLAUSIBLE_TIME, f"ts {epoch:.3f} is {epoch - reference:.0f} s after the record's "
                                                  f"broker timestamp (ingest.max_future_seconds: {max_future:g})")
    if max_past is not None and epoch < reference - max_past:
        raise InvalidEventError(IMPLAUSIBLE_TIME, f"ts {epoch:.3f} is {reference - epoch:.0f} s before the record's "
                                                  f"broker timestamp (ingest.max_past_seconds: {max_past:g})")


def series_key(event: MetricEvent) -> str:
    """Stable identity of a metric series: service, host, name and sorted labels."""
    if event.labels:
        labels = ",".join(f"{k}={v}" for k, v in sorted(event.labels.items()))
        return f"{event.service}|{event.host}|{event.name}|{labels}"
    return f"{event.service}|{event.host}|{event.name}"
