"""Replay: run the pure pipeline over a sequence of raw JSON lines, no broker involved.

Decodes each line with the same contract as the stream, feeds the pipeline in file order (event time
comes from the events), and at the end advances event time past every timer so open incidents resolve as
they would live once traffic moved on. Returns incident changes and dead letters; printing is the CLI's job.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from aiops.config import AiopsConfig
from aiops.deadletter import DeadLetter, dead_letter
from aiops.errors import InvalidEventError
from aiops.events import decode_event
from aiops.incidents import Incident
from aiops.pipeline import Pipeline


@dataclass(frozen=True, slots=True)
class ReplayItem:
    incident: Incident | None = None
    dead: DeadLetter | None = None


def replay_lines(
    lines: Iterable[bytes], config: AiopsConfig, failed_at: datetime, source: str = "<input>"
) -> Iterator[ReplayItem]:
    """Incident changes (and dead letters for bad lines) in the order the pipeline produces them."""
    pipeline = Pipeline(config)
    limit = config.ingest.max_message_bytes
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
        for incident in pipeline.process(event):
            yield ReplayItem(incident=incident)
    for incident in pipeline.finish():
        yield ReplayItem(incident=incident)
