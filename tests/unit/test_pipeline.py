"""The pure pipeline end to end: built-in scenario, replay, out-of-order input, watermark, end of input."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import pytest
from support.builders import T0, alert_event, at, log_event

from aiops.config import AiopsConfig
from aiops.events import EVENT_ADAPTER, AlertEvent, LogEvent, MetricEvent
from aiops.incidents import Incident
from aiops.pipeline import Pipeline
from aiops.replay import replay_lines
from aiops.scenario import SCENARIO_SERVICES, scenario_events

FAILED_AT = datetime(2024, 1, 1, tzinfo=UTC)
SEED = 7

AnyEvent = MetricEvent | LogEvent | AlertEvent


def scenario_config(**overrides: Any) -> AiopsConfig:
    return AiopsConfig.model_validate({"services": SCENARIO_SERVICES, **overrides})


def scenario_dicts(seed: int = SEED) -> list[dict[str, Any]]:
    return list(scenario_events(T0, random.Random(seed)))


def scenario(seed: int = SEED) -> list[AnyEvent]:
    return [EVENT_ADAPTER.validate_python(item) for item in scenario_dicts(seed)]


def run(events: Iterable[AnyEvent], config: AiopsConfig | None = None) -> list[Incident]:
    pipeline = Pipeline(config or scenario_config())
    out: list[Incident] = []
    for event in events:
        out.extend(pipeline.process(event))
    out.extend(pipeline.finish())
    return out


def by_id(incidents: list[Incident]) -> dict[str, list[Incident]]:
    grouped: dict[str, list[Incident]] = {}
    for incident in incidents:
        grouped.setdefault(incident.id, []).append(incident)
    return grouped


def outcome(incidents: list[Incident]) -> dict[str, tuple[Any, ...]]:
    """Order-insensitive summary per incident: status sequence, final members, root cause, first seen."""
    result = {}
    for incident_id, versions in by_id(incidents).items():
        final = versions[-1]
        result[incident_id] = (
            tuple(dict.fromkeys(v.status for v in versions)),
            tuple(final.services),
            tuple(sorted(m.fingerprint for m in final.members)),
            final.root_cause[0].service,
            final.first_seen,
            final.priority,
        )
    return result


@pytest.fixture(scope="module")
def scenario_incidents() -> list[Incident]:
    return run(scenario())


# --- built-in scenario --------------------------------------------------------------------------------------

def test_scenario_yields_exactly_two_incidents(scenario_incidents: list[Incident]) -> None:
    assert len(by_id(scenario_incidents)) == 2


def test_scenario_cascade_incident(scenario_incidents: list[Incident]) -> None:
    cascade = next(v for v in by_id(scenario_incidents).values() if "postgres" in v[-1].services)
    final = cascade[-1]
    assert {"postgres", "payments", "checkout"} <= set(final.services)
    assert "search" not in final.services
    assert final.root_cause[0].service == "postgres"
    statuses = [v.status for v in cascade]
    assert statuses[0] == "open"
    assert "updated" in statuses
    assert statuses[-1] == "resolved"
    assert statuses.count("open") == 1
    assert statuses.count("resolved") == 1
    assert [v.version for v in cascade] == list(range(1, len(cascade) + 1))
    assert cascade[0].services == ["postgres"]  # the database is the first to go
    names = {m.name for m in final.members}
    assert {"CheckoutHighErrorRate", "log_error_burst", "latency_p99_ms"} <= names
    assert final.context.owner == "team-dba"
    assert final.priority == "P1"
    assert final.resolved_at is not None
    assert all(m.status == "resolved" for m in final.members)


def test_scenario_search_incident_is_separate(scenario_incidents: list[Incident]) -> None:
    search = next(v for v in by_id(scenario_incidents).values() if "search" in v[-1].services)
    final = search[-1]
    assert final.services == ["search"]
    assert [m.name for m in final.members] == ["SearchIndexLag"]
    assert search[0].status == "open"
    assert final.status == "resolved"
    assert final.context.owner == "team-discovery"


def test_scenario_is_deterministic_for_a_seed(scenario_incidents: list[Incident]) -> None:
    again = run(scenario())
    assert [i.model_dump(mode="json") for i in again] == [i.model_dump(mode="json") for i in scenario_incidents]


# --- replay -------------------------------------------------------------------------------------------------

def test_replay_matches_the_pipeline(scenario_incidents: list[Incident]) -> None:
    lines = [json.dumps(item).encode() + b"\n" for item in scenario_dicts()]
    items = list(replay_lines(lines, scenario_config(), FAILED_AT))
    assert all(item.dead is None for item in items)
    replayed = [item.incident for item in items if item.incident is not None]
    assert [i.model_dump(mode="json") for i in replayed] == [i.model_dump(mode="json") for i in scenario_incidents]


def test_replay_dead_letters_bad_lines_with_line_numbers(scenario_incidents: list[Incident]) -> None:
    lines = [json.dumps(item).encode() + b"\n" for item in scenario_dicts()]
    lines.insert(0, b"{not json\n")  # line 1
    lines.insert(5, b'{"kind":"metric","ts":"2024-01-01T00:00:00","service":"a","name":"n","value":1}\n')  # line 6
    lines.insert(10, b"\n")  # line 11: blank lines are skipped, not dead-lettered
    lines.insert(20, b"\xff\xfe\r\n")  # line 21
    items = list(replay_lines(lines, scenario_config(), FAILED_AT, source="input.jsonl"))
    dead = [item.dead for item in items if item.dead is not None]
    assert [(d.source_offset, d.reason) for d in dead] == [(1, "invalid_json"), (6, "schema"), (21, "not_utf8")]
    assert all(d.stage == "ingest" and d.source_topic == "input.jsonl" for d in dead)
    assert dead[0].original == b"{not json"
    assert dead[2].original == b"\xff\xfe"
    assert dead[0].failed_at == FAILED_AT
    replayed = [item.incident for item in items if item.incident is not None]
    assert [i.model_dump(mode="json") for i in replayed] == [i.model_dump(mode="json") for i in scenario_incidents]


def test_replay_dead_letters_a_non_finite_metric_value_as_non_finite() -> None:
    lines = [b'{"kind":"metric","ts":1700000000,"service":"a","name":"n","value":NaN}\n',
             b'{"kind":"metric","ts":1700000000,"service":"a","name":"n","value":"x"}\n']
    items = list(replay_lines(lines, scenario_config(), FAILED_AT, source="input.jsonl"))
    dead = [item.dead for item in items if item.dead is not None]
    assert [(d.source_offset, d.stage, d.reason) for d in dead] == [
        (1, "ingest", "non_finite"), (2, "ingest", "schema")]
    assert dead[0].detail == "metric.value: Input should be a finite number"
    assert dead[0].original == lines[0].rstrip(b"\n")


def test_replay_dead_letters_oversized_lines() -> None:
    config = scenario_config(ingest={"max_message_bytes": 256})
    big = json.dumps({"kind": "log", "ts": T0, "service": "a", "message": "x" * 400}).encode()
    items = list(replay_lines([big], config, FAILED_AT))
    assert [item.dead.reason for item in items if item.dead] == ["oversized"]


# --- out of order -------------------------------------------------------------------------------------------

def test_out_of_order_within_lateness_gives_the_same_incidents(scenario_incidents: list[Incident]) -> None:
    events = scenario()
    rng = random.Random(11)
    # Each event is delayed by up to 8 s (allowed lateness is 30 s); steps are 10 s apart.
    shuffled = sorted(events, key=lambda e: e.epoch + rng.uniform(0.0, 8.0))
    assert shuffled != events
    assert outcome(run(shuffled)) == outcome(scenario_incidents)


def test_interleaving_within_a_step_gives_the_same_incidents(scenario_incidents: list[Incident]) -> None:
    events = scenario()
    rng = random.Random(5)
    shuffled = sorted(events, key=lambda e: (e.epoch // 10, rng.random()))
    assert outcome(run(shuffled)) == outcome(scenario_incidents)


def test_late_log_line_within_lateness_counts_in_its_own_window() -> None:
    config = AiopsConfig.model_validate({"detection": {"logs": {"window_seconds": 60, "min_errors": 5}},
                                         "correlation": {"allowed_lateness_seconds": 30}})
    start = 40.0  # T0 + 40 starts a 60 s window
    on_time = [log_event(start + 1 + n) for n in range(5)]
    in_order = [*on_time, log_event(start + 61, level="info")]
    late = [*on_time[:4], log_event(start + 61, level="info"), on_time[4]]  # 5th error arrives 6 s late

    def bursts(events: list[LogEvent]) -> list[str]:
        pipeline = Pipeline(config)
        signals = [s for e in events for s in pipeline.detection.process(e)]
        signals += pipeline.detection.advance(T0 + 1000)
        return [f"{s.status}@{s.ts.timestamp() - T0:.0f}" for s in signals]

    expected = bursts(in_order)
    assert expected[0] == "firing@100"
    assert bursts(late) == expected


# --- pipeline watermark -------------------------------------------------------------------------------------

def test_pipeline_watermark_trails_max_event_time_by_lateness() -> None:
    pipeline = Pipeline(scenario_config(correlation={"allowed_lateness_seconds": 30}))
    pipeline.process(log_event(100, level="info"))
    assert pipeline.watermark == T0 + 70
    pipeline.process(log_event(50, level="info"))  # late event never moves it back
    assert pipeline.watermark == T0 + 70
    assert pipeline.advance(T0 + 10) == []
    assert pipeline.watermark == T0 + 70


def test_finish_without_events_is_empty() -> None:
    assert Pipeline(scenario_config()).finish() == []


def test_finish_resolves_each_open_incident_after_its_own_quiet_period() -> None:
    """At the end of input event time goes on in whole seconds from the last watermark (what the live worker's
    idle fallback does), so incidents still open resolve at their own due time, not at one common horizon."""
    config = scenario_config(correlation={"allowed_lateness_seconds": 30, "resolve_quiet_seconds": 120})
    events = [alert_event(0, service="checkout"), alert_event(5, service="search"),
              alert_event(10, service="checkout", status="resolved"),
              alert_event(40, service="search", status="resolved")]
    incidents = run(events, config)
    resolved = {i.services[0]: i.resolved_at for i in incidents if i.status == "resolved"}
    assert resolved == {"checkout": at(10 + 120), "search": at(40 + 120)}
