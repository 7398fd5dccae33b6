"""Generic JSON webhooks: the JMESPath mapping, its strict coercions and rejections, its config validation,
and the worked examples of docs/ingest_webhooks.md (examples/ingest/), so the docs never rot."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from aiops.config import load_config
from aiops.errors import ConfigError, PayloadRejectedError
from aiops.events import AlertEvent, ChangeEvent, LogEvent, MetricEvent
from aiops.ingest.base import Received
from aiops.ingest.config import IntegrationConfig, WebhookMapping
from aiops.ingest.webhook import WebhookTranslator

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "ingest"
DOC = ROOT / "docs" / "ingest_webhooks.md"
NOW = 1_717_243_500.0  # 2024-06-01T12:05:00Z, the --now of the docs' examples


def translator(mapping: dict[str, Any], **config: Any) -> WebhookTranslator:
    return WebhookTranslator("hook", IntegrationConfig(kind="webhook", mapping=WebhookMapping(**mapping), **config))


def events(mapping: dict[str, Any], body: Any, **config: Any) -> list[Any]:
    return translator(mapping, **config).translate(body, Received("hook", NOW, "")).events


def rejection(mapping: dict[str, Any], body: Any) -> PayloadRejectedError:
    with pytest.raises(PayloadRejectedError) as caught:
        events(mapping, body)
    return caught.value


FIELDS = {"name": "item.name", "status": "item.state"}
ALERT: dict[str, Any] = {"items": "alerts", "fields": FIELDS}


# --- the documented examples ---------------------------------------------------------------------------------


def example_events(name: str) -> list[Any]:
    config = load_config(EXAMPLES / "webhooks.yaml", environ={})
    integration = config.ingest.http.integrations[name]
    body = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return WebhookTranslator(name, integration).translate(body, Received(name, NOW, "")).events


def test_grafana_example() -> None:
    firing, resolved = example_events("grafana")
    assert isinstance(firing, AlertEvent)
    assert isinstance(resolved, AlertEvent)
    assert (firing.name, firing.status, firing.severity, firing.service, firing.host, firing.fingerprint) == (
        "CheckoutLatencyHigh", "firing", "critical", "checkout", "checkout-7d9f:8080", "a3f1c6d2e4b59071")
    assert firing.epoch == NOW
    assert firing.ends_at is None
    assert firing.starts_at is not None
    assert firing.starts_at.isoformat() == "2024-06-01T12:00:00+00:00"
    assert firing.labels["team"] == "payments"
    assert firing.labels["alertname"] == "CheckoutLatencyHigh"
    assert firing.annotations["generator_url"].startswith("https://grafana.example.com/alerting/")
    assert (resolved.status, resolved.ts.isoformat()) == ("resolved", "2024-06-01T11:58:00+00:00")
    assert resolved.ends_at == resolved.ts
    assert "dashboard_url" not in resolved.annotations


def test_zabbix_example() -> None:
    [event] = example_events("zabbix")
    assert isinstance(event, AlertEvent)
    assert (event.name, event.status, event.severity, event.service, event.host, event.fingerprint) == (
        "High CPU utilization (over 90% for 5m)", "firing", "high", "payments-db", "pay-db-01", "8412977")
    assert event.labels == {"service": "payments-db", "component": "cpu", "scope": "performance"}
    assert "trigger_url" not in event.annotations


def test_zabbix_recovery_and_missing_service_tag() -> None:
    config = load_config(EXAMPLES / "webhooks.yaml", environ={}).ingest.http.integrations["zabbix"]
    body = json.loads((EXAMPLES / "zabbix.json").read_text(encoding="utf-8"))
    body.update(event_value="0", severity="Disaster", tags={})
    [event] = WebhookTranslator("zabbix", config).translate(body, Received("zabbix", NOW, "")).events
    assert isinstance(event, AlertEvent)
    assert (event.status, event.severity, event.service) == ("resolved", "critical", "pay-db-01")


def test_datadog_example() -> None:
    [event] = example_events("datadog")
    assert isinstance(event, AlertEvent)
    assert (event.status, event.severity, event.service, event.host) == ("firing", "high", "web", "web-3")
    assert event.ts.isoformat() == "2024-06-01T12:03:00+00:00"  # $DATE, epoch ms as a string
    assert event.labels == {"env": "prod", "monitor_id": "123456", "priority": "P2", "alert_type": "error"}


def test_datadog_recovery_without_tags() -> None:
    config = load_config(EXAMPLES / "webhooks.yaml", environ={}).ingest.http.integrations["datadog"]
    body = json.loads((EXAMPLES / "datadog.json").read_text(encoding="utf-8"))
    body.update(transition="Recovered", service="", env="")
    [event] = WebhookTranslator("datadog", config).translate(body, Received("datadog", NOW, "")).events
    assert isinstance(event, AlertEvent)
    assert (event.status, event.service, event.fingerprint) == ("resolved", "unknown", body["aggreg_key"])
    assert "env" not in event.labels


@pytest.mark.parametrize("name", ["grafana", "zabbix", "datadog"])
def test_docs_show_the_example_config_payload_and_events(name: str) -> None:
    doc = DOC.read_text(encoding="utf-8")
    payload = (EXAMPLES / f"{name}.json").read_text(encoding="utf-8").strip()
    assert f"```json\n{payload}\n```" in doc, f"docs/ingest_webhooks.md shows another {name} payload"
    for event in example_events(name):
        line = json.dumps(event.model_dump(mode="json"))
        assert line in doc, f"docs/ingest_webhooks.md does not show this {name} event:\n{line}"
    integrations = load_config(EXAMPLES / "webhooks.yaml", environ={}).ingest.http.integrations
    blocks = [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", doc, re.S)]
    shown = [block[name] for block in blocks if isinstance(block, dict) and name in block]
    assert shown
    assert IntegrationConfig.model_validate(shown[0]) == integrations[name]


# --- mapping semantics ---------------------------------------------------------------------------------------


def test_items_array_object_and_body_list() -> None:
    body = {"alerts": [{"name": "A", "state": "firing"}, {"name": "B", "state": "RESOLVED"}]}
    assert [(e.name, e.status) for e in events(ALERT, body)] == [("A", "firing"), ("B", "resolved")]
    assert [e.name for e in events(ALERT, {"alerts": {"name": "C", "state": "firing"}})] == ["C"]
    assert events(ALERT, {"alerts": []}) == []
    at_body = {**ALERT, "items": "@"}
    assert [e.name for e in events(at_body, [{"name": "D", "state": "firing"}])] == ["D"]


def test_fields_see_item_and_body_and_defaults_apply() -> None:
    mapping = {**ALERT, "fields": {**FIELDS, "service": "body.team", "host": "item.host"}}
    [event] = events(mapping, {"team": "", "alerts": [{"name": "A", "state": "firing", "host": None}]},
                     default_service="fallback", source="tool")
    assert (event.service, event.host, event.source, event.epoch, event.severity) == (
        "fallback", "", "tool", NOW, "warning")
    [event] = events(mapping, {"team": "pay", "alerts": [{"name": "A", "state": "firing", "host": "h1"}]})
    assert (event.service, event.host, event.source) == ("pay", "h1", "hook")


def test_constants_are_fixed_values_and_fallbacks() -> None:
    mapping = {"fields": {"name": "item.name", "severity": "item.sev"},
               "constants": {"status": "firing", "severity": "info", "service": "edge"}}
    [event] = events(mapping, {"name": "A"})
    assert (event.status, event.severity, event.service) == ("firing", "info", "edge")
    [event] = events(mapping, {"name": "A", "sev": "critical"})
    assert event.severity == "critical"


def test_status_and_severity_words_are_mapped_case_insensitively() -> None:
    mapping = {**ALERT, "fields": {**FIELDS, "severity": "item.sev"},
               "status_values": {"PROBLEM": "firing", "ok": "resolved"},
               "severity_values": {"Disaster": "critical"}}
    body = {"alerts": [{"name": "A", "state": "problem", "sev": "DISASTER"},
                       {"name": "B", "state": "OK", "sev": "Average"}, {"name": "C", "state": "Firing", "sev": 3}]}
    assert [(e.status, e.severity) for e in events(mapping, body)] == [
        ("firing", "critical"), ("resolved", "Average"), ("firing", "3")]
    error = rejection(mapping, {"alerts": [{"name": "A", "state": "firing"}, {"name": "B", "state": "flapping"}]})
    assert error.detail == "items[1].status: 'flapping' is not a known status (firing, resolved, problem, ok)"


def test_text_fields_take_scalars_as_json_text() -> None:
    mapping = {**ALERT, "fields": {**FIELDS, "fingerprint": "item.id", "host": "item.up"}}
    [event] = events(mapping, {"alerts": [{"name": 42, "state": "firing", "id": 1.5, "up": True}]})
    assert (event.name, event.fingerprint, event.host) == ("42", "1.5", "true")
    error = rejection(mapping, {"alerts": [{"name": {"x": 1}, "state": "firing"}]})
    assert error.detail == "items[0].name: must be a string, number or boolean, not an object"


def test_times_are_rfc3339_or_epoch_numbers() -> None:
    mapping = {**ALERT, "fields": {**FIELDS, "ts": "item.at", "starts_at": "item.since",
                                   "ends_at": "item.until"}}
    [event] = events(mapping, {"alerts": [{"name": "A", "state": "firing", "at": 1717243200000,
                                           "since": "2024-06-01T13:00:00+01:00", "until": "0001-01-01T00:00:00Z"}]})
    assert event.ts.isoformat() == "2024-06-01T12:00:00+00:00"
    assert event.starts_at is not None
    assert event.starts_at.isoformat() == "2024-06-01T12:00:00+00:00"
    assert event.ends_at is None
    numeric_string = rejection(mapping, {"alerts": [{"name": "A", "state": "firing", "at": "1717243200"}]})
    assert numeric_string.detail.startswith("items[0]: ")
    assert "ts must be a JSON number" in numeric_string.detail
    boolean = rejection(mapping, {"alerts": [{"name": "A", "state": "firing", "at": True}]})
    assert boolean.detail.startswith("items[0].ts: must be an RFC 3339 string")
    naive = rejection(mapping, {"alerts": [{"name": "A", "state": "firing", "at": "2024-06-01T12:00:00"}]})
    assert naive.detail.startswith("items[0]: ")
    assert "ts: Input should have timezone info" in naive.detail


def test_to_number_converts_a_numeric_string() -> None:
    mapping = {**ALERT, "fields": {**FIELDS, "ts": "to_number(item.at)"}}
    [event] = events(mapping, {"alerts": [{"name": "A", "state": "firing", "at": "1717243200"}]})
    assert event.ts.isoformat() == "2024-06-01T12:00:00+00:00"


def test_metric_value_must_be_a_finite_number() -> None:
    mapping: dict[str, Any] = {"kind": "metric", "items": "points",
               "fields": {"name": "item.metric", "value": "item.v", "labels": "item.tags"}}
    [event] = events(mapping, {"points": [{"metric": "cpu", "v": 97, "tags": {"core": 3, "cached": None}}]})
    assert isinstance(event, MetricEvent)
    assert (event.name, event.value, event.labels) == ("cpu", 97.0, {"core": "3"})
    text = rejection(mapping, {"points": [{"metric": "cpu", "v": "97"}]})
    assert text.detail.startswith("items[0].value: must be a JSON number, not a string (to_number(")
    converted = {**mapping, "fields": {**mapping["fields"], "value": "to_number(item.v)"}}
    assert [e.value for e in events(converted, {"points": [{"metric": "cpu", "v": "97.5"}]})] == [97.5]
    nan = rejection(converted, {"points": [{"metric": "cpu", "v": "NaN"}]})
    assert nan.reason == "non_finite"
    assert nan.detail.startswith("items[0].value:")
    missing = rejection(converted, {"points": [{"metric": "cpu", "v": "n/a"}]})  # to_number gives null
    assert "value" in missing.detail
    assert "Field required" in missing.detail


def test_labels_from_takes_scalars_and_fields_labels_win() -> None:
    mapping = {**ALERT, "labels_from": "item.tags", "fields": {**FIELDS, "labels": "{team: item.team}"}}
    body = {"alerts": [{"name": "A", "state": "firing", "team": "pay",
                        "tags": {"env": "prod", "n": 2, "team": "other", "nested": {"x": 1}, "list": [1], "e": ""}}]}
    [event] = events(mapping, body)
    assert event.labels == {"env": "prod", "n": "2", "team": "pay"}
    nested = rejection({**ALERT, "fields": {**FIELDS, "labels": "item.tags"}}, body)
    assert nested.detail == "items[0].labels.nested: must be a string, number or boolean, not an object"


def test_log_and_change_events() -> None:
    log = {"kind": "log", "fields": {"message": "body.text", "level": "body.level", "service": "body.app"}}
    [event] = events(log, {"text": "disk full", "level": "ERROR", "app": "db"})
    assert isinstance(event, LogEvent)
    assert (event.message, event.level_rank, event.service) == ("disk full", 40, "db")
    change: dict[str, Any] = {"kind": "change", "fields": {
        "service": "body.repository.name", "summary": "join(' ', ['deploy', body.repository.name, body.version])",
        "ts": "body.finished_at", "links": "body.url", "details": "{author: body.author, commit: body.sha}"},
        "constants": {"change_type": "deploy"}}
    body = {"repository": {"name": "checkout"}, "version": "1.4.2", "finished_at": "2024-06-01T11:50:00Z",
            "url": "https://ci.example.com/run/9", "author": "ann", "sha": "abc123"}
    [event] = events(change, body)
    assert isinstance(event, ChangeEvent)
    assert (event.summary, event.change_type, event.service) == ("deploy checkout 1.4.2", "deploy", "checkout")
    assert event.links == [{"href": "https://ci.example.com/run/9"}]
    assert event.details == {"author": "ann", "commit": "abc123"}
    many = {**change, "fields": {**change["fields"], "links": "[body.url, {href: body.url, text: 'run'}]"}}
    assert events(many, body)[0].links == [{"href": body["url"]}, {"href": body["url"], "text": "run"}]


@pytest.mark.parametrize(("mapping", "body", "detail"), [
    (ALERT, {"other": []}, "items: 'alerts' selects nothing in the body"),
    (ALERT, {"alerts": "x"}, "items: 'alerts' must select an array or an object, not a string"),
    (ALERT, {"alerts": [{"name": "A"}]}, "items[0]: "),  # the contract's own message follows
    ({**ALERT, "fields": {**FIELDS, "annotations": "merge(item.a, item.b)"}},
     {"alerts": [{"name": "A", "state": "firing", "a": 1}]}, "items[0].annotations: 'merge(item.a, item.b)' failed"),
])
def test_rejections_name_the_item_and_field(mapping: dict[str, Any], body: Any, detail: str) -> None:
    error = rejection(mapping, body)
    assert error.reason == "schema"
    assert error.detail.startswith(detail)
    if detail == "items[0]: ":
        assert "status: Field required" in error.detail


# --- config validation ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("mapping", "problem"), [
    ({"fields": {"name": "item.["}}, "fields.name: invalid JMESPath 'item.['"),
    ({"fields": {"name": "lower(item.x)"}}, "fields.name: unknown JMESPath function lower()"),
    ({"items": "alerts[?"}, "items: invalid JMESPath"),
    ({"labels_from": "item..x"}, "labels_from: invalid JMESPath"),
    ({"fields": {"value": "item.v"}}, "'value' is not a field of alert events"),
    ({"kind": "metric", "constants": {"status": "firing"}}, "'status' is not a field of metric events"),
])
def test_mapping_validation_reports_what_and_where(mapping: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(problem)):
        WebhookMapping(**mapping)


def test_check_config_path_names_the_integration(tmp_path: Path) -> None:
    path = tmp_path / "aiops.yaml"
    path.write_text("ingest:\n  http:\n    integrations:\n      grafana:\n        kind: webhook\n"
                    "        mapping:\n          fields: {name: 'foo(item)'}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape("ingest.http.integrations.grafana.mapping")):
        load_config(path, environ={})


def test_translator_reports_an_unvalidated_bad_expression_as_config_error() -> None:
    mapping = WebhookMapping.model_construct(kind="alert", items="@", fields={"name": "a["}, constants={},
                                             status_values={}, severity_values={}, labels_from=None)
    config = IntegrationConfig.model_construct(kind="webhook", mapping=mapping, source=None, default_service="x")
    with pytest.raises(ConfigError, match=re.escape("ingest.http.integrations.hook.mapping.fields.name")):
        WebhookTranslator("hook", config)
