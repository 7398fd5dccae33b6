"""Alerts that carry an endsAt (Alertmanager's lifecycle): resolved when event time reaches it without a re-send.

- detection hands a firing alert's `ends_at` (and its `starts_at`, the member's first_seen) to its signal;
- a firing member with `ends_at` resolves when event time reaches it, not before, and not by `stale_seconds`;
  an `expired` decision says why;
- the newest signal replaces the expiry: a later endsAt extends it, an earlier one shortens it, none puts
  the member back on the stale rule; an older signal changes nothing;
- a re-send absorbed by `refresh_seconds` still moves the expiry, writing only the member record, which a
  checkpoint keeps across a restore;
- the lazy heaps never resolve a member late (random streams, checked against a scan) and give what a
  rebuilt index gives;
- end to end: the live worker (idle fallback) and `aiops replay` (`Pipeline.finish`) resolve an alert whose
  endsAt lies beyond every other timer at the same time, with the same versions.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from support.builders import T0, alert_event, at, correlation_config, graph, signal
from support.engine_run import EngineRun
from support.simulated_service import SimulatedService

from aiops.config import AiopsConfig
from aiops.correlation.engine import CorrelationEngine
from aiops.correlation.stage import CorrelationStage
from aiops.correlation.state import ScopeState
from aiops.detectors.stage import alert_to_signal
from aiops.incidents import Incident
from aiops.replay import replay_lines
from aiops.runtime.correlation_store import OFFSET_KEY, PartitionScopes, restore
from aiops.scenario import SCENARIO_SERVICES
from aiops.signals import Signal

SHOP = {"frontend": ["checkout"], "checkout": ["payments"], "payments": []}
Log = list[tuple[bytes | None, bytes | None, int]]


def ending(offset: float, ends: float | None, *, status: str = "firing", name: str = "errors",
           service: str = "payments") -> Signal:
    """An alert signal at `T0 + offset` whose endsAt is `T0 + ends` (None: none)."""
    return signal(name, service, offset, status=status).model_copy(
        update={"ends_at": at(ends) if ends is not None else None})


def test_detection_passes_starts_at_and_a_firing_alerts_ends_at_on_to_its_signal() -> None:
    firing = alert_to_signal(alert_event(60).model_copy(update={"starts_at": at(0), "ends_at": at(360)}))
    assert (firing.ts, firing.started_at, firing.ends_at) == (at(60), at(0), at(360))
    resolved = alert_to_signal(alert_event(90, status="resolved").model_copy(update={"ends_at": at(90)}))
    assert (resolved.started_at, resolved.ends_at) == (at(90), None)


def member_status(run: EngineRun) -> str:
    (incident,) = run.state.incidents.values()
    return incident.members["payments/errors"].status


def test_a_member_resolves_when_event_time_reaches_its_ends_at_not_before_and_not_by_stale_seconds() -> None:
    run = EngineRun(SHOP, stale_seconds=300, refresh_seconds=0)
    run.send(ending(0, 1000))
    run.tick(1)
    run.tick(999)  # far past stale_seconds after last_seen: the endsAt rules
    assert member_status(run) == "firing"
    out = run.tick(1000)
    assert [i.status for i in out] == ["resolved"]
    expired = [d for d in run.decisions if d.kind == "expired"]
    assert [(d.rule, d.member, d.ts, d.reason) for d in expired] == [
        ("ends_at", "payments/errors", at(1000), "errors@payments: endsAt 2023-11-14T22:30:00Z passed without a "
                                                 "re-send")]
    assert "expired (ends_at): errors@payments: endsAt 2023-11-14T22:30:00Z passed without a re-send" in (
        out[0].explanation.grouping)


def test_a_member_without_ends_at_still_goes_stale_and_records_no_expired_decision() -> None:
    run = EngineRun(SHOP, stale_seconds=300, refresh_seconds=0)
    run.send(ending(0, None))
    run.tick(300)
    assert member_status(run) == "firing"
    run.tick(301)
    assert member_status(run) == "resolved"
    assert not [d for d in run.decisions if d.kind == "expired"]


@pytest.mark.parametrize("refresh_seconds", [0, 60])
def test_the_newest_signal_replaces_the_expiry(refresh_seconds: float) -> None:
    """A re-send at 30 s is absorbed with refresh_seconds 60 and recorded with 0: the expiry moves either way."""
    run = EngineRun(SHOP, stale_seconds=300, refresh_seconds=refresh_seconds)
    run.send(ending(0, 100))
    run.send(ending(30, 200))  # later endsAt: extends
    run.tick(199)
    assert member_status(run) == "firing"
    run.tick(200)
    assert member_status(run) == "resolved"

    run = EngineRun(SHOP, stale_seconds=300, refresh_seconds=refresh_seconds)
    run.send(ending(0, 500))
    run.send(ending(30, 100))  # earlier endsAt: shortens (a new heap entry; the old one is skipped)
    run.tick(99)
    assert member_status(run) == "firing"
    run.tick(100)
    assert member_status(run) == "resolved"
    run.tick(501)
    assert len([d for d in run.decisions if d.kind == "expired"]) == 1

    run = EngineRun(SHOP, stale_seconds=300, refresh_seconds=refresh_seconds)
    run.send(ending(0, 100))
    run.send(ending(30, None))  # no endsAt: back to stale_seconds after last_seen
    last_seen = 0 if refresh_seconds else 30
    run.tick(100)
    run.tick(last_seen + 300)
    assert member_status(run) == "firing"
    run.tick(last_seen + 301)
    assert member_status(run) == "resolved"
    assert not [d for d in run.decisions if d.kind == "expired"]


def test_an_older_signal_does_not_move_the_expiry() -> None:
    run = EngineRun(SHOP, stale_seconds=300, refresh_seconds=0)
    run.send(ending(50, 100))
    run.send(ending(40, 900))  # late duplicate of an earlier send
    run.tick(100)
    assert member_status(run) == "resolved"


def test_an_absorbed_resend_writes_only_its_member_and_only_when_the_expiry_moved() -> None:
    run = EngineRun(SHOP, refresh_seconds=60)
    run.send(ending(0, 100))
    (incident,) = run.state.incidents.values()
    run.state.dirty.clear()
    assert run.send(ending(10, 100)) == []  # same endsAt: nothing at all
    assert not run.state.dirty.data()
    assert run.send(ending(20, 160)) == []
    assert run.state.dirty.members == {(incident.id, "payments/errors"): None}
    assert run.state.dirty.incidents == set()
    assert incident.members["payments/errors"].last_seen == T0  # the absorption rule otherwise holds
    assert run.engine.counters["refreshes_absorbed"] == 2
    assert run.engine.counters["expiries_moved"] == 1


def test_a_firing_again_member_takes_the_ends_at_of_the_signal_that_fired_it() -> None:
    run = EngineRun(SHOP, stale_seconds=300, refresh_seconds=0, reopen_seconds=600)
    run.send(ending(0, 50))
    run.tick(50)
    assert member_status(run) == "resolved"
    run.send(ending(60, 400))  # fires again (the incident reopens)
    run.tick(399)
    assert member_status(run) == "firing"
    run.tick(400)
    assert member_status(run) == "resolved"
    assert len([d for d in run.decisions if d.kind == "expired"]) == 2


def _append(log: Log, records: list[tuple[bytes, bytes | None]]) -> None:
    log.extend((key, value, len(log) + i) for i, (key, value) in enumerate(records))


def test_an_expiry_moved_by_an_absorbed_resend_survives_a_checkpoint_and_restore() -> None:
    signals = [ending(0, 100), ending(30, 400), ending(45, 400, name="latency", service="checkout")]
    reference = EngineRun(SHOP, refresh_seconds=60)
    reference_stage = CorrelationStage(reference.engine, PartitionScopes(0))
    expected = [i for s in signals for i in reference_stage.process(s)]
    for t in range(50, 800, 10):
        expected += reference_stage.advance(T0 + t)

    log: Log = []
    first = EngineRun(SHOP, refresh_seconds=60)
    scopes = PartitionScopes(0)
    stage = CorrelationStage(first.engine, scopes)
    got = stage.process(signals[0])
    _append(log, scopes.checkpoint(next_offset=1))
    got += stage.process(signals[1])  # absorbed: moves the expiry only
    records = scopes.checkpoint(next_offset=2)
    assert [key[:2] for key, _ in records] == [b"s/", b"m/", OFFSET_KEY[:2]]
    _append(log, records)
    restored = restore(0, log)  # a crash after the checkpoint
    (state,) = restored.scopes.states.values()
    (incident,) = state.incidents.values()
    assert incident.members["payments/errors"].ends_at == T0 + 400
    second = EngineRun(SHOP, refresh_seconds=60)
    stage = CorrelationStage(second.engine, restored.scopes)
    got += stage.process(signals[2])
    for t in range(50, 800, 10):
        got += stage.advance(T0 + t)
    assert [i.model_dump(mode="json") for i in got] == [i.model_dump(mode="json") for i in expected]
    resolved = [i for i in got if i.status == "resolved"]
    assert [i.resolved_at for i in resolved] == [at(400)]  # not at 100: the moved expiry was restored


def _random_run(seed: int, rebuild: bool) -> tuple[list[str], int]:
    """A random stream (endsAt on some signals only, absorbed re-sends, resolves) driven through one engine;
    `rebuild`: drop the due index before every advance (a fresh index from the members). Returns every
    change and decision as JSON, and how many members expired by endsAt. After each advance no firing member
    may be past its expiry (never late)."""
    config = correlation_config(group_wait_seconds=20, group_interval_seconds=15, resolve_quiet_seconds=30,
                                reopen_seconds=60, stale_seconds=150, refresh_seconds=20)
    engine = CorrelationEngine(config, graph({"a": ["b"], "b": ["c"], "c": [], "d": []}), learned=False)
    state = ScopeState(scope="x")
    rng = random.Random(seed)
    out: list[str] = []
    offset = 0.0
    for _ in range(1500):
        offset += rng.expovariate(1 / 3)
        fingerprint = f"{rng.choice(['cpu', 'mem'])}-{rng.choice('abcd')}-{rng.randint(0, 3)}"
        status = "resolved" if rng.random() < 0.2 else "firing"
        ends = offset + rng.uniform(-5, 400) if rng.random() < 0.6 else None
        item = signal("cpu", fingerprint.split("-")[1], offset, status=status, fingerprint=fingerprint)
        out += [c.model_dump_json() for c in engine.process(state, item.model_copy(
            update={"ends_at": at(ends) if ends is not None else None}))]
        if rng.random() < 0.5:
            if rebuild:
                state.derived.due = None
            out += [c.model_dump_json() for c in engine.advance(state, T0 + offset)]
            _check_none_late(state, engine, T0 + offset)
        out += [d.model_dump_json() for d in engine.drain_decisions()]
    for step in range(1, 20):
        out += [c.model_dump_json() for c in engine.advance(state, T0 + offset + 30 * step)]
        out += [d.model_dump_json() for d in engine.drain_decisions()]
    return out, sum('"kind":"expired"' in line for line in out)


def _check_none_late(state: ScopeState, engine: CorrelationEngine, now: float) -> None:
    for incident in state.incidents.values():
        for member in incident.members.values():
            if member.status != "firing":
                continue
            if member.ends_at is not None:
                assert member.ends_at > now
            else:
                assert member.last_seen >= now - engine.config.stale_seconds
                assert member.queued


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_expiry_heaps_are_never_late_and_equal_a_rebuilt_index(seed: int) -> None:
    lazy, expired = _random_run(seed, rebuild=False)
    rebuilt, _ = _random_run(seed, rebuild=True)
    assert expired > 20
    assert lazy == rebuilt


# --- live worker vs replay ----------------------------------------------------------------------------------

START = 1_760_000_000.0


def alert_lines() -> list[bytes]:
    """Two alerts: checkout's re-sent every minute with an endsAt 5 min ahead, then no more (expires 5 min after
    its last re-send); search's sent once with an endsAt two hours ahead, far past every other timer."""
    events: list[dict[str, Any]] = []
    for minute in range(10):
        ts = START + 60 * minute
        events.append({"kind": "alert", "ts": ts, "source": "prometheus", "service": "checkout",
                       "name": "CheckoutErrors", "status": "firing", "starts_at": START, "ends_at": ts + 300})
    events.append({"kind": "alert", "ts": START + 100, "source": "prometheus", "service": "search",
                   "name": "SearchDown", "status": "firing", "ends_at": START + 7200})
    events.sort(key=lambda event: event["ts"])
    return [json.dumps(event).encode() for event in events]


def by_incident(incidents: list[Incident]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for incident in incidents:
        grouped.setdefault(incident.id, []).append(incident.model_dump(mode="json"))
    return grouped


def test_live_and_replay_resolve_an_expired_alert_at_the_same_event_time() -> None:
    config = AiopsConfig.model_validate({"services": SCENARIO_SERVICES, "correlation": {"group_by": ["service"]},
                                         "topics": {"events_partitions": 2, "signals_partitions": 2}})
    lines = alert_lines()
    replayed = by_incident([item.incident for item in replay_lines(lines, config, at(0))
                            if item.incident is not None])
    finals = {versions[-1]["services"][0]: versions[-1] for versions in replayed.values()}
    quiet = config.correlation.resolve_quiet_seconds
    assert {service: final["status"] for service, final in finals.items()} == {
        "checkout": "resolved", "search": "resolved"}
    assert finals["checkout"]["resolved_at"] == at(START - T0 + 540 + 300 + quiet).isoformat().replace(
        "+00:00", "Z")
    assert finals["checkout"]["first_seen"] == at(START - T0).isoformat().replace("+00:00", "Z")
    assert finals["search"]["resolved_at"] == at(START - T0 + 7200 + quiet).isoformat().replace("+00:00", "Z")
    with SimulatedService(config, lines) as service:
        service.deliver({tp: len(lines) for tp in service.inputs}, 0.05)
        service.idle_until_quiet(wall_seconds=8000, step=100)
    assert by_incident(service.incidents) == replayed
