"""Push receivers: signed generic webhook, Slack, Microsoft Teams and PagerDuty Events API v2.

Each sink makes one HTTP request per `deliver` (classification in `aiops.sinks.http`); the payload
builders (`webhook_payload`, `slack_payload`, `teams_payload`, `pagerduty_event`) are pure and documented
in docs/integrations.md. Secrets are already resolved by `aiops.sinks.factory`; nothing here logs a URL
or a key. Retrying, rate limiting and circuit breaking are done around these sinks, not in them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp.abc import AbstractResolver

from aiops import __version__
from aiops.clock import Wall, utc_now
from aiops.incidents import Incident
from aiops.sinks.config import SecurityConfig
from aiops.sinks.destinations import DestinationPolicy
from aiops.sinks.http import HttpClient
from aiops.sinks.receiver_config import (
    PagerDutyReceiverConfig,
    ReceiverBase,
    SlackReceiverConfig,
    TeamsReceiverConfig,
    WebhookReceiverConfig,
)
from aiops.sinks.security import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from aiops.sinks.templates import incident_link, render, root_cause_text, template_context

WEBHOOK_PAYLOAD_VERSION = 1
PROTOCOL_HEADERS = ("Content-Type", "User-Agent", "Idempotency-Key", "X-Aiops-Incident", "X-Aiops-Version",
                    TIMESTAMP_HEADER, SIGNATURE_HEADER)


@dataclass(frozen=True)
class SinkOptions:
    """What every receiver shares from `delivery`: the incident link, TLS verification, the wall clock, the
    destination guard (`delivery.security`, checked on every request) and the DNS lookup under it."""

    link_template: str = ""
    verify_tls: bool = True
    wall: Wall = utc_now
    security: SecurityConfig = field(default_factory=SecurityConfig)
    resolver: AbstractResolver | None = None


class ReceiverSink:
    """Shared plumbing: name, rendered title/body, one `HttpClient`, idempotent close."""

    def __init__(self, name: str, config: ReceiverBase, options: SinkOptions) -> None:
        self._name = name
        self.base = config
        self.link_template = options.link_template
        self.client = HttpClient(name, config.reliability.timeout_seconds, options.verify_tls, options.wall,
                                 DestinationPolicy.of(options.security), options.resolver)

    @property
    def name(self) -> str:
        return self._name

    @property
    def last_status(self) -> int | None:
        return self.client.last_status

    def texts(self, incident: Incident) -> tuple[str, str, str]:
        """(title, body, link) rendered from this receiver's templates."""
        link = incident_link(self.link_template, incident) if self.link_template else ""
        context = template_context(incident, link)
        return render(self.base.title_template, context), render(self.base.body_template, context), link

    async def close(self) -> None:
        await self.client.close()


def webhook_payload(incident: Incident, receiver: str, title: str, body: str, link: str) -> dict[str, Any]:
    return {"payload_version": WEBHOOK_PAYLOAD_VERSION, "receiver": receiver, "title": title, "text": body,
            "link": link or None, "incident": incident.model_dump(mode="json")}


class SignedWebhookSink(ReceiverSink):
    """POST JSON, ``Idempotency-Key: <id>:<version>``, HMAC-SHA256 signature over ``timestamp.body``.

    Configured `headers` cannot replace the protocol headers (`PROTOCOL_HEADERS`, any letter case)."""

    def __init__(self, name: str, config: WebhookReceiverConfig, options: SinkOptions, *, url: str,
                 secret: str | None, headers: dict[str, str]) -> None:
        super().__init__(name, config, options)
        self.url = url
        self.secret = secret
        protocol = {header.lower() for header in PROTOCOL_HEADERS}
        self.headers = {key: value for key, value in headers.items() if key.lower() not in protocol}
        self.wall = options.wall

    def request_headers(self, incident: Incident, body: bytes) -> dict[str, str]:
        headers = {**self.headers, "Content-Type": "application/json", "User-Agent": f"aiops/{__version__}",
                   "Idempotency-Key": incident.idempotency_key, "X-Aiops-Incident": incident.id,
                   "X-Aiops-Version": str(incident.version)}
        if self.secret:
            timestamp = str(int(self.wall().timestamp()))
            headers[TIMESTAMP_HEADER] = timestamp
            headers[SIGNATURE_HEADER] = sign(self.secret, timestamp, body)
        return headers

    async def deliver(self, incident: Incident) -> None:
        title, text, link = self.texts(incident)
        body = json.dumps(webhook_payload(incident, self.name, title, text, link), separators=(",", ":")).encode()
        await self.client.request("POST", self.url, body=body, headers=self.request_headers(incident, body))


_STATUS_EMOJI = {"open": ":red_circle:", "updated": ":large_orange_circle:", "resolved": ":large_green_circle:"}


def slack_payload(incident: Incident, title: str, body: str, link: str) -> dict[str, Any]:
    fields = [("Priority", incident.priority), ("Status", f"{incident.status} (v{incident.version})"),
              ("Services", ", ".join(incident.services) or "-"), ("Root cause", root_cause_text(incident))]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in fields]},
        {"type": "section", "text": {"type": "mrkdwn", "text": body[:2900] or " "}},
    ]
    if link:
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "Open incident"}, "url": link}]})
    blocks.append({"type": "context", "elements": [
        {"type": "mrkdwn", "text": f"{_STATUS_EMOJI[incident.status]} aiops {incident.idempotency_key}"}]})
    return {"text": f"{title} ({incident.status})", "blocks": blocks}


class SlackSink(ReceiverSink):
    def __init__(self, name: str, config: SlackReceiverConfig, options: SinkOptions, *, url: str) -> None:
        super().__init__(name, config, options)
        self.url = url

    async def deliver(self, incident: Incident) -> None:
        await self.client.request("POST", self.url, json_body=slack_payload(incident, *self.texts(incident)))


def teams_payload(incident: Incident, title: str, body: str, link: str) -> dict[str, Any]:
    facts = [{"title": "Priority", "value": incident.priority},
             {"title": "Status", "value": f"{incident.status} (v{incident.version})"},
             {"title": "Services", "value": ", ".join(incident.services) or "-"},
             {"title": "Root cause", "value": root_cause_text(incident)},
             {"title": "Incident", "value": incident.idempotency_key}]
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4",
        "body": [{"type": "TextBlock", "size": "Large", "weight": "Bolder", "wrap": True, "text": title},
                 {"type": "FactSet", "facts": facts},
                 {"type": "TextBlock", "wrap": True, "text": body}],
    }
    if link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open incident", "url": link}]
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}]}


class TeamsSink(ReceiverSink):
    def __init__(self, name: str, config: TeamsReceiverConfig, options: SinkOptions, *, url: str) -> None:
        super().__init__(name, config, options)
        self.url = url

    async def deliver(self, incident: Incident) -> None:
        await self.client.request("POST", self.url, json_body=teams_payload(incident, *self.texts(incident)))


def pagerduty_action(incident: Incident, on_update: str) -> str | None:
    """``trigger`` / ``acknowledge`` / ``resolve``, or None to send nothing. An operator's acknowledgement
    (`change.action`) is sent as ``acknowledge``, a resolve by hand as ``resolve`` (same dedup_key)."""
    if incident.status == "resolved":
        return "resolve"
    if incident.change.action == "acknowledge":
        return "acknowledge"
    if incident.status == "updated":
        return None if on_update == "skip" else on_update
    return "trigger"


def pagerduty_event(incident: Incident, config: PagerDutyReceiverConfig, routing_key: str, action: str,
                    title: str, body: str, link: str) -> dict[str, Any]:
    event: dict[str, Any] = {"routing_key": routing_key, "event_action": action, "dedup_key": incident.id}
    if action == "trigger":
        event["payload"] = {
            "summary": title[:1024], "source": config.source, "severity": config.severity[incident.priority],
            "component": incident.services[0] if incident.services else None, "group": incident.scope,
            "class": root_cause_text(incident),
            "custom_details": {"text": body, "priority": incident.priority, "version": incident.version,
                               "services": incident.services, "idempotency_key": incident.idempotency_key},
        }
        event["client"] = "aiops"
        if link:
            event["client_url"] = link
            event["links"] = [{"href": link, "text": "aiops incident"}]
    return event


class PagerDutySink(ReceiverSink):
    """Events API v2: dedup_key = incident id, so one PagerDuty incident per aiops incident."""

    def __init__(self, name: str, config: PagerDutyReceiverConfig, options: SinkOptions, *, routing_key: str,
                 url: str | None = None) -> None:
        super().__init__(name, config, options)
        self.config = config
        self.routing_key = routing_key
        self.url = config.url if url is None else url  # the resolved `url` (it may be a secret reference)

    async def deliver(self, incident: Incident) -> None:
        action = pagerduty_action(incident, self.config.on_update)
        if action is None:
            return
        event = pagerduty_event(incident, self.config, self.routing_key, action, *self.texts(incident))
        await self.client.request("POST", self.url, json_body=event)
