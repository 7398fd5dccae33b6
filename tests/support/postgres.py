"""A throwaway PostgreSQL server on loopback for the store tests and bench/api.py.

`LocalPostgres` finds ``initdb``/``pg_ctl`` (PATH, then /usr/lib/postgresql/*/bin), initialises a cluster in a
fresh temporary directory, starts it on a free 127.0.0.1 port with its socket in that directory, and on
`stop` shuts it down and removes the directory. PostgreSQL refuses to run as root, so as root it runs as the
``postgres`` user (``runuser``) on a directory given to that user. `missing_reason()` says why it cannot run
(no binaries, root without a postgres user), for a clean skip.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg

TEST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
"""Durability off: test clusters are thrown away (the bench uses the defaults)."""


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


def _run_as() -> str | None:
    """The user to run the server as: None when we are not root, else ``postgres`` (if it exists)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "?"
    return "postgres"


def missing_reason() -> str | None:
    """Why a local PostgreSQL cannot be started here, or None when it can."""
    if _binary("initdb") is None or _binary("pg_ctl") is None:
        return "PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql"
    if _run_as() == "?":
        return "running as root and there is no 'postgres' user to run PostgreSQL as"
    if _run_as() is not None and shutil.which("runuser") is None:
        return "running as root without runuser to start PostgreSQL as 'postgres'"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LocalPostgres:
    """One PostgreSQL cluster in a temporary directory; `start`, `create_database`, `stop`."""

    def __init__(self, settings: dict[str, str] | None = None) -> None:
        self.settings = TEST_SETTINGS if settings is None else settings
        self.user = _run_as()
        self.port = _free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="aiops-pg-"))
        self.data = self.directory / "data"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", self.user, "--"] if self.user else []
        result = subprocess.run([*prefix, *command], capture_output=True, text=True, check=False, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{command[0]} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")

    def start(self) -> None:
        if self.user:
            shutil.chown(self.directory, self.user, self.user)
        initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
        assert initdb
        assert pg_ctl
        self._run(initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        options = " ".join([f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.directory}",
                            *(f"-c {key}={value}" for key, value in self.settings.items())])
        self._run(pg_ctl, "-D", str(self.data), "-o", options, "-l", str(self.directory / "server.log"), "-w",
                  "start")

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL of `database` (psycopg 3 driver)."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; its SQLAlchemy URL."""
        name = name or f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
        return self.url(name)

    def stop(self) -> None:
        pg_ctl = _binary("pg_ctl")
        try:
            if pg_ctl and (self.data / "postmaster.pid").exists():
                self._run(pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)
