"""The console's routing page (the tree, where one incident goes and every route tried) and pipeline page
(stages, lag, rates between two readings, dead letters, deliveries by receiver) from the service's metrics."""

from __future__ import annotations

import re

from prometheus_client import CollectorRegistry
from support.store_samples import BASE, incident

from aiops.console.markup import Viewer
from aiops.console.pipeline import Reading, pipeline_page
from aiops.console.routing_page import explanation, routing_page
from aiops.metrics import AiopsMetrics
from aiops.runtime.console_http import read_registry
from aiops.sinks.config import DeliveryConfig
from aiops.sinks.routing import route_incident, route_steps

VIEWER = Viewer("victor", may_act=False, csrf="tok", signed_in=True)
SECRET_URL = "https://hooks.example.com/s3cret-path"


def _delivery() -> DeliveryConfig:
    return DeliveryConfig.model_validate({
        "default_receivers": ["ops"],
        "receivers": {"webhook": {"ops": {"url": SECRET_URL}, "dba": {"url": "https://hooks.example.com/d"},
                                  "pager": {"url": "https://hooks.example.com/p"}}},
        "routes": [
            {"name": "db", "match_services": ["db"], "receivers": ["dba"]},
            {"name": "urgent", "match_priorities": ["P1", "P2"], "receivers": ["pager"], "routes": [
                {"name": "night", "match_labels": {"team": "~night-.*"}, "receivers": ["dba"]},
                {"name": "rest", "repeat_interval_seconds": 60}]},
            {"name": "never-reached", "receivers": ["dba"]}]})


def test_the_steps_follow_route_incident_and_say_why_a_route_did_not_match() -> None:
    delivery = _delivery()
    shown = incident(1, priority="P2", services=("checkout",))
    steps = route_steps(delivery, shown)
    assert [(s.path, s.matched, s.depth) for s in steps] == [
        ("root/db", False, 0), ("root/urgent", True, 0), ("root/urgent/night", False, 1),
        ("root/urgent/rest", True, 1)]
    assert steps[0].why == "service not in ['db']"
    assert steps[2].why.startswith("label team=None does not match")
    (decision,) = route_incident(delivery, shown, BASE)
    assert (decision.receiver, decision.route, decision.repeat_interval_seconds) == ("pager", "root/urgent/rest", 60)


def test_the_routing_page_shows_the_tree_the_reach_and_no_receiver_target() -> None:
    delivery = _delivery()
    shown = incident(1, priority="P2", services=("checkout",))
    explained = explanation(shown, route_incident(delivery, shown, BASE), route_steps(delivery, shown), delivery)
    page = routing_page(delivery, VIEWER, now=BASE, incident_id="inc-1", explained=explained)
    assert SECRET_URL not in page
    assert 'data-route="root/urgent/rest"' in page
    assert "inherited: pager" in page  # rest has no receivers of its own
    assert "repeat every 60 s" in page
    assert re.search(r'<tr data-receiver="pager"><td>pager</td><td>webhook</td><td>send</td>'
                     r'<td>root/urgent/rest</td><td>root/urgent: priority P2; root/urgent/rest: matches everything'
                     r'</td><td>P5</td><td>60 s</td></tr>', page)
    assert page.count('class="skipped"') == 2
    assert page.count('class="matched"') == 2
    assert "No incident" not in page
    missing = routing_page(delivery, VIEWER, now=BASE, incident_id="inc-404")
    assert "No incident &#x27;inc-404&#x27;." in missing


def _reading(events: float, failed: float, circuit: float, healthy: float) -> Reading:
    return Reading({
        "aiops_events_consumed_total": {(("topic", "aiops.events"),): events},
        "aiops_events_deadlettered_total": {(("reason", "invalid_json"),): 3.0},
        "aiops_stage_healthy": {(("stage", "detection"),): healthy, (("stage", "correlation"),): 1.0},
        "aiops_stage_lag_records": {(("stage", "detection"),): 42.0},
        "aiops_consumer_lag_records": {(("partition", "0"), ("topic", "aiops.events")): 40.0,
                                       (("partition", "1"), ("topic", "aiops.events")): 2.0},
        "aiops_notifications_total": {(("outcome", "delivered"), ("receiver", "ops")): 7.0,
                                      (("outcome", "attempt_failed"), ("receiver", "ops")): failed},
        "aiops_receiver_circuit_state": {(("receiver", "ops"),): circuit},
    })


def test_the_pipeline_page_shows_stages_lag_rates_dead_letters_and_delivery_failures() -> None:
    before, now = _reading(100.0, 1.0, 0.0, 1.0), _reading(160.0, 4.0, 2.0, 0.0)
    page = pipeline_page(now, before, 6.0, VIEWER)
    assert "<td>aiops.events</td><td>160</td><td>10.0</td>" in page  # (160 - 100) / 6 s
    assert '<tr class="failed"><td>detection</td><td>STALLED</td><td>42</td></tr>' in page
    assert "<td>correlation</td><td>yes</td><td>0</td>" in page
    assert "<td>aiops.events</td><td>42</td><td>40</td><td>2</td>" in page  # summed, largest, partitions
    assert "<td>invalid_json</td><td>3</td><td>0.0</td>" in page
    assert ('<tr class="failed"><td>ops</td><td>7</td><td>4</td><td>0.5</td><td>attempt_failed 4</td><td>0</td>'
            "<td>open</td></tr>") in page
    assert "rates over the last 6 s" in page
    assert 'data-refresh="10"' in page
    first = pipeline_page(now, None, None, VIEWER)
    assert "<td>aiops.events</td><td>160</td><td>…</td>" in first
    assert "No signal yet." in first


def test_a_reading_holds_every_sample_of_the_registry_but_created_times() -> None:
    registry = CollectorRegistry()
    metrics = AiopsMetrics(registry)
    metrics.events_consumed_total.labels(topic="t").inc(5)
    metrics.stage_healthy.labels(stage="detection").set(1)
    reading = read_registry(registry)
    assert reading.by("aiops_events_consumed_total", "topic") == {"t": 5.0}
    assert reading.by("aiops_stage_healthy", "stage") == {"detection": 1.0}
    assert not [name for name in reading.samples if name.endswith("_created")]
    assert read_registry(None).samples == {}
