"""PagerDuty Events API v2: alert events (`POST /v2/enqueue`) and change events (`POST /v2/change/enqueue`).

Identity is PagerDuty's: `dedup_key` (a trigger without one gets a deterministic key, the hash of the event
without `routing_key`, returned in the reply as PagerDuty returns its generated one). A `resolve` carries
no payload, so what correlation routes it by must come from what trigger and resolve share: the fingerprint
is the `dedup_key` and the service is the integration's `default_service` (PagerDuty's model: the routing
key names the service), unless the event's `payload.custom_details.service` names one. A resolve without
payload then lands on the default service and misses a trigger that named another: senders that name the
service must send it on resolve too (Alertmanager's `pagerduty_configs` sends the payload with every event).
`acknowledge` is answered but becomes no event (the contract has no acknowledged state yet). Change events
become `change` events (`custom_details.change_type` names the type). Validation mirrors PagerDuty's 400s
(required fields, actions, severities, `dedup_key` up to 255 characters), not the 1024-character `summary`.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import orjson

from aiops.events import InboundEvent
from aiops.ingest.base import IntegrationTranslator, Received, Translation, build_event, parse_time, reject
from aiops.ingest.config import IntegrationConfig

ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = {"critical": "critical", "error": "high", "warning": "warning", "info": "info"}
"""PagerDuty severity -> aiops severity."""
MAX_DEDUP_KEY = 255
CHANGE_PATH = "/v2/change/enqueue"


def _text(container: dict[str, Any], key: str, where: str, *, required: bool = False) -> str:
    """`container[key]` as a string; "" when absent (a rejection when `required`), a rejection when not text."""
    value = container.get(key)
    if value is None or value == "":
        if required:
            raise reject(f"{where}{key}", "is missing")
        return ""
    if not isinstance(value, str):
        raise reject(f"{where}{key}", f"must be a string, not {type(value).__name__}")
    return value


def _details(value: Any) -> dict[str, str]:
    """`custom_details` as strings: an object's string values as they are, other values as JSON text; a
    non-object (PagerDuty shows any JSON) under the key ``custom_details``."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        return {"custom_details": value if isinstance(value, str) else orjson.dumps(value).decode()}
    return {str(key): item if isinstance(item, str) else orjson.dumps(item).decode() for key, item in value.items()}


def _objects(value: Any, where: str, required_key: str) -> list[dict[str, Any]]:
    """`links` / `images`: a list of objects, each with a string `required_key` (href / src)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise reject(where, f"must be a list of objects, not {type(value).__name__}")
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise reject(f"{where}[{index}]", f"must be an object, not {type(item).__name__}")
        _text(item, required_key, f"{where}[{index}].", required=True)
    return value


def _service(payload: dict[str, Any], config: IntegrationConfig) -> str:
    """`payload.custom_details.service` when it is a non-empty string, else the integration's service."""
    details = payload.get("custom_details")
    named = details.get("service") if isinstance(details, dict) else None
    return named if isinstance(named, str) and named else config.default_service


class PagerDutyTranslator(IntegrationTranslator):
    """Events API v2 bodies; `received.path` tells alert events from change events."""

    kind = "pagerduty"

    def translate(self, body: Any, received: Received) -> Translation:
        if not isinstance(body, dict):
            raise reject("<body>", f"must be a JSON object (one event), not {type(body).__name__}")
        _text(body, "routing_key", "", required=True)
        if received.path.endswith(CHANGE_PATH):
            return Translation([self._change(body, received.moment)])
        action = body.get("event_action")
        if action not in ACTIONS:
            raise reject("event_action", f"must be one of {', '.join(ACTIONS)}, not {action!r}")
        dedup_key = _text(body, "dedup_key", "")
        if len(dedup_key) > MAX_DEDUP_KEY:
            raise reject("dedup_key", f"is too long (maximum is {MAX_DEDUP_KEY} characters)")
        if action == "trigger":
            dedup_key = dedup_key or self._generated_key(body)
            return Translation([self._trigger(body, dedup_key, received.moment)], reply={"dedup_key": dedup_key})
        if not dedup_key:
            raise reject("dedup_key", f"is required for {action}")
        if action == "acknowledge":
            return Translation([], reply={"dedup_key": dedup_key})
        return Translation([self._resolve(body, dedup_key, received.moment)], reply={"dedup_key": dedup_key})

    @staticmethod
    def _generated_key(body: dict[str, Any]) -> str:
        """A deterministic stand-in for PagerDuty's random key: identical triggers share it (one member)."""
        event = {key: value for key, value in body.items() if key not in ("routing_key", "dedup_key")}
        return hashlib.sha256(orjson.dumps(event, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]

    def _trigger(self, body: dict[str, Any], dedup_key: str, now: datetime) -> InboundEvent:
        payload = body.get("payload")
        if not isinstance(payload, dict):
            raise reject("payload", "is missing" if payload is None else "must be an object")
        summary = _text(payload, "summary", "payload.", required=True)
        host = _text(payload, "source", "payload.", required=True)
        severity = _text(payload, "severity", "payload.", required=True)
        if severity not in SEVERITIES:
            raise reject("payload.severity", f"must be one of {', '.join(SEVERITIES)}, not {severity!r}")
        labels = {key: _text(payload, key, "payload.") for key in ("component", "group", "class")}
        annotations = {
            **_details(payload.get("custom_details")), "summary": summary,
            **{key: value for key, value in labels.items() if value}, "dedup_key": dedup_key,
            "client": _text(body, "client", ""), "client_url": _text(body, "client_url", ""),
        }
        for key, required in (("links", "href"), ("images", "src")):
            if items := _objects(body.get(key), key, required):
                annotations[key] = orjson.dumps(items).decode()
        return build_event({
            "kind": "alert", "ts": now, "source": self.source, "service": _service(payload, self.config),
            "host": host, "name": labels["class"] or summary, "severity": SEVERITIES[severity],
            "status": "firing", "fingerprint": dedup_key,
            "labels": {key: value for key, value in labels.items() if value},
            "annotations": {key: value for key, value in annotations.items() if value},
            "starts_at": parse_time(payload.get("timestamp"), "payload.timestamp"),
        }, "<event>")

    def _resolve(self, body: dict[str, Any], dedup_key: str, now: datetime) -> InboundEvent:
        """The resolve of `dedup_key`, routed like its trigger (see the module docstring); its payload, which
        PagerDuty ignores, is read only for the service and name when it is an object."""
        payload = body.get("payload")
        payload = payload if isinstance(payload, dict) else {}
        named = [payload.get(key) for key in ("class", "summary")]
        name = next((value for value in named if isinstance(value, str) and value), dedup_key)
        return build_event({
            "kind": "alert", "ts": now, "source": self.source, "service": _service(payload, self.config),
            "name": name, "status": "resolved", "fingerprint": dedup_key,
            "annotations": {"dedup_key": dedup_key},
        }, "<event>")

    def _change(self, body: dict[str, Any], now: datetime) -> InboundEvent:
        """A change event: service as for alerts; `ts` the payload's timestamp (when the change happened),
        else the receipt; `custom_details` (and `source`) as details; links kept."""
        payload = body.get("payload")
        if not isinstance(payload, dict):
            raise reject("payload", "is missing" if payload is None else "must be an object")
        summary = _text(payload, "summary", "payload.", required=True)
        details = _details(payload.get("custom_details"))
        if source := _text(payload, "source", "payload."):
            details.setdefault("source", source)
        links = [{"href": link["href"], **({"text": link["text"]} if isinstance(link.get("text"), str) else {})}
                 for link in _objects(body.get("links"), "links", "href")]
        change_type = details.get("change_type") or "change"
        return build_event({
            "kind": "change", "ts": parse_time(payload.get("timestamp"), "payload.timestamp") or now,
            "source": self.source, "service": _service(payload, self.config), "summary": summary,
            "change_type": change_type, "links": links, "details": details,
        }, "<event>")
