"""Replay: run the pure pipeline over a sequence of raw JSON lines, no broker involved.

Decodes each line with the same contract as the stream, feeds the pipeline in file order (event time
comes from the events), and at the end advances event time past every timer so open incidents resolve as
they would live once traffic moved on. Operator actions (`aiops replay --actions`) are applied in their
order, each just before the first event later than its `requested_at` (after every event at or before it;
those left at the end of the input before it finishes), at the scope's event-time clock, as live applies
an action after the signals that came before it. Returns incident changes and dead letters; printing is
the CLI's job.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError

from aiops.actions import Action
from aiops.config import AiopsConfig
from aiops.deadletter import DeadLetter, dead_letter
from aiops.errors import InvalidEventError, UsageError
from aiops.events import decode_event
from aiops.incidents import Incident
from aiops.pipeline import Pipeline


@dataclass(frozen=True, slots=True)
class ReplayItem:
    incident: Incident | None = None
    dead: DeadLetter | None = None


def replay_lines(
    lines: Iterable[bytes], config: AiopsConfig, failed_at: datetime, source: str = "<input>",
    actions: Sequence[Action] = (),
) -> Iterator[ReplayItem]:
    """Incident changes (and dead letters for bad lines) in the order the pipeline produces them."""
    pipeline = Pipeline(config)
    limit = config.ingest.max_message_bytes
    waiting = deque(actions)
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip(b"\r\n")
        if not line.strip():
            continue
        try:
            event = decode_event(line, limit)
        except InvalidEventError as error:
            yield ReplayItem(dead=dead_letter("ingest", error.reason, error.detail, line, failed_at,
                                              topic=source, offset=number))
            continue
        while waiting and waiting[0].requested_at < event.ts:
            yield from (ReplayItem(incident=incident) for incident in pipeline.act(waiting.popleft()))
        for incident in pipeline.process(event):
            yield ReplayItem(incident=incident)
    while waiting:
        yield from (ReplayItem(incident=incident) for incident in pipeline.act(waiting.popleft()))
    for incident in pipeline.finish():
        yield ReplayItem(incident=incident)


def read_actions(lines: Iterable[bytes], source: str = "<actions>") -> list[Action]:
    """The actions of a JSONL file (one `Action` per non-blank line, as on `aiops.actions`)."""
    found: list[Action] = []
    for number, raw in enumerate(lines, start=1):
        if raw.strip():
            try:
                found.append(Action.model_validate_json(raw))
            except ValidationError as error:
                raise UsageError(f"{source} line {number}: not an action: {error.errors()[0]['msg']}") from None
    return found
