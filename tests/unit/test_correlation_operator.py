"""Operator actions on the pure engine: each kind's effect, versions, decisions, idempotency and rejections.

The shop chain frontend -> checkout -> payments -> postgres, learning off, no waits (see support.builders):
a firing signal opens an incident at once, so receivers know it and an applied action emits a version.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from support.builders import T0, signal
from support.engine_run import EngineRun

from aiops.actions import Action
from aiops.correlation.operator import MAX_OPERATOR_NOTES
from aiops.correlation.stage import CorrelationStage
from aiops.correlation.state import ScopeState, due_index
from aiops.incidents import Incident
from aiops.runtime.correlation_store import OFFSET_KEY, PartitionScopes, restore
from aiops.signals import dt_from_epoch

SHOP = {"frontend": ["checkout"], "checkout": ["payments"], "payments": ["postgres"], "postgres": []}


class Run(EngineRun):
    def __init__(self, **config: Any) -> None:
        super().__init__(SHOP, group_interval_seconds=30, resolve_quiet_seconds=60, reopen_seconds=600, **config)
        self.count = 0

    def act(self, kind: str, incident_id: str, **fields: Any) -> list[Incident]:
        self.count += 1
        fields.setdefault("id", f"act-{self.count}")
        action = Action(kind=kind, incident_id=incident_id, scope="shop", actor="alice",  # type: ignore[arg-type]
                        requested_at=datetime(2030, 1, 1, tzinfo=UTC), **fields)
        return self.apply(action)

    def apply(self, action: Action) -> list[Incident]:
        return self._keep(self.engine.act(self.state, action))

    def actions(self) -> list[tuple[str, str | None, str]]:
        return [(d.rule, d.outcome, d.reason) for d in self.decisions if d.kind == "action"]


def opened(run: Run) -> str:
    """An open incident of payments (two members: errors and latency); its id. The clock is at +10."""
    out = run.send(signal("errors", "payments", 0, severity="critical"), signal("latency", "payments", 5))
    run.tick(10)
    assert out[0].status == "open"
    return out[0].id


def test_acknowledge_emits_a_version_with_who_and_when_and_one_applied_decision() -> None:
    run = Run()
    incident = opened(run)
    [version] = run.act("acknowledge", incident, comment="looking")
    assert version.status == "updated"
    assert (version.acknowledged_by, version.acknowledged_at) == ("alice", dt_from_epoch(T0 + 10))
    assert (version.change.action, version.change.action_id, version.change.actor) == ("acknowledge", "act-1", "alice")
    assert version.change.reason == "acknowledge by alice: looking"
    [decision] = [d for d in run.decisions if d.kind == "action"]
    assert (decision.rule, decision.ref, decision.actor, decision.comment, decision.outcome) == (
        "acknowledge", "act-1", "alice", "looking", "applied")
    assert decision.ts == dt_from_epoch(T0 + 10)  # the scope's event-time clock, not the wall time asked
    [version] = run.act("unacknowledge", incident)
    assert version.acknowledged_by is None
    assert version.acknowledged_at is None


def test_a_redelivered_action_is_applied_once_and_recorded_once() -> None:
    run = Run()
    incident = opened(run)
    assert len(run.act("acknowledge", incident, id="same")) == 1
    assert run.act("acknowledge", incident, id="same") == []
    assert len([d for d in run.decisions if d.kind == "action"]) == 1
    assert "same" in run.state.actions


def test_rejections_change_nothing_and_say_why() -> None:
    run = Run()
    incident = opened(run)
    version = run.state.incidents[incident].version
    assert run.act("unacknowledge", incident) == []
    assert run.act("acknowledge", "inc-unknown") == []
    assert run.act("split", incident, member="payments/nope") == []
    assert run.act("reopen", incident) == []
    assert run.act("merge", incident, into="inc-other") == []
    assert run.state.incidents[incident].version == version
    assert [(rule, outcome) for rule, outcome, _ in run.actions()] == [
        ("unacknowledge", "rejected"), ("acknowledge", "rejected"), ("split", "rejected"), ("reopen", "rejected"),
        ("merge", "rejected")]
    reasons = [reason for _, _, reason in run.actions()]
    assert "not acknowledged" in reasons[0]
    assert "unknown incident inc-unknown" in reasons[1]
    assert "not a member" in reasons[2]
    assert "not resolved" in reasons[3]
    assert "unknown incident inc-other" in reasons[4]
    assert EngineRun(SHOP).engine.act(None, Action(
        id="x", kind="acknowledge", incident_id="i", scope="nowhere", actor="bob",
        requested_at=datetime(2030, 1, 1, tzinfo=UTC))) == []


def test_resolve_by_hand_keeps_members_and_only_a_member_firing_again_reopens() -> None:
    run = Run()
    incident = opened(run)
    [version] = run.act("resolve", incident, comment="fixed by restart")
    assert (version.status, version.resolved_by, version.change.action) == ("resolved", "alice", "resolve")
    assert [m.status for m in version.members] == ["firing", "firing"]  # members stay as they are
    run.send(signal("errors", "payments", 20, severity="critical"))  # a re-send of a still-firing member
    run.tick(30)
    assert run.versions(incident)[-1].status == "resolved"
    run.send(signal("latency", "payments", 40, status="resolved"))
    run.send(signal("latency", "payments", 50))  # fires again: reopens by the usual rule
    assert [i.status for i in run.versions(incident)][-1] == "open"
    assert run.state.incidents[incident].resolved_by == ""


def test_reopen_by_hand_stays_open_until_resolved_again() -> None:
    run = Run()
    incident = opened(run)
    run.send(signal("errors", "payments", 12, status="resolved"), signal("latency", "payments", 12, status="resolved"))
    run.tick(100)
    assert run.versions(incident)[-1].status == "resolved"
    [version] = run.act("reopen", incident, comment="still broken for users")
    assert (version.status, version.change.action, version.resolved_at) == ("open", "reopen", None)
    run.tick(500)  # no live member, quiet passed: it does not resolve by itself
    assert run.versions(incident)[-1].status == "open"
    [version] = run.act("resolve", incident)
    assert version.status == "resolved"
    run.tick(2000)  # forgotten after the reopen window: a reopen is then refused
    assert run.act("reopen", incident) == []
    assert "closed" in run.actions()[-1][2]


def test_assign_note_and_snooze() -> None:
    run = Run()
    incident = opened(run)
    [version] = run.act("assign", incident, owner="bob", team="payments-oncall")
    assert (version.context.owner, version.context.team) == ("bob", "payments-oncall")
    for i in range(MAX_OPERATOR_NOTES + 2):
        [version] = run.act("note", incident, comment=f"note {i}")
    assert len(version.notes) == MAX_OPERATOR_NOTES
    assert (version.notes[-1].text, version.notes[-1].actor) == (f"note {MAX_OPERATOR_NOTES + 1}", "alice")
    assert run.act("snooze", incident, until=dt_from_epoch(T0 + 5)) == []  # not after the scope's clock
    [version] = run.act("snooze", incident, until=dt_from_epoch(T0 + 200))
    assert version.snoozed_until == dt_from_epoch(T0 + 200)
    run.send(signal("timeouts", "checkout", 50))  # joins: its update is held until the snooze ends
    run.tick(100)
    assert run.versions(incident)[-1].change.action == "snooze"
    run.tick(200)
    assert run.versions(incident)[-1].change.added == ["checkout/timeouts"]
    assert due_index(run.state).due_at.get(incident, 0) != float("-inf")


def test_merge_by_hand_reuses_the_merge_machinery() -> None:
    run = Run()
    first = opened(run)
    [other] = run.send(signal("latency", "frontend", 11))  # two hops away: its own incident
    assert other.id != first
    out = run.act("merge", other.id, into=first, comment="same outage")
    assert [(i.id, i.status, i.merged_into, i.change.action) for i in out] == [
        (other.id, "resolved", first, "merge"), (first, "updated", None, "merge")]
    assert "frontend/latency" in out[1].change.added
    assert set(run.state.incidents) == {first}
    assert [(d.kind, d.rule, d.incident_id) for d in run.decisions[-3:]] == [
        ("resolved", "merge", other.id), ("merged", "operator", first), ("action", "merge", other.id)]


def test_split_moves_the_member_to_a_new_incident_never_merged_back() -> None:
    run = Run()
    incident = opened(run)
    old, new = run.act("split", incident, member="payments/latency")
    assert (old.id, old.change.removed, [m.fingerprint for m in old.members]) == (
        incident, ["payments/latency"], ["payments/errors"])
    assert (new.status, new.version, [m.fingerprint for m in new.members]) == ("open", 1, ["payments/latency"])
    assert new.change.action == "split"
    assert run.state.index["payments/latency"] == new.id
    run.send(signal("latency", "payments", 20, status="resolved"))  # its signals now update the new incident
    assert run.state.incidents[new.id].members["payments/latency"].status == "resolved"
    assert run.state.incidents[incident].members.keys() == {"payments/errors"}
    assert run.act("split", incident, member="payments/errors") == []  # its only member
    assert "only member" in run.actions()[-1][2]


def test_incidents_split_apart_are_not_merged_again_by_a_bridging_member() -> None:
    for apart in (True, False):
        run = Run()
        incident = opened(run)
        _, new = run.act("split", incident, member="payments/latency")
        if not apart:  # the control: without the rule, the bridge would merge them back
            run.state.incidents[incident].apart.clear()
            run.state.incidents[new.id].apart.clear()
        run.send(signal("saturation", "payments", 30))  # same service as both: links them
        assert (new.id in run.state.incidents) is apart


def test_unlink_drops_the_member_which_never_rejoins_that_incident() -> None:
    run = Run()
    incident = opened(run)
    [version] = run.act("unlink", incident, member="payments/latency", comment="not related")
    assert version.change.removed == ["payments/latency"]
    assert "payments/latency" not in run.state.index
    [again] = run.send(signal("latency", "payments", 60))  # same service, same window: would have joined
    assert again.id != incident
    assert again.status == "open"
    assert "payments/latency" in run.state.incidents[incident].unlinked


def test_actions_on_a_pending_incident_change_state_and_the_open_carries_them() -> None:
    run = Run(group_wait_seconds=30)
    run.send(signal("errors", "payments", 0))
    [incident] = run.state.incidents
    assert run.act("acknowledge", incident) == []
    run.tick(40)
    [version] = run.versions(incident)
    assert (version.status, version.acknowledged_by) == ("open", "alice")


def test_applied_state_survives_a_json_round_trip() -> None:
    run = Run()
    incident = opened(run)
    run.act("acknowledge", incident, id="a1")
    run.act("split", incident, member="payments/latency", id="a2")
    copy = ScopeState.model_validate_json(run.state.model_dump_json())
    assert copy == run.state
    assert list(copy.actions) == ["a1", "a2"]
    assert copy.incidents[incident].acknowledged_by == "alice"


def test_checkpoint_and_restore_keep_the_applied_action_and_its_id() -> None:
    run = Run()
    scopes = PartitionScopes(0)
    stage = CorrelationStage(run.engine, scopes)
    [opened_version] = stage.process(signal("errors", "payments", 0))
    scope = opened_version.scope
    action = Action(id="ack-1", kind="acknowledge", incident_id=opened_version.id, scope=scope, actor="alice",
                    requested_at=datetime(2030, 1, 1, tzinfo=UTC))
    [acked] = stage.act(action)
    records = scopes.checkpoint(next_offset=1, next_action_offset=7)
    assert any(key == f"a/{scope}".encode() for key, _ in records)
    assert records[-1] == (OFFSET_KEY, b'{"next":1,"actions":7}')
    restored = restore(0, [(key, value, i) for i, (key, value) in enumerate(records)])
    assert (restored.scopes.next_offset, restored.scopes.next_action_offset) == (1, 7)
    state = restored.scopes.states[scope]
    assert state == scopes.states[scope]
    assert state.incidents[opened_version.id].acknowledged_by == "alice"
    again = CorrelationStage(Run().engine, restored.scopes)
    assert again.act(action) == []  # re-delivered after the restart: not applied twice
    assert restored.scopes.checkpoint(next_offset=None)[-1] == (OFFSET_KEY, b'{"next":1,"actions":7}')
    assert acked.version == 2
