"""`aiops replay --actions`: operator actions reproduced deterministically at the replay's event time.

An action is applied just before the first event later than its `requested_at`, at the scope's event-time
clock (the watermark: newest event time minus `allowed_lateness_seconds`, 30 s by default).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.builders import alert_event, at

from aiops.actions import Action
from aiops.cli.app import main
from aiops.config import AiopsConfig
from aiops.errors import UsageError
from aiops.incidents import Incident
from aiops.replay import read_actions, replay_lines

FAILED_AT = datetime(2024, 1, 1, tzinfo=UTC)


def lines() -> list[bytes]:
    """A firing alert re-sent every 10 s for 5 minutes, then resolved."""
    events = [alert_event(offset, service="api") for offset in range(0, 300, 10)]
    events.append(alert_event(300, service="api", status="resolved"))
    return [event.model_dump_json().encode() + b"\n" for event in events]


def replay(actions: Sequence[Action] = ()) -> list[Incident]:
    items = replay_lines(lines(), AiopsConfig(), FAILED_AT, actions=actions)
    return [item.incident for item in items if item.incident is not None]


def test_an_acknowledge_is_applied_at_the_replayed_clock_and_reproduced_identically() -> None:
    plain = replay()
    assert plain[0].status == "open"
    incident = plain[0]
    ack = Action(id="ack-1", kind="acknowledge", incident_id=incident.id, scope=incident.scope, actor="alice",
                 requested_at=at(125))
    note = Action(id="note-1", kind="note", incident_id=incident.id, scope=incident.scope, actor="bob",
                  comment="db failover", requested_at=at(125))
    first = replay([ack, note])
    assert first == replay([ack, note])
    acked = [i for i in first if i.change.action == "acknowledge"]
    assert len(acked) == 1
    # applied before the event at 130 (the first later than 125): the watermark then was 120 - 30
    assert acked[0].acknowledged_at == at(90)
    noted = next(i for i in first if i.change.action == "note")
    assert noted.version == acked[0].version + 1  # file order
    assert first[-1].status == "resolved"
    assert first[-1].acknowledged_by == "alice"
    assert [i.notes[0].text for i in first[-1:]] == ["db failover"]


def test_actions_after_the_last_event_are_applied_before_the_input_ends() -> None:
    incident = replay()[0]
    late = Action(id="late", kind="resolve", incident_id=incident.id, scope=incident.scope, actor="alice",
                  requested_at=at(10_000))
    out = replay([late])
    assert [i.change.action for i in out if i.status == "resolved"] == ["resolve"]


def test_read_actions_names_the_bad_line(tmp_path: Path) -> None:
    good = Action(id="a", kind="acknowledge", incident_id="i", scope="s", actor="x", requested_at=at(0))
    assert read_actions([good.model_dump_json().encode(), b"\n"]) == [good]
    with pytest.raises(UsageError, match=r"actions\.jsonl line 2"):
        read_actions([good.model_dump_json().encode(), b'{"kind": "merge"}'], "actions.jsonl")


def test_the_cli_replays_with_actions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"".join(lines()))
    incident = replay()[0]
    actions = tmp_path / "actions.jsonl"
    actions.write_text(Action(id="ack", kind="acknowledge", incident_id=incident.id, scope=incident.scope,
                              actor="alice", requested_at=at(125)).model_dump_json() + "\n")
    assert main(["replay", str(events), "--actions", str(actions)]) == 0
    printed = [Incident.model_validate_json(line) for line in capsys.readouterr().out.splitlines()]
    assert [i.change.action for i in printed if i.change.action] == ["acknowledge"]
