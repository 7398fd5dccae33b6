"""What every `aiops` command shares: config loading, finding Kafka, files, quiet clients, exit codes.

`config_from_args` reads ``--config`` (plus ``AIOPS_*`` overrides) and applies ``--bootstrap`` and a
command's own overrides; `require_bootstrap` finds Kafka from ``--bootstrap`` / ``kafka.bootstrap``, else from
the run-file of an ``aiops run`` with an embedded broker on this machine (`aiops.runtime.runfile`), else says
how to point the command at one. `run_handler` turns every ordinary mistake (an `AiopsError`, e.g. the
`UsageError` of `open_input` / `open_output` for a missing file) into one ``aiops: ...`` line on stderr and
exit code 2 (130 on Ctrl-C), never a traceback. `add_command` registers a command with the usual
``--config`` / ``--bootstrap`` options; `parse_duration` and `parse_time` read the durations and RFC 3339 times
several commands take. Nothing here imports Kafka clients or registers commands itself.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import IO, Any

import aiops
from aiops.config import AiopsConfig, load_config
from aiops.errors import AiopsError, ConfigError, UsageError
from aiops.runtime.runfile import read_run_file, run_file_path

Handler = Callable[[argparse.Namespace], int]


def add_command(subparsers: Any, name: str, handler: Handler, help_text: str, *, config: bool = True,
                kafka: bool = False) -> argparse.ArgumentParser:
    """Register command `name` running `handler`, with ``--config`` (unless `config` is false) and, for a
    command that talks to Kafka, ``--bootstrap``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(name, help=help_text, description=help_text)
    parser.set_defaults(handler=handler)
    if config:
        parser.add_argument("--config", help="YAML config file (default: built-in defaults + AIOPS_* env)")
    if kafka:
        parser.add_argument("--bootstrap", metavar="HOST:PORT", help="use this Kafka instead of the config's")
    return parser


def config_from_args(args: argparse.Namespace, **overrides: Any) -> AiopsConfig:
    """The config of ``--config`` with ``--bootstrap`` and `overrides` (section -> values, merged into the
    section when both are dicts) applied on top, validated again."""
    config = load_config(getattr(args, "config", None))
    bootstrap = getattr(args, "bootstrap", None)
    if bootstrap:
        overrides.setdefault("kafka", {})["bootstrap"] = bootstrap
    if not overrides:
        return config
    data = config.model_dump(by_alias=True)
    for section, values in overrides.items():
        if isinstance(values, dict):
            data.setdefault(section, {}).update(values)
        else:
            data[section] = values
    return AiopsConfig.model_validate(data)


def run_handler(args: argparse.Namespace) -> int:
    """Run the parsed command's handler; its exit code, or 2 with one ``aiops: ...`` line for an
    `AiopsError`, 0 when the reader of stdout left (``aiops replay FILE | head``), 130 on Ctrl-C."""
    handler: Handler = args.handler
    try:
        return handler(args)
    except AiopsError as error:
        print(error_line(error), file=sys.stderr)
        return 2
    except BrokenPipeError:  # `aiops replay FILE | head`: the reader left; not an error
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:  # Ctrl-C (e.g. on `aiops tail`): clients are closed on the way out
        print("aiops: interrupted", file=sys.stderr)
        return 130


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


_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)([wdhms])")
_UNIT_SECONDS = {"w": 604800.0, "d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}


def parse_duration(text: str) -> timedelta:
    """``90s``, ``30m``, ``2h``, ``1h30m``, ``1d``, ``1w`` → timedelta (must be > 0)."""
    compact = text.strip().lower()
    parts = _DURATION_RE.findall(compact)
    if not parts or "".join(number + unit for number, unit in parts) != compact:
        raise ConfigError(f"bad duration {text!r}: use e.g. 90s, 30m, 2h, 1h30m, 1d")
    seconds = sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)
    if seconds <= 0:
        raise ConfigError(f"duration must be positive, got {text!r}")
    return timedelta(seconds=seconds)


def parse_time(text: str) -> datetime:
    """RFC 3339 with an offset (``2024-06-01T22:00:00Z``, ``...+02:00``) → aware UTC datetime."""
    try:
        parsed = datetime.fromisoformat(text.strip().upper())
    except ValueError as error:
        raise ConfigError(f"bad time {text!r}: use RFC 3339, e.g. 2024-06-01T22:00:00Z") from error
    if parsed.tzinfo is None:
        raise ConfigError(f"time {text!r} needs an offset (Z or +HH:MM)")
    return parsed.astimezone(UTC)
