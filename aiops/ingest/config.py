"""Configuration of HTTP ingest: the listener's bounds and one entry per named integration.

`HttpIngestConfig` is ``ingest.http`` in the config file. Each integration has a `kind` (the format it
speaks), an optional bearer token (a secret: literal, ``${ENV:NAME}`` or ``file:/path``), an optional rate
limit, and per-kind settings: the Alertmanager resolve timeout, the generic webhook's JMESPath mapping.
Models only; the translators (`aiops.ingest`) and the HTTP front (`aiops.runtime.ingest_http`) use them.
"""

from __future__ import annotations

from typing import Any, Literal

import jmespath
from jmespath.exceptions import JMESPathError
from jmespath.functions import Functions
from pydantic import Field, model_validator

from aiops.config_base import StrictModel
from aiops.events import AlertEvent, ChangeEvent, LogEvent, MetricEvent

SECRET_HELP = "Secret: literal, ${ENV:NAME} or file:/path."  # noqa: S105 (help text)
IntegrationKind = Literal["alertmanager", "alertmanager_webhook", "pagerduty", "otlp", "webhook"]
EventKind = Literal["alert", "metric", "log", "change"]
EVENT_FIELDS: dict[str, frozenset[str]] = {
    kind: frozenset(model.model_fields) - {"kind"}
    for kind, model in (("alert", AlertEvent), ("metric", MetricEvent), ("log", LogEvent), ("change", ChangeEvent))
}
"""The contract fields a webhook mapping may fill, per event kind."""
JMESPATH_FUNCTIONS = frozenset(Functions.FUNCTION_TABLE)
MAX_JSON_DEPTH = 128
"""The largest `max_json_depth`: deeper values reach recursion limits in translators (error messages, orjson's
255-level serializer in PagerDuty's details, OTLP AnyValue nesting); tests/unit/test_translator_contract.py."""


def jmespath_problem(expression: str) -> str | None:
    """Why `expression` is not a usable JMESPath expression (syntax, unknown function); None when it is."""
    try:
        parsed = jmespath.compile(expression).parsed
    except JMESPathError as error:
        return f"invalid JMESPath {expression!r}: {' '.join(str(error).split())}"
    stack = [parsed]
    while stack:
        node = stack.pop()
        if node.get("type") == "function_expression" and node.get("value") not in JMESPATH_FUNCTIONS:
            return f"unknown JMESPath function {node.get('value')}() in {expression!r}"
        stack.extend(child for child in node.get("children", []) if isinstance(child, dict))
    return None


class WebhookMapping(StrictModel):
    """How a generic JSON webhook body becomes events, in JMESPath (https://jmespath.org).

    `items` selects the list of things in the body (``@``: the body itself is one item). Each field
    expression is evaluated on ``{"item": <one item>, "body": <the whole body>}``, so ``item.labels.severity``
    and ``body.title`` both work. A field whose expression gives null is left to the contract's default.
    """

    kind: EventKind = Field("alert", description="The kind of event each item becomes.")
    items: str = Field("@", description="JMESPath to the list of items (a single object counts as one).")
    fields: dict[str, str] = Field(
        default_factory=dict, description="Contract field -> JMESPath on {item, body}, e.g. "
        "{name: item.ruleName, service: item.tags.service, ts: item.time}.")
    constants: dict[str, Any] = Field(default_factory=dict, description="Contract field -> a fixed value.")
    status_values: dict[str, Literal["firing", "resolved"]] = Field(
        default_factory=dict, description="The source's status words -> firing/resolved (case-insensitive), "
        "e.g. {PROBLEM: firing, OK: resolved}; unlisted words are a rejection when given.")
    severity_values: dict[str, str] = Field(
        default_factory=dict, description="The source's severity words -> aiops severities (case-insensitive).")
    labels_from: str | None = Field(
        None, description="JMESPath on {item, body} to an object whose scalar values become labels.")

    @model_validator(mode="after")
    def _fields_and_expressions(self) -> WebhookMapping:
        """Every field is a contract field of `kind`; every expression compiles (check-config reports it)."""
        allowed = EVENT_FIELDS[self.kind]
        for name in [*self.fields, *self.constants]:
            if name not in allowed:
                raise ValueError(f"{name!r} is not a field of {self.kind} events ({', '.join(sorted(allowed))})")
        expressions = {"items": self.items, **{f"fields.{k}": v for k, v in self.fields.items()}}
        if self.labels_from is not None:
            expressions["labels_from"] = self.labels_from
        for where, expression in expressions.items():
            problem = jmespath_problem(expression)
            if problem:
                raise ValueError(f"{where}: {problem}")
        return self


class IntegrationConfig(StrictModel):
    kind: IntegrationKind = Field(description="The format this integration speaks.")
    token: str | None = Field(
        None, description="Bearer token every request must carry (`Authorization: Bearer <token>`; PagerDuty "
        "integrations also accept it as the body's `routing_key`); null: no authentication. " + SECRET_HELP)
    rate_limit_per_second: float | None = Field(
        None, gt=0, description="Sustained events per second accepted; above it, 429 with Retry-After. null: none.")
    rate_limit_burst: int = Field(1000, ge=1, description="Events accepted at once above the sustained rate.")
    source: str | None = Field(None, description="The events' `source`; null: the integration's name.")
    default_service: str = Field(
        "unknown", min_length=1, description="The service of an event whose payload names none.")
    resolve_timeout_seconds: float = Field(
        300.0, gt=0, description="alertmanager: a firing alert sent without endsAt is resolved this long after "
        "its last re-send (Alertmanager's `resolve_timeout`).")
    service_labels: list[str] = Field(
        default_factory=lambda: ["service", "job", "app", "application", "component"],
        description="alertmanager, alertmanager_webhook, otlp: the first of these labels (or resource attributes; "
        "otlp also reads service.name first) that is set names the event's service.")
    mapping: WebhookMapping | None = Field(None, description="webhook: how a body becomes events (required).")

    @model_validator(mode="after")
    def _mapping_for_webhook(self) -> IntegrationConfig:
        if self.kind == "webhook" and self.mapping is None:
            raise ValueError("a webhook integration needs a `mapping`")
        if self.kind != "webhook" and self.mapping is not None:
            raise ValueError(f"`mapping` is for webhook integrations, not {self.kind}")
        return self


def default_integrations() -> dict[str, IntegrationConfig]:
    """One integration per standard format, without token (the listener defaults to loopback)."""
    kinds: list[IntegrationKind] = ["alertmanager", "alertmanager_webhook", "pagerduty", "otlp"]
    return {kind.replace("_", "-"): IntegrationConfig(kind=kind) for kind in kinds}


class HttpIngestConfig(StrictModel):
    enabled: bool = Field(True, description="Serve the ingest routes on the `http` listener.")
    max_body_bytes: int = Field(
        4 * 1024 * 1024, ge=1024, description="Larger bodies (after gzip inflation too) get 413.")
    max_json_depth: int = Field(32, ge=2, le=MAX_JSON_DEPTH, description="Deeper JSON gets 400 (`too_deep`); "
                                f"at most {MAX_JSON_DEPTH}, the depth every translator is checked to handle.")
    max_events_per_request: int = Field(10_000, ge=1, description="More events in one request get 413.")
    publish_timeout_seconds: float = Field(
        10.0, gt=0, description="How long a request waits for the broker's acknowledgement before 503.")
    retry_after_seconds: int = Field(5, ge=1, description="Retry-After of a 503 (broker unreachable or slow).")
    allow_unauthenticated: bool = Field(
        False, description="Serve integrations without a token on a listener that is not loopback (`http.host`); "
        "false: the service refuses to start that way.")
    integrations: dict[str, IntegrationConfig] = Field(
        default_factory=default_integrations, description="Named integrations, each served under "
        "/ingest/<name>/; the only one of its kind also on the kind's usual paths (/api/v2/alerts, /v2/enqueue, "
        "/v1/logs, /v1/metrics). Default: alertmanager, alertmanager-webhook, pagerduty, otlp, without token.")
