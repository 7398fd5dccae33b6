"""The embedded broker's run-file: how ``aiops produce``, ``tail`` and ``silence`` find a local service.

While ``aiops run`` or ``aiops demo`` hosts the embedded broker, it writes
``$TMPDIR/aiops-<uid>/embedded-broker.json`` (``$TMPDIR`` defaults to /tmp; the directory is created private
to the user) with the broker's bootstrap, the HTTP URL and the service's pid, and removes it on exit.
`read_run_file` ignores a file whose pid is gone (a killed service) or that is not readable JSON, so a stale
file never points a client at a dead port. With several services at once the most recently started one
wins (and a service removes the file only while it is still its own). Files and ``os`` calls only; no Kafka.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger(__name__)

RUN_FILE_NAME = "embedded-broker.json"


@dataclass(frozen=True)
class RunFile:
    """What a running service publishes about itself."""

    bootstrap: str
    http_url: str
    pid: int


def run_file_path() -> Path:
    """``$TMPDIR/aiops-<uid>/embedded-broker.json`` (the same path for every shell of the user)."""
    return Path(tempfile.gettempdir()) / f"aiops-{os.getuid()}" / RUN_FILE_NAME


def _private_directory(path: Path) -> bool:
    """Create `path` (mode 0700) if needed; False when it belongs to someone else (never trust it then)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path.stat().st_uid == os.getuid()


def write_run_file(bootstrap: str, http_url: str) -> Path | None:
    """Publish this process's broker and HTTP addresses; None (and a warning) when that is not possible."""
    path = run_file_path()
    try:
        if not _private_directory(path.parent):
            log.warning("not writing %s: its directory belongs to another user", path)
            return None
        staging = path.with_name(f".{RUN_FILE_NAME}.{os.getpid()}")
        staging.write_text(json.dumps(asdict(RunFile(bootstrap, http_url, os.getpid()))), encoding="utf-8")
        staging.replace(path)
    except OSError as error:
        log.warning("cannot write %s: %s", path, error.strerror)
        return None
    return path


def remove_run_file() -> None:
    """Remove the run-file if this process wrote it (a later service may have replaced it)."""
    path = run_file_path()
    found = _load(path)
    if found is not None and found.pid == os.getpid():
        with contextlib.suppress(OSError):
            path.unlink()


def read_run_file() -> RunFile | None:
    """The run-file of a live service on this machine, or None."""
    path = run_file_path()
    found = _load(path)
    if found is None or not _alive(found.pid):
        return None
    return found


def _load(path: Path) -> RunFile | None:
    try:
        if path.parent.stat().st_uid != os.getuid():  # someone else's directory: never trust its content
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        return RunFile(bootstrap=str(data["bootstrap"]), http_url=str(data["http_url"]), pid=int(data["pid"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's (cannot happen in a private directory)
        return True
    return True
