"""Constant work per signal (issue 19) and closed incidents that stay closed (issue 18).

- a re-send (same member, same status, no stronger evidence, within `refresh_seconds`) is absorbed:
  nothing written, nothing emitted; later re-sends, status changes and stronger evidence still count;
- an incident record's size does not grow with the members that joined since its last version;
- a closed (forgotten) incident is remembered for `closed_memory_seconds`: a re-processed signal does not
  bring it back at v1, a later episode opens a new incident; the memory survives a checkpoint restore;
- during a storm, a member joining an open incident is shown after `group_interval_seconds` (resolves only
  wait the storm summary interval).
"""

from __future__ import annotations

import orjson
from support.builders import T0, signal
from support.engine_run import EngineRun

from aiops.correlation.stage import CorrelationStage
from aiops.correlation.state import due_index
from aiops.runtime.correlation_store import PartitionScopes, restore

SHOP = {"frontend": ["checkout"], "checkout": ["payments"], "payments": []}
Log = list[tuple[bytes | None, bytes | None, int]]


def _dirty(run: EngineRun) -> bool:
    dirty = run.state.dirty
    return dirty.data() or dirty.meta


def test_a_resend_within_refresh_seconds_changes_and_writes_nothing() -> None:
    run = EngineRun(SHOP, refresh_seconds=60)
    run.send(signal("errors", "payments", 0))
    member = next(iter(run.state.incidents.values())).members["payments/errors"]
    run.state.dirty.clear()
    before = run.state.model_dump(mode="json")
    for t in (10, 20, 59):
        assert run.send(signal("errors", "payments", t)) == []
    assert run.state.model_dump(mode="json") == before
    assert not _dirty(run)
    assert run.engine.counters["refreshes_absorbed"] == 3
    run.send(signal("errors", "payments", 61))  # a refresh past refresh_seconds moves last_seen
    assert member.last_seen == T0 + 61
    assert _dirty(run)
    run.send(signal("errors", "payments", 62, score=0.9))  # stronger evidence is never absorbed
    assert member.evidence is not None
    run.send(signal("errors", "payments", 63, status="resolved"))  # nor is a status change
    assert member.status == "resolved"
    assert run.engine.counters["refreshes_absorbed"] == 3


def test_refresh_seconds_zero_records_every_resend() -> None:
    run = EngineRun(SHOP, refresh_seconds=0)
    run.send(signal("errors", "payments", 0))
    run.send(signal("errors", "payments", 5))
    member = next(iter(run.state.incidents.values())).members["payments/errors"]
    assert member.last_seen == T0 + 5
    assert run.engine.counters["refreshes_absorbed"] == 0


def test_the_incident_record_does_not_grow_with_members_awaiting_a_version() -> None:
    run = EngineRun({}, group_interval_seconds=3600, group_by=["service"])
    run.send(signal("m0", "svc", 0))
    run.tick(1)  # opened and notified: later members wait for the group interval
    (incident,) = run.state.incidents.values()
    sizes = []
    for n in range(1, 2001):
        run.send(signal(f"m{n}", "svc", 1 + n * 0.01))
        if n in (100, 2000):  # past the grouping lines cap (20)
            sizes.append(len(orjson.dumps(incident.model_dump(mode="json", exclude={"members"}))))
    assert len(incident.pending_added) == 2000
    assert sizes[1] - sizes[0] <= 8  # only the change counter's digits grew
    out = run.tick(3700)
    assert [len(i.change.added) for i in out] == [2000]
    assert incident.pending_added == []


def _closed_run(**config: float) -> EngineRun:
    run = EngineRun(SHOP, reopen_seconds=60, closed_memory_seconds=3600, **config)
    run.send(signal("errors", "payments", 0))
    run.tick(1)
    run.send(signal("errors", "payments", 30, status="resolved"))
    run.tick(31)
    run.tick(200)  # past the reopen window: forgotten, remembered as closed
    assert run.state.incidents == {}
    return run


def test_a_reprocessed_signal_does_not_resurrect_a_closed_incident() -> None:
    run = _closed_run()
    (incident_id,) = run.state.closed
    assert [i.status for i in run.versions(incident_id)] == ["open", "resolved"]
    for s in (signal("errors", "payments", 0), signal("errors", "payments", 20)):  # replayed after a restart
        assert run.send(s) == []
    run.tick(300)
    assert run.state.incidents == {}
    assert [i.version for i in run.versions(incident_id)] == [1, 2]
    assert run.engine.counters["replayed_closed"] == 2
    run.send(signal("errors", "payments", 400))  # a new episode opens a new incident
    run.tick(401)
    (new_id,) = run.state.incidents
    assert new_id != incident_id
    assert [i.status for i in run.versions(new_id)] == ["open"]


def test_closed_memory_expires_after_closed_memory_seconds() -> None:
    run = _closed_run()
    run.tick(200 + 3599)
    assert len(run.state.closed) == 1
    run.tick(200 + 3601)
    assert run.state.closed == {}
    run.send(signal("errors", "payments", 10))  # forgotten altogether: treated as new
    assert len(run.state.incidents) == 1


def test_closed_memory_is_checkpointed_and_restored() -> None:
    reference = _closed_run()
    scopes = PartitionScopes(0)
    stage = CorrelationStage(reference.engine, scopes)
    stage.advance(T0 + 201)
    scopes.save(reference.state)
    log: Log = []
    records = scopes.checkpoint(next_offset=5)
    (incident_id,) = reference.state.closed
    assert (f"c/{incident_id}".encode()) in [key for key, _ in records]
    log.extend((key, value, i) for i, (key, value) in enumerate(records))
    restored = restore(0, log).scopes.load("shop")
    assert restored is not None
    assert restored.model_dump(mode="json") == reference.state.model_dump(mode="json")
    again = EngineRun(SHOP, reopen_seconds=60, closed_memory_seconds=3600)
    assert again.engine.process(restored, signal("errors", "payments", 20)) == []
    assert restored.incidents == {}
    again.engine.advance(restored, T0 + 200 + 3601)  # expiry writes a tombstone
    scopes.save(restored)
    records = scopes.checkpoint(next_offset=6)
    assert (f"c/{incident_id}".encode(), None) in records


def test_storm_shows_a_joining_member_at_the_group_interval_and_summarises_resolves() -> None:
    storm = {"storm": {"bucket_seconds": 60, "ratio": 2, "min_rate": 5}}
    run = EngineRun({}, suppression=storm, group_interval_seconds=30, storm_summary_interval_seconds=300,
                    group_by=["service"], resolve_quiet_seconds=1000)
    run.send(signal("m0", "svc", 0))
    run.tick(1)
    (incident_id,) = run.state.incidents
    for n in range(40):  # a burst of new members in other services starts a storm
        run.send(signal("burst", f"other{n}", 2 + n * 0.1))
    assert run.state.storm.active
    run.send(signal("m1", "svc", 10))
    for t in range(11, 40):
        run.tick(t)
    shown = [i for i in run.versions(incident_id) if i.status == "updated"]
    assert [i.change.added for i in shown] == [["svc/m1"]]  # within the group interval, not 300 s
    run.send(signal("m1", "svc", 45, status="resolved"))
    # not re-checked on every watermark: next due when the summary interval has passed since the last version
    assert due_index(run.state).due_at[incident_id] >= T0 + 300
    for t in range(46, 67, 5):
        run.tick(t)
    assert run.state.storm.active
    assert len([i for i in run.versions(incident_id) if i.status == "updated"]) == 1  # the resolve waits
    for t in range(67, 100):
        run.tick(t)
    assert not run.state.storm.active  # storm over: back to the group interval
    shown = [i for i in run.versions(incident_id) if i.status == "updated"]
    assert [i.change.resolved for i in shown] == [[], ["svc/m1"]]
