"""The inbound event contract: `decode_event` reason classes, timestamp normalisation, series keys."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from aiops.errors import InvalidEventError, PermanentError
from aiops.events import (
    MILLISECONDS_THRESHOLD,
    AlertEvent,
    LogEvent,
    MetricEvent,
    decode_event,
    series_key,
)

LIMIT = 65536
REFERENCE = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)  # epoch 1_700_000_000


def metric(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"kind": "metric", "ts": 1_700_000_000, "service": "api", "name": "latency",
                            "value": 1.5}
    base.update(overrides)
    return base


def log(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"kind": "log", "ts": 1_700_000_000, "service": "api", "message": "hello"}
    base.update(overrides)
    return base


def alert(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"kind": "alert", "ts": 1_700_000_000, "service": "api", "name": "Down",
                            "status": "firing"}
    base.update(overrides)
    return base


def encode(payload: Any) -> bytes:
    return json.dumps(payload).encode("utf-8")


def reason_of(raw: bytes | None, limit: int = LIMIT) -> str:
    with pytest.raises(InvalidEventError) as caught:
        decode_event(raw, limit)
    return caught.value.reason


# --- reason classes -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", [b"", None])
def test_empty_message_is_rejected_as_empty(raw: bytes | None) -> None:
    assert reason_of(raw) == "empty"


def test_invalid_event_error_is_permanent_and_carries_detail() -> None:
    with pytest.raises(InvalidEventError) as caught:
        decode_event(b"{", LIMIT)
    assert isinstance(caught.value, PermanentError)
    assert caught.value.detail
    assert str(caught.value).startswith("invalid_json: ")


def test_oversized_message_is_rejected_with_configurable_limit() -> None:
    raw = encode(log(message="x" * 500))
    assert decode_event(raw, len(raw)).kind == "log"  # exactly at the limit is fine
    assert reason_of(raw, limit=len(raw) - 1) == "oversized"
    with pytest.raises(InvalidEventError) as caught:
        decode_event(raw, 100)
    assert f"{len(raw)} bytes" in caught.value.detail
    assert "100" in caught.value.detail


def test_oversized_is_checked_before_parsing() -> None:
    assert reason_of(b"\xff" * 300, limit=256) == "oversized"


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff\xfe\x00",
        b'{"kind":"log","ts":1,"service":"s","message":"\xff"}',
        b'{"kind":"log","ts":1,"service":"s","message":"caf\xe9"}',  # latin-1 e-acute
        '{"kind":"log","ts":1,"service":"s","message":"ok"}'.encode("utf-16"),
    ],
)
def test_non_utf8_bytes_are_rejected_as_not_utf8(raw: bytes) -> None:
    assert reason_of(raw) == "not_utf8"


@pytest.mark.parametrize(
    "raw",
    [b"{", b"not json", b"{'kind': 'log'}", b'{"kind":"log",}', b"   ", b'{"a":1} trailing', b"NaNx"],
)
def test_malformed_json_is_rejected_as_invalid_json(raw: bytes) -> None:
    assert reason_of(raw) == "invalid_json"


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        pytest.param([1, 2], "<root>", id="array-top-level"),
        pytest.param(None, "<root>", id="null-top-level"),
        pytest.param("metric", "<root>", id="string-top-level"),
        pytest.param({"ts": 1, "service": "a"}, "kind", id="missing-kind"),
        pytest.param(metric(kind="trace"), "kind", id="unknown-kind"),
        pytest.param(metric(value="high"), "value", id="metric-value-not-number"),
        pytest.param(metric(ts=None), "ts", id="null-ts"),
        pytest.param(metric(ts=True), "ts", id="bool-ts-true"),
        pytest.param(metric(ts=False), "ts", id="bool-ts-false"),
        pytest.param(metric(ts="2024-01-01T00:00:00"), "ts", id="naive-rfc3339"),
        pytest.param(metric(ts="2024-01-01"), "ts", id="date-only"),
        pytest.param(metric(ts="yesterday"), "ts", id="garbage-ts"),
        pytest.param(metric(service=""), "service", id="empty-service"),
        pytest.param(metric(service=5), "service", id="service-not-string"),
        pytest.param(metric(labels={"env": 1}), "labels", id="label-value-not-string"),
        pytest.param(metric(labels=["a"]), "labels", id="labels-not-mapping"),
        pytest.param(log(level=3), "level", id="log-level-not-string"),
        pytest.param(alert(status="pending"), "status", id="alert-unknown-status"),
        pytest.param(alert(annotations={"summary": ["x"]}), "annotations", id="annotation-not-string"),
    ],
)
def test_wrong_types_and_shapes_are_rejected_as_schema(payload: Any, where: str) -> None:
    with pytest.raises(InvalidEventError) as caught:
        decode_event(encode(payload), LIMIT)
    assert caught.value.reason == "schema"
    assert where in caught.value.detail


@pytest.mark.parametrize(
    ("builder", "field"),
    [
        (metric, "ts"), (metric, "service"), (metric, "name"), (metric, "value"),
        (log, "ts"), (log, "service"), (log, "message"),
        (alert, "ts"), (alert, "service"), (alert, "name"), (alert, "status"),
    ],
)
def test_missing_required_field_per_kind_is_schema(builder: Any, field: str) -> None:
    payload = builder()
    del payload[field]
    with pytest.raises(InvalidEventError) as caught:
        decode_event(encode(payload), LIMIT)
    assert caught.value.reason == "schema"
    assert field in caught.value.detail
    assert "Field required" in caught.value.detail


def metric_with_value(literal: bytes, **extra: bytes) -> bytes:
    """A metric event whose `value` is the raw JSON text `literal` (json.dumps cannot write ``1e999``);
    `extra` replaces other fields' raw JSON text, and an empty one leaves the field out."""
    fields = {b"kind": b'"metric"', b"ts": b"1700000000", b"service": b'"s"', b"name": b'"n"', b"value": literal}
    fields.update({key.encode(): raw for key, raw in extra.items()})
    return b"{" + b",".join(b'"' + key + b'":' + raw for key, raw in fields.items() if raw) + b"}"


@pytest.mark.parametrize(
    "literal",
    [
        pytest.param(b"NaN", id="nan"),
        pytest.param(b"Infinity", id="infinity"),
        pytest.param(b"-Infinity", id="minus-infinity"),
        pytest.param(b"1e999", id="overflows-float"),
        pytest.param(b"-1e999", id="overflows-float-negative"),
    ],
)
def test_non_finite_metric_value_is_non_finite(literal: bytes) -> None:
    with pytest.raises(InvalidEventError) as caught:
        decode_event(metric_with_value(literal), LIMIT)
    assert caught.value.reason == "non_finite"
    assert caught.value.detail == "metric.value: Input should be a finite number"
    assert str(caught.value) == "non_finite: metric.value: Input should be a finite number"


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        pytest.param(metric_with_value(b'"x"'), "metric.value: Input should be a valid number", id="value-not-number"),
        *(pytest.param(metric_with_value(text), "metric.value: Input should be a valid number", id=f"string-{name}")
          for name, text in (("nan", b'"nan"'), ("NaN", b'"NaN"'), ("inf", b'"inf"'))),  # strings are never numbers
        pytest.param(metric_with_value(b"NaN", service=b""),
                     "metric.service: Field required; metric.value: Input should be a finite number",
                     id="nan-and-missing-service"),
        pytest.param(metric_with_value(b"NaN", ts=b'"2024-01-01T00:00:00"'), "metric.ts",
                     id="nan-and-naive-ts"),
    ],
)
def test_a_non_finite_value_with_any_other_error_or_a_wrong_type_is_schema(raw: bytes, where: str) -> None:
    with pytest.raises(InvalidEventError) as caught:
        decode_event(raw, LIMIT)
    assert caught.value.reason == "schema"
    assert where in caught.value.detail


def test_optional_fields_take_documented_defaults() -> None:
    event = decode_event(encode(alert()), LIMIT)
    assert isinstance(event, AlertEvent)
    assert (event.source, event.host, event.labels, event.severity) == ("unknown", "", {}, "warning")
    assert event.fingerprint is None
    assert event.annotations == {}
    plain = decode_event(encode(log()), LIMIT)
    assert isinstance(plain, LogEvent)
    assert plain.level == "info"
    assert plain.level_rank == 20


def test_unknown_extra_fields_are_tolerated_and_dropped() -> None:
    event = decode_event(encode(metric(trace_id="abc", nested={"x": [1, 2]}, unit="ms")), LIMIT)
    assert isinstance(event, MetricEvent)
    assert event.value == 1.5
    assert not hasattr(event, "trace_id")


def test_kind_selects_the_model() -> None:
    assert isinstance(decode_event(encode(metric()), LIMIT), MetricEvent)
    assert isinstance(decode_event(encode(log()), LIMIT), LogEvent)
    assert isinstance(decode_event(encode(alert()), LIMIT), AlertEvent)


def test_unicode_messages_survive_decoding() -> None:
    text = "Zürich ✓ 日本語 😀 \u00a0tab\tend"
    event = decode_event(json.dumps(log(message=text), ensure_ascii=False).encode("utf-8"), LIMIT)
    assert isinstance(event, LogEvent)
    assert event.message == text
    escaped = decode_event(json.dumps(log(message=text), ensure_ascii=True).encode("ascii"), LIMIT)
    assert isinstance(escaped, LogEvent)
    assert escaped.message == text


def test_log_level_rank_knows_aliases_and_defaults_unknown_to_info() -> None:
    ranks = {lvl: LogEvent.model_validate(log(level=lvl)).level_rank for lvl in ("ERROR", "err", "Warn", "weird")}
    assert ranks == {"ERROR": 40, "err": 40, "Warn": 30, "weird": 20}


# --- timestamps ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "ts",
    [
        pytest.param(1_700_000_000, id="epoch-seconds-int"),
        pytest.param(1_700_000_000.0, id="epoch-seconds-float"),
        pytest.param(1_700_000_000_000, id="epoch-millis-int"),
        pytest.param(1_700_000_000_000.0, id="epoch-millis-float"),
        pytest.param("2023-11-14T22:13:20Z", id="rfc3339-z"),
        pytest.param("2023-11-14T22:13:20+00:00", id="rfc3339-plus-zero"),
        pytest.param("2023-11-15T00:13:20+02:00", id="rfc3339-plus-two"),
        pytest.param("2023-11-14T17:13:20-05:00", id="rfc3339-minus-five"),
        pytest.param("2023-11-15T03:43:20+05:30", id="rfc3339-half-hour-offset"),
        pytest.param("2023-11-14T22:13:20.000Z", id="rfc3339-fraction"),
    ],
)
def test_every_timestamp_form_normalises_to_the_same_utc_datetime(ts: Any) -> None:
    event = decode_event(encode(metric(ts=ts)), LIMIT)
    assert event.ts == REFERENCE
    assert event.ts.utcoffset() is not None
    assert event.ts.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert event.ts.tzinfo == UTC
    assert event.epoch == 1_700_000_000.0


def test_fractional_seconds_and_milliseconds_agree() -> None:
    seconds = decode_event(encode(metric(ts=1_700_000_000.25)), LIMIT)
    millis = decode_event(encode(metric(ts=1_700_000_000_250)), LIMIT)
    text = decode_event(encode(metric(ts="2023-11-14T22:13:20.250Z")), LIMIT)
    assert seconds.ts == millis.ts == text.ts
    assert seconds.epoch == pytest.approx(1_700_000_000.25)


@pytest.mark.parametrize(
    ("value", "expected_epoch"),
    [
        pytest.param(MILLISECONDS_THRESHOLD, 2e10, id="exactly-2e10-is-seconds"),
        pytest.param(int(MILLISECONDS_THRESHOLD), 2e10, id="exactly-2e10-int-is-seconds"),
        pytest.param(MILLISECONDS_THRESHOLD - 1, 2e10 - 1, id="just-below-is-seconds"),
        pytest.param(int(MILLISECONDS_THRESHOLD) + 1, 2e7 + 0.001, id="just-above-is-millis"),
        pytest.param(-MILLISECONDS_THRESHOLD, -2e10, id="minus-2e10-is-seconds"),
        pytest.param(-int(MILLISECONDS_THRESHOLD) - 1, -2e7 - 0.001, id="just-below-minus-2e10-is-millis"),
        pytest.param(0, 0.0, id="zero"),
        pytest.param(-1.5, -1.5, id="negative-seconds"),
    ],
)
def test_millisecond_threshold_boundary(value: float, expected_epoch: float) -> None:
    """Read as seconds or milliseconds by the rule; outside [1970, 2200) the event is then implausible, and
    the detail names the time it was read as."""
    if 0 <= expected_epoch < 7_258_118_400:
        event = decode_event(encode(metric(ts=value)), LIMIT)
        assert event.epoch == pytest.approx(expected_epoch, abs=1e-6)
        assert event.ts.tzinfo == UTC
        return
    with pytest.raises(InvalidEventError) as caught:
        decode_event(encode(metric(ts=value)), LIMIT)
    assert caught.value.reason == "implausible_time"
    read_as = caught.value.detail.removeprefix("metric.ts: event time ").split()[0]
    assert float(read_as) == pytest.approx(expected_epoch, abs=1e-6)


def test_threshold_constant_matches_documentation() -> None:
    assert MILLISECONDS_THRESHOLD == 2e10


# --- series key ---------------------------------------------------------------------------------------------

def test_series_key_is_stable_under_label_order() -> None:
    one = MetricEvent.model_validate(metric(host="h", labels={"b": "2", "a": "1", "c": "3"}))
    two = MetricEvent.model_validate(metric(host="h", labels={"c": "3", "a": "1", "b": "2"}))
    assert series_key(one) == series_key(two) == "api|h|latency|a=1,b=2,c=3"


def test_series_key_distinguishes_service_host_name_and_labels() -> None:
    base = MetricEvent.model_validate(metric(host="h", labels={"a": "1"}))
    variants = [
        MetricEvent.model_validate(metric(host="h", labels={"a": "2"})),
        MetricEvent.model_validate(metric(host="h2", labels={"a": "1"})),
        MetricEvent.model_validate(metric(host="h", name="other", labels={"a": "1"})),
        MetricEvent.model_validate(metric(host="h", service="web", labels={"a": "1"})),
        MetricEvent.model_validate(metric(host="h")),
    ]
    keys = {series_key(base), *(series_key(v) for v in variants)}
    assert len(keys) == 6


def test_series_key_without_labels_has_no_trailing_separator() -> None:
    assert series_key(MetricEvent.model_validate(metric(host="h"))) == "api|h|latency"
