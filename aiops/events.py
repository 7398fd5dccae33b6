"""Inbound event contract: one JSON object per message on the input topic.

Defines the pydantic models of `metric`, `log` and `alert` events and `decode_event`, which turns raw
message bytes into a validated event or raises `InvalidEventError` with a reason class for the
dead-letter record. It does not read Kafka, route events or keep any state.

Timestamp rule (documented in docs/events.md): `ts` may be RFC 3339 with an offset (``Z`` or ``+hh:mm``;
naive strings are rejected), or a number of seconds or milliseconds since the Unix epoch. A number whose
absolute value is above 2e10 is milliseconds, otherwise seconds (2e10 s is the year 2603, 2e10 ms is
1970-08-20, so no real timestamp is ambiguous). Every `ts` is normalised to a tz-aware UTC datetime.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
)

from aiops.errors import InvalidEventError

MILLISECONDS_THRESHOLD = 2e10
"""Numeric `ts` values with an absolute value above this are epoch milliseconds, else seconds."""

LOG_LEVELS: dict[str, int] = {
    "trace": 0, "debug": 10, "info": 20, "notice": 25, "warn": 30, "warning": 30,
    "error": 40, "err": 40, "critical": 50, "crit": 50, "fatal": 50, "alert": 55, "emergency": 60, "emerg": 60,
}


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]


class _EventBase(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=False, allow_inf_nan=False)

    ts: UtcDatetime = Field(description="Event time: RFC 3339 with offset, or epoch seconds / milliseconds.")
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
    value: float = Field(description="The sample value (finite).")


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


Event = Annotated[MetricEvent | LogEvent | AlertEvent, Field(discriminator="kind")]
EVENT_ADAPTER: TypeAdapter[MetricEvent | LogEvent | AlertEvent] = TypeAdapter(Event)


def _summarise(error: ValidationError) -> str:
    parts = []
    for item in error.errors()[:5]:
        where = ".".join(str(p) for p in item["loc"]) or "<root>"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def decode_event(raw: bytes | None, max_bytes: int) -> MetricEvent | LogEvent | AlertEvent:
    """Validate one raw message against the contract.

    Raises `InvalidEventError` with reason ``empty``, ``oversized``, ``not_utf8``, ``invalid_json``,
    ``non_finite`` (every validation error is a non-finite number: a metric `value` of NaN, +-Infinity or one
    that overflows a float, a data-quality problem at the source) or ``schema`` (wrong types, missing fields,
    unknown kind, naive timestamps, or a non-finite value together with any other error).
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
        if errors and all(item["type"] == "finite_number" for item in errors):
            raise InvalidEventError("non_finite", _summarise(error)) from None
        raise InvalidEventError("schema", _summarise(error)) from None


def series_key(event: MetricEvent) -> str:
    """Stable identity of a metric series: service, host, name and sorted labels."""
    if event.labels:
        labels = ",".join(f"{k}={v}" for k, v in sorted(event.labels.items()))
        return f"{event.service}|{event.host}|{event.name}|{labels}"
    return f"{event.service}|{event.host}|{event.name}"
