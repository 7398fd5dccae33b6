"""OTLP/HTTP JSON: `/v1/logs` and `/v1/metrics` request bodies to log and metric events.

JSON Protobuf encoding only (lowerCamelCase keys, 64-bit integers as decimal strings or numbers, enums as
integers); binary protobuf (`application/x-protobuf`) is not decoded here, the front answers it 415. Each log
record becomes a log event; each gauge or sum number data point a metric event. Service: the resource's
`service.name`, else the first of `service_labels` among the resource's, then the record's attributes, else
`default_service`. Host: `host.name`, else `k8s.pod.name`, else `service.instance.id`. Labels: at most
`MAX_LABELS` (logs: record attributes, `trace_id`/`span_id`, then resource attributes; metrics: the data
point's attributes), each value as a string. Histograms, exponential histograms, summaries, data points
without a value, non-finite values and implausible times are rejected one by one through OTLP partial
success (`reply["partialSuccess"]`); a malformed structure rejects the whole request with its JSON path.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from aiops.events import LOG_LEVELS, InboundEvent, plausible_epoch
from aiops.ingest.base import Received, Translation, build_event, reject
from aiops.ingest.config import IntegrationConfig

MAX_LABELS = 32
"""Labels kept per event; further attributes are dropped (bounded events, bounded series keys)."""
HOST_ATTRIBUTES = ("host.name", "k8s.pod.name", "service.instance.id")
SEVERITY_NUMBER_LEVELS = ((21, "fatal"), (17, "error"), (13, "warn"), (9, "info"), (5, "debug"), (1, "trace"))
"""OTLP SeverityNumber ranges (1-4 trace ... 21-24 fatal): the lowest number of each range -> level."""
UNSUPPORTED_METRICS = ("histogram", "exponentialHistogram", "summary")
NO_RECORDED_VALUE = 1
"""DataPointFlags.NO_RECORDED_VALUE: the point marks a series that stopped (skipped, not rejected)."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_INTEGER = re.compile(r"-?\d+")
_DECIMAL = re.compile(r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_SPECIAL_DOUBLES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


class _RejectedError(Exception):
    """One log record or data point the request partially rejects (counted in the partial success)."""


def _object(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise reject(where, f"must be an object, not {type(value).__name__}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise reject(where, f"must be an array, not {type(value).__name__}")
    return value


def _each(value: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, object) of each element of an array of objects (null: none)."""
    for index, item in enumerate(_list(value, where)):
        yield f"{where}[{index}]", _object(item, f"{where}[{index}]")


def int64(value: Any, where: str) -> int:
    """A protobuf 64-bit integer in JSON (signed or unsigned): a decimal string or an integral number."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif (isinstance(value, float) and value.is_integer()) or (
            isinstance(value, str) and len(value) <= 21 and _INTEGER.fullmatch(value)):
        number = int(value)
    if number is None or not -(2**63) <= number < 2**64:
        raise reject(where, f"must be a 64-bit integer (a decimal string or a number), not {value!r:.40}")
    return number


def double(value: Any, where: str) -> float:
    """A protobuf double in JSON: a number, a decimal string, or "NaN" / "Infinity" / "-Infinity"."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf
    if isinstance(value, str):
        if value in _SPECIAL_DOUBLES:
            return _SPECIAL_DOUBLES[value]
        if _DECIMAL.fullmatch(value):
            return float(value)
    raise reject(where, f"must be a number, not {value!r:.40}")


def any_value(value: Any, where: str) -> Any:
    """The Python value of an OTLP AnyValue (string, bool, int, double, array, kvlist, bytes as base64);
    None for an empty one. A null member counts as absent, as proto3 JSON reads it."""
    value = {key: item for key, item in _object(value, where).items() if item is not None}
    for key, read in _ANY_VALUE_READERS.items():
        if key in value:
            return read(value[key], f"{where}.{key}")
    return None


def _boolean(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise reject(where, f"must be a boolean, not {type(value).__name__}")
    return value


def _array(value: Any, where: str) -> list[Any]:
    items = _list(_object(value, where).get("values"), f"{where}.values")
    return [any_value(item, f"{where}.values[{i}]") for i, item in enumerate(items)]


def _kvlist(value: Any, where: str) -> dict[str, Any]:
    return attributes(_object(value, where).get("values"), f"{where}.values", as_text=False)


def _string(value: Any, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise reject(where, f"must be a string, not {type(value).__name__}")
    return value


def text(value: Any) -> str:
    """A label value: strings as they are, other values as JSON text (``true``, ``42``, ``[1,2]``)."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return orjson.dumps(value).decode()


def attributes(value: Any, where: str, as_text: bool = True) -> dict[str, Any]:
    """A KeyValue list as a dict (a repeated key: the last one wins); values as label strings by default."""
    result: dict[str, Any] = {}
    for pwhere, pair in _each(value, where):
        item = any_value(pair.get("value"), f"{pwhere}.value")
        result[_string(pair.get("key"), f"{pwhere}.key")] = text(item) if as_text else item
    return result


_ANY_VALUE_READERS: dict[str, Callable[[Any, str], Any]] = {
    "stringValue": _string, "boolValue": _boolean, "intValue": int64, "doubleValue": double,
    "arrayValue": _array, "kvlistValue": _kvlist, "bytesValue": _string,
}


def bounded(*sources: dict[str, str]) -> dict[str, str]:
    """The first `MAX_LABELS` distinct keys of `sources`, earlier sources first."""
    labels: dict[str, str] = {}
    for source in sources:
        for key, value in source.items():
            if len(labels) >= MAX_LABELS:
                return labels
            labels.setdefault(key, value)
    return labels


def event_time(record: dict[str, Any], keys: tuple[str, ...], where: str) -> datetime | None:
    """The first of `keys` that is set (0 means unset in OTLP) as a UTC datetime; None when none is."""
    for key in keys:
        if record.get(key) is None:
            continue
        nanos = int64(record[key], f"{where}.{key}")
        if nanos == 0:
            continue
        if not plausible_epoch(nanos / 1e9):
            raise _RejectedError(f"{where}.{key}: {nanos} ns is outside [1970-01-01, 2200-01-01)")
        return _EPOCH + timedelta(microseconds=nanos // 1000)
    return None


def log_level(record: dict[str, Any], where: str) -> str:
    """severityText when it is a known level word, else the severityNumber's range, else the text, else info."""
    word = _string(record.get("severityText"), f"{where}.severityText").strip().lower()
    if word in LOG_LEVELS:
        return word
    number = record.get("severityNumber")
    if number is not None:
        if not isinstance(number, int) or isinstance(number, bool):
            raise reject(f"{where}.severityNumber", "must be an integer (OTLP JSON encodes enums as integers)")
        for lowest, level in SEVERITY_NUMBER_LEVELS:
            if lowest <= number <= lowest + 3:
                return level
    return word or "info"


@dataclass(frozen=True)
class _Resource:
    attributes: dict[str, str]
    service: str | None
    host: str


@dataclass
class _Tally:
    """What a request rejected, for the partial-success reply."""

    rejected: int = 0
    problems: list[str] = field(default_factory=list)

    def add(self, count: int, problem: str) -> None:
        self.rejected += count
        if len(self.problems) < 3:
            self.problems.append(problem)

    def reply(self, counter: str, what: str) -> dict[str, Any]:
        """OTLP's partial success (``{"partialSuccess": {counter: n, "errorMessage": ...}}``); {} when none."""
        if not self.rejected:
            return {}
        message = f"{self.rejected} {what} rejected: " + "; ".join(self.problems)
        return {"partialSuccess": {counter: self.rejected, "errorMessage": message}}


class OtlpTranslator:
    """OTLP/HTTP JSON logs and metrics (`received.path` ends with ``/v1/logs`` or ``/v1/metrics``)."""

    kind = "otlp"

    def __init__(self, name: str, config: IntegrationConfig) -> None:
        self.source = config.source or name
        self.default_service = config.default_service
        self.service_labels = tuple(config.service_labels)

    def translate(self, body: Any, received: Received) -> Translation:
        if not isinstance(body, dict):
            raise reject("<root>", f"must be an OTLP export request object, not {type(body).__name__}")
        if received.path.endswith("/v1/logs"):
            return self._logs(body, received)
        if received.path.endswith("/v1/metrics"):
            return self._metrics(body, received)
        raise reject("<path>", f"{received.path!r} is neither /v1/logs nor /v1/metrics")

    def _resource(self, container: dict[str, Any], where: str) -> _Resource:
        attrs = attributes(_object(container.get("resource"), f"{where}.resource").get("attributes"),
                           f"{where}.resource.attributes")
        service = attrs.get("service.name") or self._first(attrs, self.service_labels)
        return _Resource(attrs, service, self._first(attrs, HOST_ATTRIBUTES) or "")

    @staticmethod
    def _first(attrs: dict[str, str], keys: tuple[str, ...]) -> str | None:
        return next((attrs[key] for key in keys if attrs.get(key)), None)

    def _service(self, resource: _Resource, attrs: dict[str, str]) -> str:
        return resource.service or self._first(attrs, self.service_labels) or self.default_service

    def _logs(self, body: dict[str, Any], received: Received) -> Translation:
        events: list[InboundEvent] = []
        tally = _Tally()
        for rwhere, resource_logs in _each(body.get("resourceLogs"), "resourceLogs"):
            resource = self._resource(resource_logs, rwhere)
            for swhere, scope_logs in _each(resource_logs.get("scopeLogs"), f"{rwhere}.scopeLogs"):
                for where, record in _each(scope_logs.get("logRecords"), f"{swhere}.logRecords"):
                    try:
                        events.append(self._log(record, resource, where, received))
                    except _RejectedError as rejected:
                        tally.add(1, str(rejected))
        return Translation(events, tally.reply("rejectedLogRecords", "log records"))

    def _log(self, record: dict[str, Any], resource: _Resource, where: str, received: Received) -> InboundEvent:
        attrs = attributes(record.get("attributes"), f"{where}.attributes")
        ts = event_time(record, ("timeUnixNano", "observedTimeUnixNano"), where)
        body = any_value(record["body"], f"{where}.body") if record.get("body") is not None else None
        ids = {label: _string(record[key], f"{where}.{key}").lower()
               for key, label in (("traceId", "trace_id"), ("spanId", "span_id")) if record.get(key)}
        resource_labels = {k: v for k, v in resource.attributes.items() if k != "service.name"}
        data: dict[str, Any] = {
            "kind": "log", "ts": ts or received.moment, "source": self.source,
            "service": self._service(resource, attrs), "host": resource.host or self._first(attrs, HOST_ATTRIBUTES),
            "labels": bounded(attrs, ids, resource_labels), "level": log_level(record, where),
            "message": body if isinstance(body, str) else "" if body is None else text(body),
        }
        return build_event({k: v for k, v in data.items() if v is not None}, where)

    def _metrics(self, body: dict[str, Any], received: Received) -> Translation:
        events: list[InboundEvent] = []
        tally = _Tally()
        for rwhere, resource_metrics in _each(body.get("resourceMetrics"), "resourceMetrics"):
            resource = self._resource(resource_metrics, rwhere)
            for swhere, scope in _each(resource_metrics.get("scopeMetrics"), f"{rwhere}.scopeMetrics"):
                for where, metric in _each(scope.get("metrics"), f"{swhere}.metrics"):
                    self._metric(metric, resource, where, received, events, tally)
        return Translation(events, tally.reply("rejectedDataPoints", "data points"))

    def _metric(self, metric: dict[str, Any], resource: _Resource, where: str, received: Received,
                events: list[InboundEvent], tally: _Tally) -> None:
        """Append the events of one metric's data points; count what cannot become events."""
        name = _string(metric.get("name"), f"{where}.name")
        for kind in UNSUPPORTED_METRICS:
            points = _list(_object(metric.get(kind), f"{where}.{kind}").get("dataPoints"), f"{where}.{kind}.dataPoints")
            if points:
                tally.add(len(points), f"{name or where}: {kind} metrics are not supported (gauge and sum only)")
        for kind in ("gauge", "sum"):
            numbers = _object(metric.get(kind), f"{where}.{kind}").get("dataPoints")
            if numbers and not name:
                raise reject(f"{where}.name", "a metric needs a name")
            for pwhere, point in _each(numbers, f"{where}.{kind}.dataPoints"):
                try:
                    event = self._point(name, point, resource, pwhere, received)
                except _RejectedError as rejected:
                    tally.add(1, str(rejected))
                    continue
                if event is not None:
                    events.append(event)

    def _point(self, name: str, point: dict[str, Any], resource: _Resource, where: str,
               received: Received) -> InboundEvent | None:
        attrs = attributes(point.get("attributes"), f"{where}.attributes")
        if point.get("asDouble") is not None:
            value = double(point["asDouble"], f"{where}.asDouble")
        elif point.get("asInt") is not None:
            value = float(int64(point["asInt"], f"{where}.asInt"))
        elif int64(point.get("flags") or 0, f"{where}.flags") & NO_RECORDED_VALUE:
            return None
        else:
            raise _RejectedError(f"{where}: a data point without asDouble or asInt")
        if not math.isfinite(value):
            raise _RejectedError(f"{where}: {name} = {value} is not a finite number")
        ts = event_time(point, ("timeUnixNano",), where)
        data: dict[str, Any] = {
            "kind": "metric", "ts": ts or received.moment, "source": self.source, "name": name, "value": value,
            "service": self._service(resource, attrs), "host": resource.host, "labels": bounded(attrs),
        }
        return build_event(data, where)
