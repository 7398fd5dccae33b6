"""Start-up of ``aiops run``: fail fast on a taken port, then announce where the service can be reached.

`check_ports` runs before anything starts: when the HTTP port or the embedded broker's port cannot be bound
it raises `UsageError` with one line naming the config key to change (``http.port``,
``kafka.embedded_port``), instead of a traceback from deep inside the worker. `Announcement.ready` prints the
one-line start-up banner (broker address, console, metrics and health URLs) once the HTTP endpoint listens and, for
the embedded broker, writes the run-file (`aiops.runtime.runfile`) that lets ``aiops produce``, ``tail`` and
``silence`` find it without flags; `Announcement.withdraw` removes that file on exit. `settle_heap` tunes
the garbage collector once everything has started.
"""

from __future__ import annotations

import gc
import sys
from typing import TextIO

from aiops.config import AiopsConfig
from aiops.errors import UsageError
from aiops.runtime.broker import LOOPBACK, bind_error
from aiops.runtime.runfile import remove_run_file, write_run_file


def embedded_port_error(port: int) -> str | None:
    """Why the embedded broker cannot take `port` on loopback now, or None (port 0: any free port)."""
    return bind_error(LOOPBACK, port) if port else None


def check_ports(config: AiopsConfig) -> None:
    """Raise `UsageError` naming the key to change when a port the service must listen on is taken."""
    http = config.http
    problem = bind_error(http.host, http.port) if http.port else None
    if problem is not None:
        raise UsageError(f"cannot serve http on {http.host}:{http.port}: {problem}; set http.port to a free "
                         "port (0 = any free port, e.g. AIOPS_HTTP__PORT=0)")
    port = config.kafka.embedded_port
    problem = embedded_port_error(port) if config.kafka.bootstrap is None else None
    if problem is not None:
        raise UsageError(f"the embedded broker cannot listen on {LOOPBACK}:{port}: {problem} (another aiops run, "
                         "or a Kafka broker?); set kafka.embedded_port to a free port (0 = any free port, e.g. "
                         "AIOPS_KAFKA__EMBEDDED_PORT=0), or kafka.bootstrap to use the broker already there")


def banner(bootstrap: str, embedded: bool, http_url: str, ingest: bool = False, console: bool = False) -> str:
    """The start-up line: where Kafka is, where the on-call console (when served), metrics, health and (when
    served) HTTP ingest are, how to follow incidents."""
    if embedded:
        where = f"embedded Kafka broker on {bootstrap}"
        follow = "; `aiops tail` in another shell follows incidents"
    else:
        where, follow = f"Kafka at {bootstrap}", ""
    doors = f", alerts in at {http_url}/api/v2/alerts (docs/ingest.md)" if ingest else ""
    page = f", console {http_url}/" if console else ""
    return f"aiops ready: {where}{page}, metrics {http_url}/metrics, health {http_url}/healthz{doors}{follow}"


class Announcement:
    """Prints the banner once and owns the run-file of an embedded broker."""

    def __init__(self, bootstrap: str, embedded: bool, out: TextIO | None = None, *, ingest: bool = False,
                 console: bool = False) -> None:
        self.bootstrap = bootstrap
        self.embedded = embedded
        self.ingest = ingest
        self.console = console
        self._out = out

    def ready(self, http_url: str) -> None:
        """Write the run-file (embedded broker), then print the banner: once it shows, clients find us."""
        if self.embedded:
            write_run_file(self.bootstrap, http_url)
        out = self._out if self._out is not None else sys.stdout
        print(banner(self.bootstrap, self.embedded, http_url, self.ingest, self.console), file=out, flush=True)

    def withdraw(self) -> None:
        """Remove the run-file if it is still this process's (safe to call whether `ready` ran or not, and
        also when an interrupt landed between writing the file and recording that it was written)."""
        if self.embedded:
            remove_run_file()


YOUNG_GENERATION_THRESHOLD = 20_000
"""Net container allocations between young-generation collections (CPython's default: 700)."""


def settle_heap() -> None:
    """Once the service has started: collect, then move everything allocated so far (modules, schemas,
    config, clients) to the permanent generation, so full collections stop rescanning it, and collect the
    young generation every `YOUNG_GENERATION_THRESHOLD` net allocations instead of 700 (a batch's objects
    die by reference counting, not by the collector). Measured on the HTTP ingest front at 100 alerts per
    request: the collector took about a tenth of its CPU with the defaults and nothing after (docs/benchmarks.md)."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, old)
