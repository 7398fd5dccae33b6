"""One known-good request body per ingest integration kind and route (`aiops.ingest.registry.ROUTES`), with the
integration settings it is translated under and which event fields take the receive time. Used by the shared
translator contract suite (tests/unit/test_translator_contract.py); the per-format unit tests keep their own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiops.config import load_config
from aiops.ingest.config import IntegrationConfig

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "ingest"
NOW = 1_717_243_500.0  # 2024-06-01T12:05:00Z; every sample's own times are before it
ROUTING_KEY = "e93facc04764012d7bfb002500d5d1a6"


@dataclass(frozen=True)
class Sample:
    """A body that `kind`'s translator accepts whole on `path` for the integration `name` configured so."""

    id: str
    name: str
    config: IntegrationConfig
    path: str
    body: Any
    now_fields: frozenset[str]
    """The event fields that default to the receive time in this body (they move with `Received.now`)."""


def _kv(key: str, value: str) -> dict[str, Any]:
    return {"key": key, "value": {"stringValue": value}}


ALERTMANAGER_API = [  # as Prometheus posts it; the last alert is from a client that omits startsAt
    {"labels": {"alertname": "HighLatency", "severity": "critical", "job": "checkout", "instance": "10.0.0.7:9090"},
     "annotations": {"summary": "p99 above 800 ms"}, "startsAt": "2024-06-01T11:55:00.123Z",
     "generatorURL": "http://prometheus:9090/graph?g0.expr=latency"},
    {"labels": {"alertname": "DiskFull", "service": "db", "instance": "db-1"}, "annotations": {},
     "startsAt": "2024-06-01T10:00:00Z", "endsAt": "2024-06-01T11:00:00Z", "generatorURL": ""},
    {"labels": {"alertname": "QueueBacklog", "app": "billing"}},
]

ALERTMANAGER_WEBHOOK = {  # the v4 notification of a webhook_config
    "version": "4", "groupKey": '{}:{job="checkout"}', "truncatedAlerts": 0, "status": "firing",
    "receiver": "aiops", "groupLabels": {"job": "checkout"}, "commonLabels": {"job": "checkout"},
    "commonAnnotations": {}, "externalURL": "http://alertmanager:9093",
    "alerts": [
        {"status": "firing", "labels": {"alertname": "Slow", "severity": "warning", "job": "checkout"},
         "annotations": {"description": "p99 is high"}, "startsAt": "2024-06-01T11:50:00Z",
         "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prometheus:9090/graph?g0.expr=slow",
         "fingerprint": "9266ef3da838ad95"},
        {"status": "resolved", "labels": {"alertname": "Down", "severity": "critical", "job": "checkout"},
         "annotations": {}, "startsAt": "2024-06-01T11:40:00Z", "endsAt": "2024-06-01T11:55:00Z",
         "generatorURL": "http://prometheus:9090/graph?g0.expr=down", "fingerprint": "3b15fd163d36582e"},
    ],
}

PAGERDUTY_TRIGGER = {  # PagerDuty's documented example trigger
    "routing_key": ROUTING_KEY, "dedup_key": "srv01/mysql", "event_action": "trigger",
    "payload": {"summary": "DISK at 99% on machine prod-datapipe03.example.com",
                "timestamp": "2024-06-01T11:42:58.315+0000", "severity": "critical",
                "source": "prod-datapipe03.example.com", "component": "mysql", "group": "prod-datapipe",
                "class": "disk", "custom_details": {"free space": "1%", "load avg": 0.75, "service": "datapipe"}},
    "client": "Sample Monitoring Service", "client_url": "https://monitoring.service.com",
    "links": [{"href": "http://pagerduty.example.com", "text": "An example link."}],
    "images": [{"src": "https://chart.example.com/disk.png", "href": "https://example.com", "alt": "chart"}],
}

PAGERDUTY_RESOLVE = {"routing_key": ROUTING_KEY, "dedup_key": "srv01/mysql", "event_action": "resolve"}

PAGERDUTY_CHANGE = {  # PagerDuty's documented example change event
    "routing_key": ROUTING_KEY,
    "payload": {"summary": "Build Success: Increase snapshot create timeout to 30 seconds",
                "timestamp": "2024-06-01T11:42:58.315+0000", "source": "acme-build-pipeline-tool-default-i-9999",
                "custom_details": {"build_state": "passed", "build_number": 2, "change_type": "deploy"}},
    "links": [{"href": "https://acme.pagerduty.dev/build/2", "text": "View more details in Acme!"}],
}

OTLP_LOGS = {  # the second record has no time: it takes the receive time
    "resourceLogs": [{
        "resource": {"attributes": [_kv("service.name", "checkout"), _kv("host.name", "node-1")]},
        "scopeLogs": [{"scope": {"name": "app"}, "logRecords": [
            {"timeUnixNano": "1717243200000000000", "severityNumber": 17, "severityText": "ERROR",
             "body": {"stringValue": "payment declined"}, "traceId": "5B8EFFF798038103D269B633813FC60C",
             "spanId": "EEE19B7EC3C1B174", "attributes": [_kv("http.route", "/pay"),
                                                          {"key": "retries", "value": {"intValue": "3"}}]},
            {"observedTimeUnixNano": "0", "severityNumber": 9,
             "body": {"kvlistValue": {"values": [_kv("event", "started")]}}},
        ]}],
    }],
}

OTLP_METRICS = {  # the sum point has no time: it takes the receive time
    "resourceMetrics": [{
        "resource": {"attributes": [_kv("service.name", "checkout"), _kv("k8s.pod.name", "checkout-7d9f")]},
        "scopeMetrics": [{"scope": {"name": "app"}, "metrics": [
            {"name": "queue_depth", "unit": "1", "gauge": {"dataPoints": [
                {"timeUnixNano": "1717243200000000000", "asDouble": 12.5, "attributes": [_kv("queue", "orders")]}]}},
            {"name": "requests_total", "sum": {"aggregationTemporality": 2, "isMonotonic": True,
                                               "dataPoints": [{"asInt": "1024"}]}},
        ]}],
    }],
}


def _example_webhook(name: str, now_fields: frozenset[str]) -> Sample:
    """The documented webhook example `name` (examples/ingest/webhooks.yaml and <name>.json)."""
    config = load_config(EXAMPLES / "webhooks.yaml", environ={}).ingest.http.integrations[name]
    body = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return Sample(f"webhook-{name}", name, config, "", body, now_fields)


def samples() -> list[Sample]:
    """Every sample: at least one per (kind, path) of ROUTES."""
    def config(kind: Any) -> IntegrationConfig:
        return IntegrationConfig(kind=kind)

    return [
        Sample("alertmanager", "am-api", config("alertmanager"), "/api/v2/alerts", ALERTMANAGER_API,
               frozenset({"ts", "starts_at", "ends_at"})),
        Sample("alertmanager_webhook", "am-webhook", config("alertmanager_webhook"), "", ALERTMANAGER_WEBHOOK,
               frozenset({"ts"})),
        Sample("pagerduty-trigger", "pd", config("pagerduty"), "/v2/enqueue", PAGERDUTY_TRIGGER, frozenset({"ts"})),
        Sample("pagerduty-resolve", "pd", config("pagerduty"), "/v2/enqueue", PAGERDUTY_RESOLVE, frozenset({"ts"})),
        Sample("pagerduty-change", "pd", config("pagerduty"), "/v2/change/enqueue", PAGERDUTY_CHANGE, frozenset()),
        Sample("otlp-logs", "otel", config("otlp"), "/v1/logs", OTLP_LOGS, frozenset({"ts"})),
        Sample("otlp-metrics", "otel", config("otlp"), "/v1/metrics", OTLP_METRICS, frozenset({"ts"})),
        _example_webhook("grafana", frozenset({"ts"})),
        _example_webhook("zabbix", frozenset({"ts"})),
        _example_webhook("datadog", frozenset()),
    ]
