"""The embedded broker's run-file: how ``aiops produce``, ``tail`` and ``silence`` find a local service.

While ``aiops run`` or ``aiops demo`` hosts the embedded broker, it writes
``$TMPDIR/aiops-<uid>/embedded-broker.json`` (``$TMPDIR`` defaults to /tmp; the directory is created private
to the user, and one that another user owns or may write to is never trusted) with the broker's bootstrap,
the HTTP URL, the service's pid and, where ``/proc`` tells it, the process's start time; it removes the file
on exit. `read_run_file` ignores a file that is not readable JSON, whose pid is gone, belongs to another user
or (start time differing) was reused by a later process, so a stale file never points a client at a dead
port. With several services at once the most recently started one wins; writing and removing hold a lock
on the directory, so a service removes the file only while it is still its own. Files and ``os`` calls
only; no Kafka.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger(__name__)

RUN_FILE_NAME = "embedded-broker.json"
_LOCK_NAME = ".embedded-broker.lock"


@dataclass(frozen=True)
class RunFile:
    """What a running service publishes about itself (`started`: its /proc start time, None if unknown)."""

    bootstrap: str
    http_url: str
    pid: int
    started: int | None = None


def run_file_path() -> Path:
    """``$TMPDIR/aiops-<uid>/embedded-broker.json`` (the same path for every shell of the user)."""
    return Path(tempfile.gettempdir()) / f"aiops-{os.getuid()}" / RUN_FILE_NAME


def _trusted_directory(path: Path) -> bool:
    """True when `path` is our own directory (not a link) that no other user may write to."""
    status = path.lstat()
    return stat.S_ISDIR(status.st_mode) and status.st_uid == os.getuid() and not status.st_mode & 0o022


def _private_directory(path: Path) -> bool:
    """Create `path` (mode 0700) if needed; False when it is someone else's or a link (never trust it then)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    status = path.lstat()
    if not stat.S_ISDIR(status.st_mode) or status.st_uid != os.getuid():
        return False
    path.chmod(0o700)
    return True


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Serialise the writers and removers of the run-file (flock; released when the lock file closes)."""
    with (directory / _LOCK_NAME).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (``/proc/<pid>/stat``), None where unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
        return int(fields[19])  # field 22, counting from the state after the ")" of the command name
    except (OSError, ValueError, IndexError):
        return None


def write_run_file(bootstrap: str, http_url: str) -> Path | None:
    """Publish this process's broker and HTTP addresses; None (and a warning) when that is not possible."""
    path = run_file_path()
    pid = os.getpid()
    staging = path.with_name(f".{RUN_FILE_NAME}.{pid}")
    try:
        if not _private_directory(path.parent):
            log.warning("not writing %s: its directory is another user's, or a link", path)
            return None
        with _locked(path.parent):
            staging.write_text(json.dumps(asdict(RunFile(bootstrap, http_url, pid, start_time(pid)))),
                               encoding="utf-8")
            staging.replace(path)
    except OSError as error:
        log.warning("cannot write %s: %s", path, error.strerror)
        with contextlib.suppress(OSError):
            staging.unlink()
        return None
    return path


def remove_run_file() -> None:
    """Remove the run-file if this process wrote it (a later service may have replaced it)."""
    path = run_file_path()
    with contextlib.suppress(OSError), _locked(path.parent):
        found = _load(path)
        if found is not None and found.pid == os.getpid():
            path.unlink()


def read_run_file() -> RunFile | None:
    """The run-file of a live service on this machine, or None."""
    found = _load(run_file_path())
    if found is None or not _alive(found):
        return None
    return found


def _load(path: Path) -> RunFile | None:
    try:
        # Never trust a file another user could have written (their directory, a shared one, their file).
        if not _trusted_directory(path.parent) or path.stat().st_uid != os.getuid():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        started = data.get("started")
        return RunFile(bootstrap=str(data["bootstrap"]), http_url=str(data["http_url"]), pid=int(data["pid"]),
                       started=None if started is None else int(started))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _alive(found: RunFile) -> bool:
    """Whether the process that wrote `found` still runs: its pid exists, is ours and started when it did."""
    try:
        os.kill(found.pid, 0)
    except (ProcessLookupError, PermissionError):  # gone, or the pid now belongs to another user
        return False
    return found.started is None or start_time(found.pid) in (None, found.started)
