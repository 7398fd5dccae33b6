"""`aiops silence add|list|expire`: manage dynamic silences on the silences topic.

`add_commands(subparsers)` registers the ``silence`` command group on the main parser's subparsers; each
command resolves Kafka like ``aiops tail`` (``--bootstrap``, ``kafka.bootstrap``, else the embedded broker of
an ``aiops run`` on this machine, found through its run-file) and the topic from ``--topic``, else
``suppression.silences_topic`` (default ``aiops.silences``), the topic the worker follows.

- ``add``: ``--matcher`` (repeatable, e.g. ``'service=~"check.*"'``), ``--duration 2h`` or ``--ends-at``
  RFC 3339, optional ``--starts-at`` (default now), ``--author``, ``--comment``; prints the new id.
- ``list``: pending and active silences (``--all``: expired ones too), a line each or ``--json``.
- ``expire ID``: ends the silence now.

Only argument handling and printing live here; Kafka access (and the wall clock) is in
`aiops.runtime.silences`, imported when a command runs, so the parser builds without Kafka clients.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import uuid
from datetime import datetime
from typing import Any

from aiops.cli.common import config_from_args, parse_duration, parse_time, quiet_kafka_client_logs, require_bootstrap
from aiops.correlation.suppression.config import DEFAULT_SILENCES_TOPIC
from aiops.correlation.suppression.matchers import Matcher, format_matchers
from aiops.correlation.suppression.rules import Silence
from aiops.errors import ConfigError

DEFAULT_TOPIC = DEFAULT_SILENCES_TOPIC


def build_silence(args: argparse.Namespace, now: datetime) -> Silence:
    """The `Silence` that ``aiops silence add`` publishes (pure: `now` is passed in)."""
    matchers = [Matcher.parse(text) for text in args.matcher]
    starts_at = parse_time(args.starts_at) if args.starts_at else now
    ends_at = parse_time(args.ends_at) if args.ends_at else starts_at + parse_duration(args.duration)
    if ends_at <= starts_at:
        raise ConfigError("the silence would end before it starts")
    return Silence(id=args.id or str(uuid.uuid4()), matchers=matchers, starts_at=starts_at, ends_at=ends_at,
                   author=args.author, comment=args.comment, created_at=now)


def describe_silence(silence: Silence, at: float) -> str:
    """One human line per silence."""
    return (f"{silence.id} {silence.state(at):7} {silence.starts_at:%Y-%m-%dT%H:%M:%SZ} -> "
            f"{silence.ends_at:%Y-%m-%dT%H:%M:%SZ} {format_matchers(silence.matchers)} "
            f"by {silence.author or '-'}: {silence.comment}")


def _target(args: argparse.Namespace) -> tuple[str, str]:
    """(bootstrap, topic) from --bootstrap/--config/--topic, like `aiops tail`."""
    config = config_from_args(args)
    bootstrap = require_bootstrap(config)
    quiet_kafka_client_logs()
    return bootstrap, args.topic or config.suppression.silences_topic


def cmd_silence_add(args: argparse.Namespace) -> int:
    from aiops.runtime.silences import publish_silence, utc_now  # keeps Kafka out of start-up

    silence = build_silence(args, utc_now())
    bootstrap, topic = _target(args)
    asyncio.run(publish_silence(bootstrap, topic, silence))
    print(silence.model_dump_json() if args.json else silence.id, flush=True)
    return 0


def cmd_silence_list(args: argparse.Namespace) -> int:
    from aiops.runtime.silences import load_silences, utc_now  # keeps Kafka out of start-up

    bootstrap, topic = _target(args)
    at = utc_now().timestamp()
    silences = [s for s in asyncio.run(load_silences(bootstrap, topic)) if args.all or s.state(at) != "expired"]
    if args.json:
        print(json.dumps([s.model_dump(mode="json") for s in silences]), flush=True)
    else:
        for silence in silences:
            print(describe_silence(silence, at), flush=True)
    return 0


def cmd_silence_expire(args: argparse.Namespace) -> int:
    from aiops.runtime.silences import expire_silence, utc_now  # keeps Kafka out of start-up

    bootstrap, topic = _target(args)
    expired = asyncio.run(expire_silence(bootstrap, topic, args.id, utc_now()))
    print(f"expired {expired.id} at {expired.ends_at:%Y-%m-%dT%H:%M:%SZ}", flush=True)
    return 0


def add_commands(subparsers: Any) -> None:
    """Register ``aiops silence add|list|expire`` on the main parser's subparsers object."""
    group = subparsers.add_parser("silence", help="manage silences (dynamic, on the silences topic)",
                                  description="Add, list and expire silences on the silences topic.")
    commands = group.add_subparsers(dest="silence_command", required=True)

    def command(name: str, handler: Any, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = commands.add_parser(name, help=help_text, description=help_text)
        parser.set_defaults(handler=handler)
        parser.add_argument("--config", help="YAML config file (default: built-in defaults + AIOPS_* env)")
        parser.add_argument("--bootstrap", metavar="HOST:PORT", help="use this Kafka instead of the config's")
        parser.add_argument("--topic", default=None, help=f"silences topic (default: config, else {DEFAULT_TOPIC})")
        return parser

    add = command("add", cmd_silence_add, "silence members matching all --matcher options")
    add.add_argument("--matcher", action="append", required=True, metavar="MATCHER",
                     help="name=value, name!=value, name=~\"regex\" or name!~\"regex\" (repeatable; all must match)")
    until = add.add_mutually_exclusive_group(required=True)
    until.add_argument("--duration", help="how long, e.g. 30m, 2h, 1h30m, 1d")
    until.add_argument("--ends-at", help="end time, RFC 3339 (e.g. 2024-06-01T22:00:00Z)")
    add.add_argument("--starts-at", default=None, help="start time, RFC 3339 (default: now)")
    add.add_argument("--author", required=True)
    add.add_argument("--comment", required=True)
    add.add_argument("--id", default=None, help="silence id (default: a new UUID)")
    add.add_argument("--json", action="store_true", help="print the silence as JSON instead of its id")
    listing = command("list", cmd_silence_list, "list pending and active silences")
    listing.add_argument("--all", action="store_true", help="include expired silences")
    listing.add_argument("--json", action="store_true", help="one JSON array")
    expire = command("expire", cmd_silence_expire, "end a silence now")
    expire.add_argument("id")
