"""Alertmanager's doors: its API (`POST /api/v2/alerts`, what Prometheus and other rulers post) and the v4
webhook notification an Alertmanager `webhook_config` sends. Each alert becomes an alert event.

Identity is the label set, fingerprinted exactly as Alertmanager does (`label_fingerprint`). The API follows
Alertmanager's `postAlertsHandler`: a missing `startsAt` is `endsAt` or now, a missing `endsAt` is now + the
integration's `resolve_timeout_seconds` (carried as `ends_at`, so a re-send refreshes it and correlation
resolves the alert on event time when it passes), an alert whose `endsAt` is not after now is resolved. A
body that breaks the OpenAPI schema is rejected whole; alerts failing Alertmanager's per-alert validation
(or lacking the `alertname` aiops needs) are left out and named in `Translation.problems` while the valid
ones are kept, as Alertmanager stores them and answers 400. The webhook mirrors Alertmanager's notification:
each alert with its own status; group labels kept under the alert's own. No I/O, no clock: now is passed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiops.errors import PayloadRejectedError
from aiops.events import InboundEvent
from aiops.ingest.base import (
    IntegrationTranslator,
    Received,
    Translation,
    build_event,
    parse_time,
    reject,
    string_map,
)
from aiops.ingest.config import IntegrationConfig
from aiops.ingest.fingerprint import label_fingerprint, label_fingerprints


def contract_fields(labels: Mapping[str, str], config: IntegrationConfig, where: str) -> dict[str, Any]:
    """name, severity, service and host of an alert from its labels: `alertname` (required), `severity`
    (default warning), the first of `config.service_labels` that is set (else `default_service`), `instance`."""
    name = labels.get("alertname")
    if not name:
        raise reject(f"{where}.labels.alertname", "is required (it is the alert's name in aiops)")
    service = config.default_service
    for key in config.service_labels:
        if labels.get(key):
            service = labels[key]
            break
    return {"name": name, "severity": labels.get("severity") or "warning", "service": service,
            "host": labels.get("instance", "")}


def _with_link(annotations: dict[str, str], key: str, url: Any, where: str) -> dict[str, str]:
    """`annotations` plus `key`: `url` when it is a non-empty string and the key is free."""
    if url is None:
        return annotations
    if not isinstance(url, str):
        raise reject(where, f"must be a string, not {type(url).__name__}")
    if url and key not in annotations:
        return {**annotations, key: url}
    return annotations


@dataclass(frozen=True)
class _Postable:
    """One `postableAlert` that passed the OpenAPI schema (types only; Alertmanager validates the rest)."""

    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime | None
    ends_at: datetime | None


def _postable(item: Any, where: str) -> _Postable:
    """The schema check Alertmanager's OpenAPI layer makes before its handler: a failure rejects the body."""
    if not isinstance(item, dict):
        raise reject(where, f"must be an alert object, not {type(item).__name__}")
    if "labels" not in item or item["labels"] is None:
        raise reject(f"{where}.labels", "is required")
    labels = string_map(item["labels"], f"{where}.labels")
    annotations = _with_link(string_map(item.get("annotations"), f"{where}.annotations"), "generator_url",
                             item.get("generatorURL"), f"{where}.generatorURL")
    return _Postable(labels, annotations, parse_time(item.get("startsAt"), f"{where}.startsAt"),
                     parse_time(item.get("endsAt"), f"{where}.endsAt"))


class AlertmanagerApiTranslator(IntegrationTranslator):
    """`POST /api/v2/alerts`: a JSON array of `{labels, annotations, startsAt, endsAt, generatorURL}`."""

    kind = "alertmanager"

    def translate(self, body: Any, received: Received) -> Translation:
        if not isinstance(body, list):
            raise reject("<body>", f"must be a JSON array of alerts, not {type(body).__name__}")
        posted = [_postable(item, f"[{index}]") for index, item in enumerate(body)]
        label_sets = [{key: value for key, value in alert.labels.items() if value} for alert in posted]
        fingerprints = label_fingerprints(label_sets)  # Alertmanager drops empty label values first
        events: list[InboundEvent] = []
        problems: list[str] = []
        for index, alert in enumerate(posted):
            try:
                events.append(self._event(alert, label_sets[index], fingerprints[index], received,
                                          f"[{index}]"))
            except PayloadRejectedError as error:
                problems.append(error.detail)
        if problems and not events:
            raise PayloadRejectedError("schema", "; ".join(problems))
        return Translation(events, problems=problems)

    def _event(self, alert: _Postable, labels: dict[str, str], fingerprint: str, received: Received,
               where: str) -> InboundEvent:
        """Alertmanager's defaults and validation (api/v2 `postAlertsHandler`, `Alert.Validate`), then the
        contract: a firing alert's `ts` is the receipt (each re-send refreshes it), a resolved one's `endsAt`."""
        now = received.now
        timeout = self.config.resolve_timeout_seconds
        starts = alert.starts_at or alert.ends_at or received.moment
        ends = alert.ends_at or received.moment + timedelta(seconds=timeout)
        ends_epoch = ends.timestamp() if alert.ends_at else now + timeout
        starts_epoch = starts.timestamp()
        if ends_epoch < starts_epoch:
            raise reject(where, "start time must be before end time")
        if not labels:
            raise reject(f"{where}.labels", "at least one label pair required")
        if "" in labels:
            raise reject(f"{where}.labels", 'invalid label set: invalid name ""')
        if "" in alert.annotations:
            raise reject(f"{where}.annotations", 'invalid annotations: invalid name ""')
        firing = ends_epoch > now
        return build_event({
            "kind": "alert", "ts": received.moment if firing else ends, "source": self.source,
            **contract_fields(labels, self.config, where), "status": "firing" if firing else "resolved",
            "fingerprint": fingerprint, "labels": labels, "annotations": alert.annotations,
            "starts_at": starts, "ends_at": ends,
        }, where)


class AlertmanagerWebhookTranslator(IntegrationTranslator):
    """The v4 notification of an Alertmanager `webhook_config` (Grafana's webhook, version "1", has the same
    shape): every alert of `alerts` becomes an event with its own status; an alert that cannot is left out
    and named in `Translation.problems` (the body is rejected when none can).

    A firing alert gets no `ends_at`: Alertmanager blanks `endsAt` of unresolved alerts in notifications and
    notifies again only on group changes or `repeat_interval`, so the correlation's `stale_seconds` applies;
    the resolved notification (`send_resolved`, on by default for webhooks) resolves it at its `endsAt`.
    """

    kind = "alertmanager_webhook"

    def translate(self, body: Any, received: Received) -> Translation:
        if not isinstance(body, dict):
            raise reject("<body>", f"must be an Alertmanager notification object, not {type(body).__name__}")
        alerts = body.get("alerts")
        if not isinstance(alerts, list):
            raise reject("alerts", "is required: a list of alerts")
        group_labels = string_map(body.get("groupLabels"), "groupLabels")
        external = _with_link({}, "external_url", body.get("externalURL"), "externalURL")
        events: list[InboundEvent] = []
        problems: list[str] = []
        for index, alert in enumerate(alerts):
            try:
                events.append(self._event(alert, group_labels, external, received.moment, f"alerts[{index}]"))
            except PayloadRejectedError as error:
                problems.append(error.detail)
        if problems and not events:
            raise PayloadRejectedError("schema", "; ".join(problems))
        return Translation(events, problems=problems)

    def _event(self, alert: Any, group_labels: dict[str, str], external: dict[str, str], now: datetime,
               where: str) -> InboundEvent:
        if not isinstance(alert, dict):
            raise reject(where, f"must be an alert object, not {type(alert).__name__}")
        status = alert.get("status")
        if status not in ("firing", "resolved"):
            raise reject(f"{where}.status", f"must be firing or resolved, not {status!r}")
        own_labels = string_map(alert.get("labels"), f"{where}.labels")
        labels = {**group_labels, **own_labels}
        annotations = _with_link(string_map(alert.get("annotations"), f"{where}.annotations"), "generator_url",
                                 alert.get("generatorURL"), f"{where}.generatorURL")
        fingerprint = alert.get("fingerprint")
        if fingerprint is not None and not isinstance(fingerprint, str):
            raise reject(f"{where}.fingerprint", f"must be a string, not {type(fingerprint).__name__}")
        starts = parse_time(alert.get("startsAt"), f"{where}.startsAt")
        ends = parse_time(alert.get("endsAt"), f"{where}.endsAt")
        resolved = status == "resolved"
        return build_event({
            "kind": "alert", "ts": (ends or now) if resolved else now, "source": self.source,
            **contract_fields(labels, self.config, where), "status": status,
            "fingerprint": fingerprint or label_fingerprint(own_labels), "labels": labels,
            "annotations": {**external, **annotations}, "starts_at": starts, "ends_at": ends if resolved else None,
        }, where)
