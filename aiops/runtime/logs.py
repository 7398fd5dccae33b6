"""Logging set-up: readable lines on a terminal, one JSON object per line otherwise.

`configure_logging` installs one handler on stderr for the root logger and sets levels explicitly (a library
that leaves the root logger at DEBUG costs throughput). The format follows
`logging.json`: ``"auto"`` (the default) writes JSON unless stderr is a terminal, so people at a console
read plain lines while log shippers (docker, systemd, a file or a pipe) get JSON; ``true``/``false`` force
one or the other. Both formats carry the topic/partition/offset/incident/sink context (and an operator API
audit entry) when a record has it.
No other module configures logs.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Literal, TextIO

JsonSetting = bool | Literal["auto"]
"""`logging.json`: True = JSON, False = plain text, "auto" = JSON unless the log stream is a terminal."""

_CONTEXT_FIELDS = ("topic", "partition", "offset", "incident", "sink", "audit")


def _context(record: logging.LogRecord) -> dict[str, object]:
    return {name: value for name in _CONTEXT_FIELDS if (value := getattr(record, name, None)) is not None}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts (UTC), level, logger, msg, context fields and `exc` if any."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        payload.update(_context(record))
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


class HumanFormatter(logging.Formatter):
    """``HH:MM:SS.mmm LEVEL   logger: message [topic=… partition=…]`` in local time, then any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created).astimezone()
        context = " ".join(f"{name}={value}" for name, value in _context(record).items())
        line = (f"{when:%H:%M:%S}.{when.microsecond // 1000:03d} {record.levelname:<7} {record.name}: "
                f"{record.getMessage()}{f' [{context}]' if context else ''}")
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except ValueError:  # a closed stream
        return False


def wants_json(setting: JsonSetting, stream: TextIO) -> bool:
    """Whether logs written to `stream` should be JSON under `logging.json` = `setting`."""
    if setting == "auto":
        return not _is_terminal(stream)
    return setting


def configure_logging(level: str, json_format: JsonSetting = "auto", library_level: str = "WARNING") -> None:
    stream = sys.stderr
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if wants_json(json_format, stream) else HumanFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("aiokafka", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(max(logging.getLevelName(library_level), logging.getLevelName(level)))
