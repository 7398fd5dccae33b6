"""Generic JSON webhooks: any body to events through the integration's JMESPath mapping (`WebhookMapping`).

`items` selects the things in the body (a list, or one object); each becomes one event of `mapping.kind`,
its fields the results of the field expressions on ``{"item": item, "body": body}``. A result of null, ""
(template engines render a missing value so) or, for times, Go's zero time counts as not given: the field
falls back to its `constants` entry, then to the default (`ts`: the receive time; `service`:
`default_service`; `source`: the integration's). Values are coerced strictly: text fields take strings,
numbers and booleans (as JSON text); `status`/`severity` go through `status_values`/`severity_values`
(case-insensitive; unlisted status words other than firing/resolved are a rejection, unlisted severities
pass unchanged); `value` must be a JSON number (``to_number(...)`` converts a numeric string); times are
RFC 3339 strings or epoch numbers as the contract reads them; `labels`/`annotations`/`details` objects of
scalars (null and "" values left out); `labels_from` takes an object's scalar values and skips the others.
Anything else is a `PayloadRejectedError` naming the item and field (``items[2].name``). No I/O, no clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult

from aiops.errors import ConfigError
from aiops.events import InboundEvent
from aiops.ingest.base import Received, Translation, build_event, reject
from aiops.ingest.config import IntegrationConfig, jmespath_problem

TIME_FIELDS = frozenset({"ts", "starts_at", "ends_at"})
GO_ZERO_TIME = "0001-01-01T00:00:00"
"""Go's zero time (Grafana, Alertmanager: "no end yet"): a time field that starts with it counts as not given."""
MAP_FIELDS = frozenset({"labels", "annotations", "details"})
STATUSES = ("firing", "resolved")


def _type(value: Any) -> str:
    return {dict: "an object", list: "an array", bool: "a boolean", str: "a string"}.get(type(value), "a number")


def scalar_text(value: Any, where: str) -> str:
    """A string, number or boolean as text (numbers and booleans as JSON writes them); else a rejection."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    raise reject(where, f"must be a string, number or boolean, not {_type(value) if value is not None else 'null'}")


def string_values(value: Any, where: str, skip_nested: bool = False) -> dict[str, str]:
    """An object whose scalar values become strings; null and "" values are left out, nested values rejected
    (or skipped)."""
    if not isinstance(value, dict):
        raise reject(where, f"must be an object, not {_type(value)}")
    result: dict[str, str] = {}
    for key, item in value.items():
        if item is None or item == "" or (skip_nested and isinstance(item, dict | list)):
            continue
        result[key] = scalar_text(item, f"{where}.{key}")
    return result


def time_value(value: Any, where: str) -> str | int | float:
    """An event time as the contract reads it (RFC 3339 string, epoch seconds or milliseconds)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise reject(where, f"must be an RFC 3339 string or epoch seconds/milliseconds, not {_type(value)}")
    return value


def metric_value(value: Any, where: str) -> float:
    """A metric's value: a finite JSON number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise reject(where, f"must be a JSON number, not {_type(value)} (to_number(...) converts a numeric string)")
    if not math.isfinite(value):
        raise reject(where, f"{value} is not a finite number", reason="non_finite")
    return float(value)


def links(value: Any, where: str) -> list[dict[str, str]]:
    """A URL, or an array of URLs and of objects with `href` (and `text`)."""
    items = value if isinstance(value, list) else [value]
    result = []
    for index, link in enumerate(items):
        at = f"{where}[{index}]" if isinstance(value, list) else where
        result.append({"href": link} if isinstance(link, str) else string_values(link, at))
    return result


_READERS: dict[str, Callable[[Any, str], Any]] = {
    **dict.fromkeys(TIME_FIELDS, time_value), **dict.fromkeys(MAP_FIELDS, string_values),
    "value": metric_value, "links": links,
}
"""Readers of the contract fields that are not plain text."""


class WebhookTranslator:
    """A named generic JSON webhook; its `config.mapping` says how a body becomes events."""

    kind = "webhook"

    def __init__(self, name: str, config: IntegrationConfig) -> None:
        prefix = f"ingest.http.integrations.{name}.mapping"
        if config.mapping is None:
            raise ConfigError(f"{prefix}: a webhook integration needs a mapping")
        mapping = config.mapping
        self.event_kind = mapping.kind
        self.source = config.source or name
        self.default_service = config.default_service
        self.constants = {key: value for key, value in mapping.constants.items() if value not in (None, "")}
        self.status_values = {word.lower(): status for word, status in mapping.status_values.items()}
        self.severity_values = {word.lower(): severity for word, severity in mapping.severity_values.items()}
        self.items = self._compile(mapping.items, f"{prefix}.items")
        self.fields = {field: self._compile(expression, f"{prefix}.fields.{field}")
                       for field, expression in mapping.fields.items()}
        self.labels_from = (self._compile(mapping.labels_from, f"{prefix}.labels_from")
                            if mapping.labels_from is not None else None)

    @staticmethod
    def _compile(expression: str, where: str) -> ParsedResult:
        problem = jmespath_problem(expression)
        if problem:
            raise ConfigError(f"{where}: {problem}")
        return jmespath.compile(expression)

    def translate(self, body: Any, received: Received) -> Translation:
        selected = self._search(self.items, body, "items")
        if selected is None:
            raise reject("items", f"{self.items.expression!r} selects nothing in the body")
        if isinstance(selected, dict):
            selected = [selected]
        if not isinstance(selected, list):
            raise reject("items", f"{self.items.expression!r} must select an array or an object, not "
                         f"{_type(selected)}")
        return Translation([self._event(item, body, f"items[{index}]", received)
                            for index, item in enumerate(selected)])

    @staticmethod
    def _search(expression: ParsedResult, data: Any, where: str) -> Any:
        try:
            return expression.search(data)
        except JMESPathError as error:
            raise reject(where, f"{expression.expression!r} failed: {' '.join(str(error).split())}") from None

    def _event(self, item: Any, body: Any, where: str, received: Received) -> InboundEvent:
        scope = {"item": item, "body": body}
        given = dict(self.constants)
        for field, expression in self.fields.items():
            value = self._search(expression, scope, f"{where}.{field}")
            if value in (None, "") or (field in TIME_FIELDS and isinstance(value, str)
                                       and value.startswith(GO_ZERO_TIME)):
                continue
            given[field] = value
        data: dict[str, Any] = {"kind": self.event_kind, "ts": received.moment, "source": self.source,
                                "service": self.default_service}
        data.update({field: self._coerce(field, value, f"{where}.{field}") for field, value in given.items()})
        if self.labels_from is not None:
            found = self._search(self.labels_from, scope, f"{where}.labels_from")
            if found is not None:
                data["labels"] = {**string_values(found, f"{where}.labels_from", skip_nested=True),
                                  **data.get("labels", {})}
        return build_event(data, where)

    def _coerce(self, field: str, value: Any, where: str) -> Any:
        """`value` as contract field `field` needs it, or a rejection naming `where`."""
        read = _READERS.get(field)
        if read is not None:
            return read(value, where)
        word = scalar_text(value, where)
        if field == "status":
            return self._status(word, where)
        if field == "severity":
            return self.severity_values.get(word.lower(), word)
        return word

    def _status(self, word: str, where: str) -> str:
        status = self.status_values.get(word.lower()) or (word.lower() if word.lower() in STATUSES else None)
        if status is None:
            known = ", ".join([*STATUSES, *(w for w in self.status_values if w not in STATUSES)])
            raise reject(where, f"{word!r} is not a known status ({known})")
        return status

