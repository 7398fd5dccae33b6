"""Helpers shared by the `aiops` commands: files, finding Kafka, quiet clients, the package version.

Every ordinary mistake becomes an `AiopsError` with one clear line (``aiops.cli.main`` prints it with
`error_line`, which keeps it one line, and exits non-zero), never a traceback: `open_input` / `open_output`
turn a missing file or directory into `UsageError`; `require_bootstrap` finds Kafka from ``--bootstrap`` /
``kafka.bootstrap``, else from the run-file of an ``aiops run`` with an embedded broker on this machine
(`aiops.runtime.runfile`), else says how to point the command at one. `quiet_kafka_client_logs` stops
aiokafka's retry chatter: the client commands report connection failures themselves, once. Nothing here
imports Kafka clients.
"""

from __future__ import annotations

import logging
from importlib import metadata
from pathlib import Path
from typing import IO

import aiops
from aiops.config import AiopsConfig
from aiops.errors import ConfigError, UsageError
from aiops.runtime.runfile import read_run_file, run_file_path


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def open_input(path: str) -> IO[bytes]:
    """`path` opened for reading bytes; `UsageError` naming the path when it cannot be."""
    try:
        return Path(path).open("rb")
    except OSError as error:
        raise UsageError(f"cannot read {path}: {_reason(error)}") from None


def open_output(path: str) -> IO[str]:
    """`path` opened for writing text (truncated); `UsageError` naming the path when it cannot be."""
    try:
        return Path(path).open("w", encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot write {path}: {_reason(error)}") from None


def require_bootstrap(config: AiopsConfig) -> str:
    """Kafka to talk to: the configured bootstrap, else a running local embedded broker; else `ConfigError`."""
    if config.kafka.bootstrap:
        return config.kafka.bootstrap
    found = read_run_file()
    if found is not None:
        return found.bootstrap
    raise ConfigError(f"no Kafka to talk to: no aiops run with an embedded broker on this machine (no live "
                      f"{run_file_path()}); pass --bootstrap HOST:PORT or set kafka.bootstrap")


def error_line(error: BaseException) -> str:
    """``aiops: <message>`` on one line whatever the message (e.g. a broker's log tail): its lines joined by
    "; " (by a space after a line ending in ":")."""
    text = ""
    for line in filter(None, (line.strip() for line in str(error).splitlines())):
        text += line if not text else f"{' ' if text.endswith(':') else '; '}{line}"
    return f"aiops: {text or type(error).__name__}"


def quiet_kafka_client_logs() -> None:
    """Silence aiokafka's own error logging for a client command (it reports failures itself, once)."""
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL + 1)


def package_version() -> str:
    """The installed distribution's version (the source tree's when aiops is not installed)."""
    try:
        return metadata.version("aiops")
    except metadata.PackageNotFoundError:
        return aiops.__version__
