"""Shared by the `aiops eval` commands: progress lines on stderr and one-line dataset errors.

`Progress` writes ``<eval>: <text>`` lines to stderr (stdout keeps the report, and the `--json` line stays
the last stdout line): `note` at once (what is being scored, with which detector and settings), `step`
throttled to one line per `every_seconds` plus the last step, e.g. ``nab: 12/58 files,
realKnownCause/nyc_taxi.csv, 41 s``. `require_dir` / `require_file` raise `aiops.errors.DatasetError` for a
missing dataset folder or file; `report_dataset_errors` turns it (and any other `OSError` while reading) into
one ``error: ...`` line on stderr and exit code 2 instead of a traceback. Neither reads nor scores data.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TextIO

from aiops.errors import DatasetError

EXIT_DATASET_ERROR = 2


def require_dir(path: Path, what: str) -> Path:
    """`path` when it is a directory, else a `DatasetError` saying what it should hold."""
    if not path.is_dir():
        raise DatasetError(f"{path} is not a directory ({what})")
    return path


def require_file(path: Path, what: str) -> Path:
    """`path` when it is a file, else a `DatasetError` saying what it should be."""
    if not path.is_file():
        raise DatasetError(f"missing {path} ({what})")
    return path


def report_dataset_errors(run: Callable[[], int], stream: TextIO | None = None) -> int:
    """`run()`, or one error line on stderr and exit code 2 when the dataset is missing or unreadable."""
    try:
        return run()
    except DatasetError as error:
        message = str(error)
    except OSError as error:
        where = f" {error.filename}" if error.filename else ""
        message = f"cannot read{where}: {error.strerror or error}"
    print(f"error: {message}", file=stream or sys.stderr)
    return EXIT_DATASET_ERROR


def settings_text(settings: Mapping[str, object]) -> str:
    """``a=1, b=x`` (nested dicts as ``name(a=1)``) for one-line reports."""
    parts = []
    for key, value in settings.items():
        parts.append(f"{key}({settings_text(value)})" if isinstance(value, Mapping) else f"{key}={value}")
    return ", ".join(parts)


class Progress:
    """Progress of one evaluation on stderr (see the module docstring)."""

    def __init__(self, label: str, stream: TextIO | None = None, every_seconds: float = 5.0,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.label = label
        self.stream = stream
        self.every_seconds = every_seconds
        self.clock = clock
        self.started = clock()
        self._last_line = self.started

    def _write(self, text: str) -> None:
        print(f"{self.label}: {text}", file=self.stream or sys.stderr, flush=True)

    def note(self, text: str) -> None:
        """A line at once (what is about to be scored, and with what)."""
        self._write(text)

    def step(self, done: int, total: int, unit: str, item: str) -> None:
        """`done` of `total` `unit` finished, the last being `item`; written at most every `every_seconds`
        (the last step always)."""
        now = self.clock()
        if done < total and now - self._last_line < self.every_seconds:
            return
        self._last_line = now
        self._write(f"{done}/{total} {unit}, {item}, {now - self.started:.0f} s")
