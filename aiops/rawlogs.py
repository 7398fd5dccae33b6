"""Plain-text log lines (a `raw` input topic) turned into `LogEvent`s of the event contract.

A raw line carries no structure: its service and host come from the topic's configuration, its event time
from the Kafka record timestamp, and its level from the first level word near the start of the line
(`ERROR`, `warn`, `FATAL`, ... ; `info` when none). Bytes that are not valid UTF-8 are decoded with
replacement characters (a log line with one bad byte is still worth mining); empty and oversized lines, and
record timestamps outside the contract's plausible range (none, or a producer that wrote microseconds),
raise `InvalidEventError` like bad events do. Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from aiops.errors import InvalidEventError
from aiops.events import IMPLAUSIBLE_TIME, LogEvent, plausible_epoch

_LEVEL = re.compile(
    r"\b(TRACE|DEBUG|INFO|NOTICE|WARN(?:ING)?|ERROR|ERR|SEVERE|CRIT(?:ICAL)?|FATAL|ALERT|EMERG(?:ENCY)?)\b",
    re.IGNORECASE,
)
_LEVEL_SCAN_CHARS = 120
_ALIASES = {"severe": "error", "err": "error", "warn": "warning"}


def infer_level(line: str) -> str:
    match = _LEVEL.search(line, 0, _LEVEL_SCAN_CHARS)
    if match is None:
        return "info"
    word = match.group(1).lower()
    return _ALIASES.get(word, word)


def log_event_from_line(
    raw: bytes | None, ts: float, service: str, host: str, source: str, max_bytes: int
) -> LogEvent:
    """One raw line (bytes) at event time `ts` (epoch seconds) as a `LogEvent`."""
    if raw is None or not raw.strip():
        raise InvalidEventError("empty", "raw log line is empty")
    if len(raw) > max_bytes:
        raise InvalidEventError("oversized", f"{len(raw)} bytes > limit {max_bytes}")
    if not plausible_epoch(ts):
        raise InvalidEventError(IMPLAUSIBLE_TIME, f"record timestamp {ts!r} s is outside [1970-01-01, 2200-01-01)")
    text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
    return LogEvent(
        kind="log", ts=datetime.fromtimestamp(ts, tz=UTC), source=source, service=service, host=host,
        message=text, level=infer_level(text),
    )
