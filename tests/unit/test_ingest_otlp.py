"""OTLP/HTTP JSON translation: log records and gauge/sum data points to events, partial success, rejections."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from aiops.errors import PayloadRejectedError
from aiops.events import LogEvent, MetricEvent
from aiops.ingest.base import Received
from aiops.ingest.config import IntegrationConfig
from aiops.ingest.otlp import MAX_LABELS, OtlpTranslator

NOW = 1_717_243_500.0  # 2024-06-01T12:05:00Z
TS_NANOS = "1717243200000000000"  # 2024-06-01T12:00:00Z
TS = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def kv(key: str, value: Any) -> dict[str, Any]:
    """An OTLP KeyValue; Python values become the matching AnyValue (ints as decimal strings)."""
    if isinstance(value, bool):
        any_value: dict[str, Any] = {"boolValue": value}
    elif isinstance(value, int):
        any_value = {"intValue": str(value)}
    elif isinstance(value, float):
        any_value = {"doubleValue": value}
    else:
        any_value = {"stringValue": value}
    return {"key": key, "value": any_value}


def logs_body(records: list[Any], resource: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    resource = [kv("service.name", "checkout"), kv("host.name", "node-1")] if resource is None else resource
    return {"resourceLogs": [{"resource": {"attributes": resource},
                              "scopeLogs": [{"scope": {"name": "app"}, "logRecords": records}]}]}


def metrics_body(metrics: list[dict[str, Any]], resource: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    resource = [kv("service.name", "checkout"), kv("k8s.pod.name", "checkout-7d9f")] if resource is None else resource
    return {"resourceMetrics": [{"resource": {"attributes": resource},
                                 "scopeMetrics": [{"scope": {"name": "app"}, "metrics": metrics}]}]}


def translate(body: Any, path: str, **config: Any) -> Any:
    translator = OtlpTranslator("otlp", IntegrationConfig(kind="otlp", **config))
    return translator.translate(body, Received("otlp", NOW, path))


def one_log(record: dict[str, Any], resource: list[dict[str, Any]] | None = None, **config: Any) -> LogEvent:
    translation = translate(logs_body([record], resource), "/v1/logs", **config)
    assert translation.reply == {}
    [event] = translation.events
    assert isinstance(event, LogEvent)
    return event


def test_log_record_becomes_log_event() -> None:
    event = one_log({
        "timeUnixNano": TS_NANOS, "observedTimeUnixNano": "1717243201000000000", "severityNumber": 17,
        "severityText": "ERROR", "body": {"stringValue": "payment declined"},
        "traceId": "5B8EFFF798038103D269B633813FC60C", "spanId": "EEE19B7EC3C1B174",
        "attributes": [kv("http.status", 502), kv("retry", True), kv("ratio", 0.5)],
    })
    assert (event.ts, event.service, event.host, event.level, event.message) == (
        TS, "checkout", "node-1", "error", "payment declined")
    assert event.source == "otlp"
    assert event.labels == {"http.status": "502", "retry": "true", "ratio": "0.5",
                            "trace_id": "5b8efff798038103d269b633813fc60c", "span_id": "eee19b7ec3c1b174",
                            "host.name": "node-1"}


def test_log_time_falls_back_to_observed_time_then_receive_time() -> None:
    assert one_log({"timeUnixNano": "0", "observedTimeUnixNano": TS_NANOS}).ts == TS
    assert one_log({"observedTimeUnixNano": int(TS_NANOS)}).ts == TS  # numbers are accepted too
    assert one_log({"body": {"stringValue": "x"}}).epoch == NOW


@pytest.mark.parametrize(("text", "number", "level"), [
    ("WARN", 0, "warn"), ("Err", 0, "err"), ("Information", 10, "info"), ("", 1, "trace"), ("", 4, "trace"),
    ("", 5, "debug"), ("", 12, "info"), ("", 13, "warn"), ("", 20, "error"), ("", 21, "fatal"), ("", 24, "fatal"),
    ("", 0, "info"), ("Custom", 0, "custom"), ("", 99, "info"),
])
def test_log_level_from_severity_text_then_number(text: str, number: int, level: str) -> None:
    assert one_log({"severityText": text, "severityNumber": number}).level == level


def test_non_string_bodies_are_json_text_and_absent_body_is_empty() -> None:
    kvlist = {"kvlistValue": {"values": [kv("user", "ann"), {"key": "ids", "value": {"arrayValue": {
        "values": [{"intValue": "1"}, {"intValue": 2}]}}}]}}
    assert one_log({"body": kvlist}).message == '{"user":"ann","ids":[1,2]}'
    assert one_log({"body": {"intValue": "42"}}).message == "42"
    assert one_log({}).message == ""


def test_service_from_service_labels_then_record_then_default() -> None:
    assert one_log({}, [kv("job", "batch"), kv("app", "later")]).service == "batch"
    assert one_log({"attributes": [kv("component", "db")]}, []).service == "db"
    assert one_log({}, [kv("service.name", "")]).service == "unknown"
    assert one_log({}, [], default_service="edge").service == "edge"
    assert one_log({}, [kv("app", "x")], service_labels=["team"]).service == "unknown"


def test_host_attribute_order() -> None:
    assert one_log({}, [kv("service.instance.id", "i-1"), kv("k8s.pod.name", "pod-1")]).host == "pod-1"
    assert one_log({}, [kv("service.instance.id", "i-1")]).host == "i-1"
    assert one_log({}, []).host == ""


def test_labels_are_bounded_record_attributes_first() -> None:
    record_attrs = [kv(f"r{i}", i) for i in range(MAX_LABELS - 1)]
    event = one_log({"attributes": record_attrs, "traceId": "AB"}, [kv("service.name", "s"), kv("zone", "z")])
    assert len(event.labels) == MAX_LABELS
    assert event.labels["trace_id"] == "ab"
    assert "zone" not in event.labels
    assert "service.name" not in event.labels


def number_point(value: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"timeUnixNano": TS_NANOS, "attributes": [kv("route", "/pay")], **value, **extra}


def test_gauge_and_sum_points_become_metric_events() -> None:
    translation = translate(metrics_body([
        {"name": "queue.depth", "gauge": {"dataPoints": [number_point({"asDouble": 12.5})]}},
        {"name": "requests", "sum": {"aggregationTemporality": 2, "isMonotonic": True,
                                     "dataPoints": [number_point({"asInt": "1200"}), number_point({"asInt": 7})]}},
    ]), "/v1/metrics")
    assert translation.reply == {}
    events = translation.events
    assert all(isinstance(event, MetricEvent) for event in events)
    assert [(e.name, e.value) for e in events if isinstance(e, MetricEvent)] == [
        ("queue.depth", 12.5), ("requests", 1200.0), ("requests", 7.0)]
    assert {(e.service, e.host, e.ts) for e in events} == {("checkout", "checkout-7d9f", TS)}
    assert events[0].labels == {"route": "/pay"}  # data point attributes only


def test_unsupported_and_bad_points_are_partial_rejections() -> None:
    histogram = {"name": "latency", "histogram": {"dataPoints": [{"count": "3"}, {"count": "4"}]}}
    translation = translate(metrics_body([
        histogram,
        {"name": "ratio", "gauge": {"dataPoints": [
            number_point({"asDouble": "NaN"}), number_point({"asDouble": "0.25"}),
            number_point({"asDouble": 1.0}, timeUnixNano="9999999999000000000"),
            number_point({}), number_point({}, flags=1), number_point({"asDouble": "-Infinity"})]}},
        {"name": "summary_only", "summary": {"dataPoints": [{"count": "1"}]}},
    ]), "/v1/metrics")
    assert [e.value for e in translation.events if isinstance(e, MetricEvent)] == [0.25]
    partial = translation.reply["partialSuccess"]
    assert partial["rejectedDataPoints"] == 2 + 4 + 1  # the no-recorded-value point is skipped, not rejected
    assert partial["errorMessage"].startswith("7 data points rejected: latency: histogram metrics are not supported")
    assert "not a finite number" in partial["errorMessage"]


def test_implausible_log_time_rejects_only_that_record() -> None:
    translation = translate(logs_body([{"timeUnixNano": "9999999999000000000"}, {"body": {"stringValue": "ok"}}]),
                            "/v1/logs")
    assert [e.message for e in translation.events if isinstance(e, LogEvent)] == ["ok"]
    assert translation.reply["partialSuccess"]["rejectedLogRecords"] == 1
    assert "resourceLogs[0].scopeLogs[0].logRecords[0].timeUnixNano" in translation.reply["partialSuccess"][
        "errorMessage"]


def test_empty_requests_and_unknown_fields_are_accepted() -> None:
    assert translate({}, "/v1/logs").events == []
    assert translate({"resourceLogs": []}, "/v1/logs").events == []
    body = logs_body([{"body": {"stringValue": "x"}, "eventName": "e", "newField": {"a": 1}}])
    body["resourceLogs"][0]["schemaUrl"] = "https://opentelemetry.io/schemas/1.21.0"
    assert len(translate(body, "/v1/logs").events) == 1
    assert translate(metrics_body([]), "/v1/logs").events == []  # metrics posted to /v1/logs: nothing


def test_nulls_count_as_absent() -> None:
    event = one_log({"timeUnixNano": None, "severityText": None, "severityNumber": None, "body": None,
                     "attributes": None, "traceId": None})
    assert (event.epoch, event.level, event.message, event.labels) == (NOW, "info", "", {"host.name": "node-1"})


@pytest.mark.parametrize(("body", "path", "where"), [
    ([], "/v1/logs", "<root>"),
    ({"resourceLogs": {}}, "/v1/logs", "resourceLogs: must be an array"),
    (logs_body(["x"]), "/v1/logs", "resourceLogs[0].scopeLogs[0].logRecords[0]: must be an object"),
    (logs_body([{"attributes": [{"key": "n", "value": {"intValue": "4x"}}]}]), "/v1/logs",
     "logRecords[0].attributes[0].value.intValue"),
    (logs_body([{"timeUnixNano": "1.5e18"}]), "/v1/logs", "logRecords[0].timeUnixNano"),
    (logs_body([{"severityNumber": "SEVERITY_NUMBER_ERROR"}]), "/v1/logs", "logRecords[0].severityNumber"),
    (logs_body([{"body": {"boolValue": "yes"}}]), "/v1/logs", "logRecords[0].body.boolValue"),
    (logs_body([], [{"key": 5, "value": {}}]), "/v1/logs", "resource.attributes[0].key"),
    (metrics_body([{"gauge": {"dataPoints": [number_point({"asDouble": 1})]}}]), "/v1/metrics", "metrics[0].name"),
    (metrics_body([{"name": "m", "gauge": {"dataPoints": [number_point({"asDouble": "one"})]}}]), "/v1/metrics",
     "dataPoints[0].asDouble"),
    (metrics_body([{"name": "m", "sum": {"dataPoints": [number_point({"asInt": "1" * 30})]}}]), "/v1/metrics",
     "dataPoints[0].asInt"),
    ({"resourceLogs": []}, "/v1/traces", "neither /v1/logs nor /v1/metrics"),
])
def test_malformed_structure_rejects_the_request_with_a_path(body: Any, path: str, where: str) -> None:
    with pytest.raises(PayloadRejectedError) as caught:
        translate(body, path)
    assert caught.value.reason == "schema"
    assert where in caught.value.detail


def test_source_is_configurable() -> None:
    assert one_log({}, source="collector-eu").source == "collector-eu"
