"""Alertmanager translators: the API (`POST /api/v2/alerts`) with Alertmanager's defaults, validation and
partial acceptance, Alertmanager's label fingerprint, and the v4 webhook notification."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiops.errors import PayloadRejectedError
from aiops.events import AlertEvent
from aiops.ingest.alertmanager import AlertmanagerApiTranslator, AlertmanagerWebhookTranslator, label_fingerprint
from aiops.ingest.base import Received, Translation
from aiops.ingest.config import IntegrationConfig

NOW = 1_714_557_600.0  # 2024-05-01T10:00:00Z


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def api(**settings: Any) -> AlertmanagerApiTranslator:
    return AlertmanagerApiTranslator("prom", IntegrationConfig(kind="alertmanager", **settings))


def post(body: Any, now: float = NOW, **settings: Any) -> Translation:
    return api(**settings).translate(body, Received("prom", now, "/api/v2/alerts"))


def alerts(translation: Translation) -> list[AlertEvent]:
    assert all(isinstance(event, AlertEvent) for event in translation.events)
    return [event for event in translation.events if isinstance(event, AlertEvent)]


def only(translation: Translation) -> AlertEvent:
    assert translation.problems == []
    [event] = alerts(translation)
    return event


def rejected(body: Any, **settings: Any) -> str:
    with pytest.raises(PayloadRejectedError) as caught:
        post(body, **settings)
    assert caught.value.reason == "schema"
    return caught.value.detail


# A batch as Prometheus's notifier posts it (go-openapi client: times with milliseconds, endsAt = valid-until
# for a firing alert, the resolve time for a resolved one; external labels added; generatorURL to the rule).
PROMETHEUS_BATCH: list[dict[str, Any]] = [
    {
        "labels": {"alertname": "HighErrorRate", "instance": "10.0.3.17:8080", "job": "payments-api",
                   "severity": "critical", "cluster": "eu-1"},
        "annotations": {"summary": "5xx ratio above 5%", "runbook_url": "https://runbooks/high-error-rate"},
        "startsAt": "2024-05-01T09:57:30.123Z",
        "endsAt": "2024-05-01T10:04:00.000Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=job%3Aerrors%3Aratio5m+%3E+0.05&g0.tab=1",
    },
    {
        "labels": {"alertname": "DiskFull", "instance": "db-1:9100", "job": "node", "cluster": "eu-1"},
        "annotations": {"summary": "disk almost full"},
        "startsAt": "2024-05-01T09:40:00.000Z",
        "endsAt": "2024-05-01T09:59:00.000Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=disk",
    },
]


class TestFingerprint:
    def test_matches_prometheus_common(self) -> None:
        # prometheus/common model/signature_test.go: TestLabelsToSignature / TestMetricToFingerprint
        labels = {"name": "garland, briggs", "fear": "love is not enough"}
        assert label_fingerprint(labels) == f"{5799056148416392346:016x}"
        assert label_fingerprint({}) == f"{14695981039346656037:016x}"

    @pytest.mark.parametrize(("labels", "expected"), [
        ({"severity": "warning", "job": "foo"}, "9266ef3da838ad95"),
        ({"severity": "critical", "job": "foo"}, "3b15fd163d36582e"),
        ({"severity": "critical", "job": "bar"}, "c7e68cb08e3e67f9"),
    ])
    def test_matches_alertmanager_notifications(self, labels: dict[str, str], expected: str) -> None:
        # alertmanager template/template_test.go: the fingerprints its webhook data carries for these labels
        assert label_fingerprint(labels) == expected

    def test_non_ascii_is_hashed_as_utf8(self) -> None:
        assert label_fingerprint({"zone": "zürich"}) != label_fingerprint({"zone": "zurich"})
        assert len(label_fingerprint({"zone": "zürich"})) == 16

    @given(st.dictionaries(st.text(min_size=1, max_size=12), st.text(min_size=1, max_size=12), max_size=8))
    def test_label_order_is_irrelevant(self, labels: dict[str, str]) -> None:
        assert label_fingerprint(dict(reversed(list(labels.items())))) == label_fingerprint(labels)


class TestApiMapping:
    def test_prometheus_batch(self) -> None:
        translation = post(PROMETHEUS_BATCH)
        assert translation.problems == []
        assert translation.reply == {}
        firing, resolved = alerts(translation)
        assert (firing.name, firing.severity, firing.service, firing.host) == (
            "HighErrorRate", "critical", "payments-api", "10.0.3.17:8080")
        assert firing.status == "firing"
        assert firing.source == "prom"
        assert firing.ts == at(NOW)
        assert firing.starts_at == datetime(2024, 5, 1, 9, 57, 30, 123000, tzinfo=UTC)
        assert firing.ends_at == datetime(2024, 5, 1, 10, 4, tzinfo=UTC)
        assert firing.labels == PROMETHEUS_BATCH[0]["labels"]
        assert firing.annotations == {**PROMETHEUS_BATCH[0]["annotations"],
                                      "generator_url": PROMETHEUS_BATCH[0]["generatorURL"]}
        assert firing.fingerprint == label_fingerprint(PROMETHEUS_BATCH[0]["labels"])
        assert (resolved.name, resolved.status, resolved.severity, resolved.service) == (
            "DiskFull", "resolved", "warning", "node")
        assert resolved.ts == resolved.ends_at == datetime(2024, 5, 1, 9, 59, tzinfo=UTC)

    def test_service_label_order_and_default(self) -> None:
        labels = {"alertname": "A", "job": "node", "service": "payments"}
        assert only(post([{"labels": labels}])).service == "payments"
        assert only(post([{"labels": labels}], service_labels=["job", "service"])).service == "node"
        bare = only(post([{"labels": {"alertname": "A"}}], default_service="platform"))
        assert (bare.service, bare.host, bare.severity) == ("platform", "", "warning")

    def test_source_is_configured_or_the_integration_name(self) -> None:
        assert only(post([{"labels": {"alertname": "A"}}])).source == "prom"
        assert only(post([{"labels": {"alertname": "A"}}], source="thanos-ruler")).source == "thanos-ruler"

    def test_every_label_is_kept_and_empty_values_dropped(self) -> None:
        event = only(post([{"labels": {"alertname": "A", "team": "sre", "empty": ""}}]))
        assert event.labels == {"alertname": "A", "team": "sre"}
        assert event.fingerprint == label_fingerprint({"alertname": "A", "team": "sre"})

    def test_user_generator_url_annotation_wins(self) -> None:
        event = only(post([{"labels": {"alertname": "A"}, "annotations": {"generator_url": "mine"},
                            "generatorURL": "http://prom"}]))
        assert event.annotations == {"generator_url": "mine"}

    def test_empty_batch(self) -> None:
        assert post([]) == Translation([])

    @given(st.dictionaries(st.text(min_size=1, max_size=10).filter(lambda name: name != "alertname"),
                           st.text(min_size=1, max_size=10), max_size=6))
    def test_any_valid_label_set_round_trips(self, extra: dict[str, str]) -> None:
        labels = {"alertname": "Any", **extra}
        event = only(post([{"labels": labels}]))
        assert event.labels == labels
        assert event.fingerprint == label_fingerprint(labels)


class TestApiLifecycle:
    def test_missing_ends_at_is_now_plus_resolve_timeout(self) -> None:
        event = only(post([{"labels": {"alertname": "A"}, "startsAt": "2024-05-01T09:00:00Z"}],
                          resolve_timeout_seconds=120))
        assert event.status == "firing"
        assert event.ends_at == at(NOW + 120)
        assert event.starts_at == datetime(2024, 5, 1, 9, tzinfo=UTC)

    def test_a_resend_refreshes_time_and_timeout_keeping_identity(self) -> None:
        body = [{"labels": {"job": "api", "alertname": "A"}, "startsAt": "2024-05-01T09:00:00Z"}]
        first = only(post(body))
        again = only(post([{"labels": {"alertname": "A", "job": "api"}, "startsAt": "2024-05-01T09:00:00Z"}],
                          now=NOW + 60))
        assert again.fingerprint == first.fingerprint
        assert again.starts_at == first.starts_at
        assert (again.ts, again.ends_at) == (at(NOW + 60), at(NOW + 60 + 300))

    def test_missing_starts_at_is_now_or_ends_at(self) -> None:
        assert only(post([{"labels": {"alertname": "A"}}])).starts_at == at(NOW)
        resolved = only(post([{"labels": {"alertname": "A"}, "endsAt": "2024-05-01T09:30:00Z"}]))
        assert resolved.status == "resolved"
        assert resolved.starts_at == resolved.ends_at == resolved.ts == datetime(2024, 5, 1, 9, 30, tzinfo=UTC)

    def test_go_zero_time_and_empty_string_mean_unset(self) -> None:
        event = only(post([{"labels": {"alertname": "A"}, "startsAt": "0001-01-01T00:00:00Z", "endsAt": ""}]))
        assert (event.status, event.starts_at, event.ends_at) == ("firing", at(NOW), at(NOW + 300))

    def test_ends_at_now_is_resolved(self) -> None:
        event = only(post([{"labels": {"alertname": "A"}, "startsAt": "2024-05-01T09:00:00Z",
                            "endsAt": "2024-05-01T10:00:00Z"}]))
        assert event.status == "resolved"
        assert event.ts == at(NOW)

    def test_times_in_other_offsets_and_without_offset(self) -> None:
        event = only(post([{"labels": {"alertname": "A"}, "startsAt": "2024-05-01T11:30:00+02:00",
                            "endsAt": "2024-05-01T10:10:00"}]))  # no offset: UTC, as Alertmanager reads it
        assert event.starts_at == datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
        assert event.ends_at == datetime(2024, 5, 1, 10, 10, tzinfo=UTC)

    def test_nanosecond_times(self) -> None:
        event = only(post([{"labels": {"alertname": "A"}, "startsAt": "2024-05-01T09:00:00.123456789Z"}]))
        assert event.starts_at == datetime(2024, 5, 1, 9, 0, 0, 123456, tzinfo=UTC)


class TestApiPartialAcceptance:
    """Alertmanager stores a request's valid alerts and answers 400 naming the invalid ones."""

    @pytest.mark.parametrize(("alert", "problem"), [
        ({"labels": {"alertname": "A"}, "startsAt": "2024-05-01T10:00:00Z", "endsAt": "2024-05-01T09:00:00Z"},
         "[1]: start time must be before end time"),
        ({"labels": {"alertname": "A"}, "startsAt": "2024-05-01T11:00:00Z"},  # after now + resolve timeout
         "[1]: start time must be before end time"),
        ({"labels": {"empty": ""}}, "[1].labels: at least one label pair required"),
        ({"labels": {}}, "[1].labels: at least one label pair required"),
        ({"labels": {"alertname": "A", "": "x"}}, '[1].labels: invalid label set: invalid name ""'),
        ({"labels": {"alertname": "A"}, "annotations": {"": "x"}},
         '[1].annotations: invalid annotations: invalid name ""'),
        ({"labels": {"job": "api"}}, "[1].labels.alertname: is required"),
        ({"labels": {"alertname": "A"}, "startsAt": "1960-01-01T00:00:00Z"}, "[1]: alert.starts_at: event time"),
    ])
    def test_invalid_alert_is_left_out_and_named(self, alert: dict[str, Any], problem: str) -> None:
        good = {"labels": {"alertname": "Good"}}
        translation = post([good, alert, good])
        assert [event.name for event in alerts(translation)] == ["Good", "Good"]
        [reported] = translation.problems
        assert reported.startswith(problem)

    def test_all_invalid_rejects_the_request(self) -> None:
        detail = rejected([{"labels": {"job": "a"}}, {"labels": {"job": "b"}}])
        assert "[0].labels.alertname" in detail
        assert "[1].labels.alertname" in detail


class TestApiSchema:
    """What Alertmanager's OpenAPI layer refuses before its handler: the whole request."""

    @pytest.mark.parametrize(("body", "where"), [
        ({"labels": {"alertname": "A"}}, "<body>: must be a JSON array"),
        ("alerts", "<body>: must be a JSON array"),
        (None, "<body>: must be a JSON array"),
        ([{"labels": {"alertname": "A"}}, "x"], "[1]: must be an alert object"),
        ([{"annotations": {}}], "[0].labels: is required"),
        ([{"labels": None}], "[0].labels: is required"),
        ([{"labels": ["alertname", "A"]}], "[0].labels: must be an object of strings"),
        ([{"labels": {"alertname": "A", "code": 500}}], "[0].labels.code: must be a string"),
        ([{"labels": {"alertname": "A"}, "annotations": {"value": 0.5}}], "[0].annotations.value: must be a"),
        ([{"labels": {"alertname": "A"}, "startsAt": 1714557600}], "[0].startsAt: must be an RFC 3339"),
        ([{"labels": {"alertname": "A"}, "endsAt": "yesterday"}], "[0].endsAt: 'yesterday' is not an RFC 3339"),
        ([{"labels": {"alertname": "A"}, "generatorURL": 7}], "[0].generatorURL: must be a string"),
    ])
    def test_rejected(self, body: Any, where: str) -> None:
        assert rejected(body).startswith(where)


def webhook(**settings: Any) -> AlertmanagerWebhookTranslator:
    return AlertmanagerWebhookTranslator("am", IntegrationConfig(kind="alertmanager_webhook", **settings))


def notify(body: Any, now: float = NOW) -> Translation:
    return webhook().translate(body, Received("am", now, ""))


# A v4 notification as Alertmanager's webhook notifier sends it (unresolved alerts carry Go's zero endsAt).
NOTIFICATION = {
    "version": "4",
    "groupKey": '{}:{job="foo"}',
    "truncatedAlerts": 0,
    "status": "firing",
    "receiver": "aiops",
    "groupLabels": {"job": "foo"},
    "commonLabels": {"job": "foo"},
    "commonAnnotations": {"runbook": "foo"},
    "externalURL": "http://alertmanager:9093",
    "alerts": [
        {"status": "firing", "labels": {"alertname": "Slow", "severity": "warning", "job": "foo"},
         "annotations": {"description": "something happened", "runbook": "foo"},
         "startsAt": "2024-05-01T09:50:00.000Z", "endsAt": "0001-01-01T00:00:00Z",
         "generatorURL": "http://prometheus:9090/graph?g0.expr=slow", "fingerprint": "9266ef3da838ad95"},
        {"status": "resolved", "labels": {"alertname": "Down", "severity": "critical", "job": "foo"},
         "annotations": {"description": "something else happened"},
         "startsAt": "2024-05-01T09:40:00.000Z", "endsAt": "2024-05-01T09:55:00.000Z",
         "generatorURL": "http://prometheus:9090/graph?g0.expr=down", "fingerprint": "3b15fd163d36582e"},
    ],
}


class TestWebhook:
    def test_alertmanager_notification(self) -> None:
        translation = notify(NOTIFICATION)
        assert translation.problems == []
        firing, resolved = alerts(translation)
        assert (firing.name, firing.status, firing.severity, firing.service, firing.source) == (
            "Slow", "firing", "warning", "foo", "am")
        assert firing.ts == at(NOW)
        assert firing.ends_at is None
        assert firing.starts_at == datetime(2024, 5, 1, 9, 50, tzinfo=UTC)
        assert firing.fingerprint == "9266ef3da838ad95"
        assert firing.annotations == {"description": "something happened", "runbook": "foo",
                                      "generator_url": "http://prometheus:9090/graph?g0.expr=slow",
                                      "external_url": "http://alertmanager:9093"}
        assert (resolved.name, resolved.status, resolved.fingerprint) == ("Down", "resolved", "3b15fd163d36582e")
        assert resolved.ts == resolved.ends_at == datetime(2024, 5, 1, 9, 55, tzinfo=UTC)

    def test_group_labels_kept_under_the_alerts_own(self) -> None:
        body = {"groupLabels": {"team": "sre", "job": "group"},
                "alerts": [{"status": "firing", "labels": {"alertname": "A", "job": "own"}}]}
        event = only(notify(body))
        assert event.labels == {"team": "sre", "job": "own", "alertname": "A"}

    def test_missing_fingerprint_is_alertmanagers(self) -> None:
        body = {"alerts": [{"status": "firing", "labels": {"alertname": "A", "severity": "warning", "job": "foo"}}],
                "groupLabels": {"team": "sre"}}
        assert only(notify(body)).fingerprint == label_fingerprint(
            {"alertname": "A", "severity": "warning", "job": "foo"})

    def test_grafana_version_1_has_the_same_shape(self) -> None:
        body = {"version": "1", "orgId": 1, "title": "[FIRING:1]", "state": "alerting", "alerts": [
            {"status": "firing", "labels": {"alertname": "CPU", "grafana_folder": "infra"},
             "annotations": {}, "startsAt": "2024-05-01T09:59:00Z", "endsAt": "0001-01-01T00:00:00Z",
             "fingerprint": "a1b2c3d4e5f60708", "values": {"B": 97.5}, "silenceURL": "http://grafana/silence"}]}
        event = only(notify(body))
        assert (event.name, event.fingerprint, event.status) == ("CPU", "a1b2c3d4e5f60708", "firing")

    def test_resolved_without_end_time_is_resolved_now(self) -> None:
        event = only(notify({"alerts": [{"status": "resolved", "labels": {"alertname": "A"}}]}))
        assert event.ts == at(NOW)
        assert event.ends_at is None

    @pytest.mark.parametrize(("alert", "problem"), [
        ({"status": "pending", "labels": {"alertname": "A"}}, "alerts[1].status: must be firing or resolved"),
        ({"labels": {"alertname": "A"}}, "alerts[1].status: must be firing or resolved"),
        ({"status": "firing", "labels": {"job": "x"}}, "alerts[1].labels.alertname: is required"),
        ({"status": "firing", "labels": {"alertname": 1}}, "alerts[1].labels.alertname: must be a string"),
        ({"status": "firing", "labels": {"alertname": "A"}, "fingerprint": 12}, "alerts[1].fingerprint: must be"),
        ({"status": "firing", "labels": {"alertname": "A"}, "startsAt": "soon"}, "alerts[1].startsAt: 'soon'"),
        ("alert", "alerts[1]: must be an alert object"),
    ])
    def test_invalid_alert_is_left_out_and_named(self, alert: Any, problem: str) -> None:
        good = {"status": "firing", "labels": {"alertname": "Good"}}
        translation = notify({"alerts": [good, alert]})
        assert [event.name for event in alerts(translation)] == ["Good"]
        [reported] = translation.problems
        assert reported.startswith(problem)

    @pytest.mark.parametrize(("body", "problem"), [
        ([], "<body>: must be an Alertmanager notification object"),
        ({"status": "firing"}, "alerts: is required"),
        ({"alerts": {}}, "alerts: is required"),
        ({"alerts": [], "groupLabels": {"job": 1}}, "groupLabels.job: must be a string"),
        ({"alerts": [], "externalURL": 5}, "externalURL: must be a string"),
        ({"alerts": [{"status": "firing", "labels": {}}]}, "alerts[0].labels.alertname: is required"),
    ])
    def test_rejected(self, body: Any, problem: str) -> None:
        with pytest.raises(PayloadRejectedError) as caught:
            notify(body)
        assert caught.value.detail.startswith(problem)

    def test_empty_notification(self) -> None:
        assert notify({"alerts": []}) == Translation([])
