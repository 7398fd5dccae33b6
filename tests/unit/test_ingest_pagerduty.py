"""PagerDuty Events API v2 translator: trigger / acknowledge / resolve, change events, PagerDuty's validation,
and the routing rule that lets a payload-less resolve find its trigger through the pipeline."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from aiops.config import AiopsConfig
from aiops.errors import PayloadRejectedError
from aiops.events import AlertEvent, ChangeEvent
from aiops.incidents import Incident
from aiops.ingest.base import Received, Translation
from aiops.ingest.config import IntegrationConfig
from aiops.ingest.pagerduty import PagerDutyTranslator
from aiops.pipeline import Pipeline

NOW = 1_714_557_600.0  # 2024-05-01T10:00:00Z
ROUTING_KEY = "e93facc04764012d7bfb002500d5d1a6"

# PagerDuty's own example trigger (developer docs, "Send an Alert Event").
TRIGGER: dict[str, Any] = {
    "payload": {
        "summary": "DISK at 99% on machine prod-datapipe03.example.com",
        "timestamp": "2015-07-17T08:42:58.315+0000",
        "severity": "critical",
        "source": "prod-datapipe03.example.com",
        "component": "mysql",
        "group": "prod-datapipe",
        "class": "disk",
        "custom_details": {"free space": "1%", "ping time": "1500ms", "load avg": 0.75},
    },
    "routing_key": ROUTING_KEY,
    "dedup_key": "srv01/mysql",
    "event_action": "trigger",
    "client": "Sample Monitoring Service",
    "client_url": "https://monitoring.service.com",
    "links": [{"href": "http://pagerduty.example.com", "text": "An example link."}],
    "images": [{"src": "https://chart.example.com/disk.png", "href": "https://example.com", "alt": "chart"}],
}

# PagerDuty's own example change event (developer docs, "Send a Change Event").
CHANGE: dict[str, Any] = {
    "routing_key": ROUTING_KEY,
    "payload": {
        "summary": "Build Success: Increase snapshot create timeout to 30 seconds",
        "timestamp": "2020-07-17T08:42:58.315+0000",
        "source": "acme-build-pipeline-tool-default-i-9999",
        "custom_details": {"build_state": "passed", "build_number": "2", "run_time": "1236s"},
    },
    "links": [{"href": "https://acme.pagerduty.dev/build/2", "text": "View more details in Acme!"}],
}


def translator(**settings: Any) -> PagerDutyTranslator:
    return PagerDutyTranslator("pd", IntegrationConfig(kind="pagerduty", **settings))


def send(body: Any, path: str = "/v2/enqueue", now: float = NOW, **settings: Any) -> Translation:
    return translator(**settings).translate(body, Received("pd", now, path))


def alert(translation: Translation) -> AlertEvent:
    [event] = translation.events
    assert isinstance(event, AlertEvent)
    return event


def changed(body: dict[str, Any], **edits: Any) -> dict[str, Any]:
    """A deep copy of `body` with dotted-path edits (``payload__severity=...``); None deletes the key."""
    result = copy.deepcopy(body)
    for path, value in edits.items():
        *parents, last = path.split("__")
        target = result
        for key in parents:
            target = target[key]
        if value is None:
            target.pop(last, None)
        else:
            target[last] = value
    return result


def rejection(body: Any, path: str = "/v2/enqueue") -> str:
    with pytest.raises(PayloadRejectedError) as caught:
        send(body, path)
    assert caught.value.reason == "schema"
    return caught.value.detail


class TestTrigger:
    def test_pagerduty_example(self) -> None:
        translation = send(TRIGGER)
        assert translation.reply == {"dedup_key": "srv01/mysql"}
        event = alert(translation)
        assert (event.name, event.severity, event.status, event.fingerprint) == (
            "disk", "critical", "firing", "srv01/mysql")
        assert (event.service, event.host, event.source) == ("unknown", "prod-datapipe03.example.com", "pd")
        assert event.ts == datetime.fromtimestamp(NOW, tz=UTC)
        assert event.starts_at == datetime(2015, 7, 17, 8, 42, 58, 315000, tzinfo=UTC)
        assert event.ends_at is None
        assert event.labels == {"component": "mysql", "group": "prod-datapipe", "class": "disk"}
        assert event.annotations == {
            "summary": "DISK at 99% on machine prod-datapipe03.example.com", "component": "mysql",
            "group": "prod-datapipe", "class": "disk", "dedup_key": "srv01/mysql",
            "free space": "1%", "ping time": "1500ms", "load avg": "0.75",
            "client": "Sample Monitoring Service", "client_url": "https://monitoring.service.com",
            "links": '[{"href":"http://pagerduty.example.com","text":"An example link."}]',
            "images": '[{"src":"https://chart.example.com/disk.png","href":"https://example.com","alt":"chart"}]',
        }

    @pytest.mark.parametrize(("pagerduty", "aiops"), [
        ("critical", "critical"), ("error", "high"), ("warning", "warning"), ("info", "info")])
    def test_severity(self, pagerduty: str, aiops: str) -> None:
        assert alert(send(changed(TRIGGER, payload__severity=pagerduty))).severity == aiops

    def test_minimal_trigger_is_named_by_its_summary(self) -> None:
        body = {"routing_key": ROUTING_KEY, "event_action": "trigger", "dedup_key": "k",
                "payload": {"summary": "CPU high", "source": "web-1", "severity": "warning"}}
        event = alert(send(body, default_service="checkout"))
        assert (event.name, event.service, event.labels, event.starts_at) == ("CPU high", "checkout", {}, None)
        assert event.annotations == {"summary": "CPU high", "dedup_key": "k"}

    def test_custom_details_service_names_the_service(self) -> None:
        body = changed(TRIGGER, payload__custom_details={"service": "payments", "owner": {"team": "sre"}})
        event = alert(send(body))
        assert event.service == "payments"
        assert event.annotations["owner"] == '{"team":"sre"}'

    def test_non_text_service_detail_is_not_a_service(self) -> None:
        assert alert(send(changed(TRIGGER, payload__custom_details={"service": 42}))).service == "unknown"

    def test_custom_details_that_are_not_an_object(self) -> None:
        assert alert(send(changed(TRIGGER, payload__custom_details="raw text"))).annotations[
            "custom_details"] == "raw text"

    def test_standard_fields_win_over_custom_details(self) -> None:
        event = alert(send(changed(TRIGGER, payload__custom_details={"summary": "other", "x": "y"})))
        assert event.annotations["summary"] == TRIGGER["payload"]["summary"]
        assert event.annotations["x"] == "y"

    def test_source_integration_name_or_configured(self) -> None:
        assert alert(send(TRIGGER, source="nagios")).source == "nagios"


class TestGeneratedDedupKey:
    def test_deterministic_and_returned(self) -> None:
        body = changed(TRIGGER, dedup_key=None)
        first, again = send(body), send(body, now=NOW + 30)
        key = first.reply["dedup_key"]
        assert len(key) == 32
        assert int(key, 16) >= 0  # hex
        assert again.reply == first.reply
        assert alert(first).fingerprint == key

    def test_routing_key_does_not_matter_the_event_does(self) -> None:
        body = changed(TRIGGER, dedup_key=None)
        key = send(body).reply["dedup_key"]
        assert send(changed(body, routing_key="another-key")).reply["dedup_key"] == key
        assert send(changed(body, payload__summary="DISK at 98%")).reply["dedup_key"] != key

    def test_empty_dedup_key_counts_as_absent(self) -> None:
        assert send(changed(TRIGGER, dedup_key="")).reply == send(changed(TRIGGER, dedup_key=None)).reply


class TestResolveAndAcknowledge:
    def test_bare_resolve(self) -> None:
        body = {"routing_key": ROUTING_KEY, "dedup_key": "srv01/mysql", "event_action": "resolve"}
        translation = send(body, default_service="storage")
        assert translation.reply == {"dedup_key": "srv01/mysql"}
        event = alert(translation)
        assert (event.status, event.fingerprint, event.service, event.name, event.source) == (
            "resolved", "srv01/mysql", "storage", "srv01/mysql", "pd")
        assert event.ts == datetime.fromtimestamp(NOW, tz=UTC)

    def test_resolve_with_payload_routes_like_its_trigger(self) -> None:
        # Alertmanager's pagerduty_configs sends the payload with resolves too.
        trigger = changed(TRIGGER, payload__custom_details={"service": "payments"})
        resolve = changed(trigger, event_action="resolve")
        opened, closed = alert(send(trigger)), alert(send(resolve))
        assert (closed.service, closed.name, closed.fingerprint) == (opened.service, opened.name, opened.fingerprint)
        assert closed.status == "resolved"

    def test_resolve_ignores_a_malformed_payload(self) -> None:
        body = {"routing_key": ROUTING_KEY, "dedup_key": "k", "event_action": "resolve", "payload": "gone"}
        assert alert(send(body)).status == "resolved"

    def test_acknowledge_is_answered_without_event(self) -> None:
        body = {"routing_key": ROUTING_KEY, "dedup_key": "srv01/mysql", "event_action": "acknowledge"}
        assert send(body) == Translation([], reply={"dedup_key": "srv01/mysql"})


class TestRejections:
    @pytest.mark.parametrize(("body", "problem"), [
        ([TRIGGER], "<body>: must be a JSON object"),
        ("trigger", "<body>: must be a JSON object"),
        (changed(TRIGGER, routing_key=None), "routing_key: is missing"),
        (changed(TRIGGER, routing_key=""), "routing_key: is missing"),
        (changed(TRIGGER, routing_key=123), "routing_key: must be a string"),
        (changed(TRIGGER, event_action=None), "event_action: must be one of trigger, acknowledge, resolve"),
        (changed(TRIGGER, event_action="create"), "event_action: must be one of"),
        (changed(TRIGGER, dedup_key=7), "dedup_key: must be a string"),
        (changed(TRIGGER, dedup_key="k" * 256), "dedup_key: is too long (maximum is 255 characters)"),
        ({"routing_key": ROUTING_KEY, "event_action": "resolve"}, "dedup_key: is required for resolve"),
        ({"routing_key": ROUTING_KEY, "event_action": "acknowledge"}, "dedup_key: is required for acknowledge"),
        (changed(TRIGGER, payload=None), "payload: is missing"),
        (changed(TRIGGER, payload=["x"]), "payload: must be an object"),
        (changed(TRIGGER, payload__summary=None), "payload.summary: is missing"),
        (changed(TRIGGER, payload__source=""), "payload.source: is missing"),
        (changed(TRIGGER, payload__severity=None), "payload.severity: is missing"),
        (changed(TRIGGER, payload__severity="Critical"), "payload.severity: must be one of critical, error"),
        (changed(TRIGGER, payload__severity="high"), "payload.severity: must be one of"),
        (changed(TRIGGER, payload__summary=["x"]), "payload.summary: must be a string"),
        (changed(TRIGGER, payload__class=3), "payload.class: must be a string"),
        (changed(TRIGGER, payload__timestamp="last tuesday"), "payload.timestamp: 'last tuesday' is not"),
        (changed(TRIGGER, payload__timestamp=1714557600), "payload.timestamp: must be an RFC 3339"),
        (changed(TRIGGER, payload__timestamp="1900-01-01T00:00:00Z"), "<event>: alert.starts_at: event time"),
        (changed(TRIGGER, links={"href": "x"}), "links: must be a list of objects"),
        (changed(TRIGGER, links=["http://x"]), "links[0]: must be an object"),
        (changed(TRIGGER, links=[{"text": "no href"}]), "links[0].href: is missing"),
        (changed(TRIGGER, images=[{"alt": "no src"}]), "images[0].src: is missing"),
        (changed(TRIGGER, client=["x"]), "client: must be a string"),
    ])
    def test_rejected(self, body: Any, problem: str) -> None:
        assert rejection(body).startswith(problem)

    def test_long_summary_is_accepted(self) -> None:
        assert alert(send(changed(TRIGGER, payload__summary="x" * 2000, payload__class=None))).name == "x" * 2000


class TestChangeEvents:
    def change(self, body: dict[str, Any], **settings: Any) -> ChangeEvent:
        translation = send(body, "/v2/change/enqueue", **settings)
        assert translation.reply == {}
        [event] = translation.events
        assert isinstance(event, ChangeEvent)
        return event

    def test_pagerduty_example(self) -> None:
        event = self.change(CHANGE, default_service="snapshots")
        assert (event.service, event.source, event.change_type) == ("snapshots", "pd", "change")
        assert event.summary == "Build Success: Increase snapshot create timeout to 30 seconds"
        assert event.ts == datetime(2020, 7, 17, 8, 42, 58, 315000, tzinfo=UTC)
        assert event.links == [{"href": "https://acme.pagerduty.dev/build/2", "text": "View more details in Acme!"}]
        assert event.details == {"build_state": "passed", "build_number": "2", "run_time": "1236s",
                                 "source": "acme-build-pipeline-tool-default-i-9999"}

    def test_service_and_type_from_custom_details(self) -> None:
        body = changed(CHANGE, payload__custom_details={"service": "payments", "change_type": "deploy",
                                                       "replicas": 3})
        event = self.change(body)
        assert (event.service, event.change_type, event.details["replicas"]) == ("payments", "deploy", "3")

    def test_minimal_change_is_at_receipt(self) -> None:
        event = self.change({"routing_key": ROUTING_KEY, "payload": {"summary": "flag on"}})
        assert event.ts == datetime.fromtimestamp(NOW, tz=UTC)
        assert (event.links, event.details, event.host) == ([], {}, "")

    def test_link_without_text(self) -> None:
        assert self.change(changed(CHANGE, links=[{"href": "https://x"}])).links == [{"href": "https://x"}]

    def test_served_under_an_integration_prefix(self) -> None:
        translation = send(CHANGE, "/ingest/pd/v2/change/enqueue")
        assert isinstance(translation.events[0], ChangeEvent)

    @pytest.mark.parametrize(("body", "problem"), [
        (changed(CHANGE, routing_key=None), "routing_key: is missing"),
        (changed(CHANGE, payload=None), "payload: is missing"),
        (changed(CHANGE, payload__summary=None), "payload.summary: is missing"),
        (changed(CHANGE, payload__source=5), "payload.source: must be a string"),
        (changed(CHANGE, payload__timestamp="soon"), "payload.timestamp: 'soon' is not"),
        (changed(CHANGE, links=[{"text": "x"}]), "links[0].href: is missing"),
    ])
    def test_rejected(self, body: Any, problem: str) -> None:
        assert rejection(body, "/v2/change/enqueue").startswith(problem)


def run(pipeline: Pipeline, bodies: list[tuple[float, dict[str, Any]]], until: float) -> list[Incident]:
    """Each body translated at its receive time and fed to `pipeline`, then event time moved to `until`."""
    pd = translator()
    out: list[Incident] = []
    for now, body in bodies:
        for event in pd.translate(body, Received("pd", now, "/v2/enqueue")).events:
            out.extend(pipeline.process(event))
    out.extend(pipeline.advance(until))
    return out


class TestThroughThePipeline:
    """Trigger then resolve with the same dedup_key opens and resolves an incident (before the stale timeout)."""

    def test_bare_resolve_finds_its_trigger(self) -> None:
        trigger = {"routing_key": ROUTING_KEY, "event_action": "trigger", "dedup_key": "db/disk",
                   "payload": {"summary": "disk full", "source": "db-1", "severity": "critical"}}
        resolve = {"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": "db/disk"}
        incidents = run(Pipeline(AiopsConfig()), [(NOW, trigger), (NOW + 60, resolve)], until=NOW + 300)
        assert incidents[0].status == "open"
        assert incidents[-1].status == "resolved"
        assert {incident.id for incident in incidents} == {incidents[0].id}

    def test_named_service_needs_the_payload_on_resolve(self) -> None:
        trigger = changed(TRIGGER, payload__custom_details={"service": "payments"})
        bare = {"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": TRIGGER["dedup_key"]}
        lost = run(Pipeline(AiopsConfig()), [(NOW, trigger), (NOW + 60, bare)], until=NOW + 300)
        assert [incident.status for incident in lost] == ["open"]  # only the stale timeout will resolve it
        kept = run(Pipeline(AiopsConfig()), [(NOW, trigger), (NOW + 60, changed(trigger, event_action="resolve"))],
                   until=NOW + 300)
        assert kept[-1].status == "resolved"
