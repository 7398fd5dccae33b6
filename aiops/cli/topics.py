"""`aiops produce` and `aiops tail`: send a JSONL file of events to the events topic, follow incidents.

Both find Kafka like every client command (``--bootstrap``, ``kafka.bootstrap``, else a local embedded
broker's run-file; `aiops.cli.common.require_bootstrap`) and silence aiokafka's own retry logging, reporting
a failure once. `tail` prints each incident version as a line saying what changed (or JSON with ``--json``).
Kafka access lives in `aiops.runtime.kafka_io`, imported when a command runs.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from aiops.cli.common import add_command, config_from_args, open_input, quiet_kafka_client_logs, require_bootstrap


def cmd_produce(args: argparse.Namespace) -> int:
    from aiops.runtime.kafka_io import produce_lines

    config = config_from_args(args)
    with open_input(args.file) as handle:  # a missing file fails before any connection is tried
        bootstrap = require_bootstrap(config)
        quiet_kafka_client_logs()
        sent = asyncio.run(produce_lines(bootstrap, args.topic or config.topics.events, handle,
                                         request_timeout_ms=config.kafka.request_timeout_ms))
    print(f"produced {sent} event(s) to {args.topic or config.topics.events} at {bootstrap}")
    return 0


def cmd_tail(args: argparse.Namespace) -> int:
    from aiops.runtime.incident_text import IncidentNarrator
    from aiops.runtime.kafka_io import follow_incidents

    config = config_from_args(args)
    bootstrap = require_bootstrap(config)
    quiet_kafka_client_logs()
    narrator = IncidentNarrator()  # says what changed since the previous version of each incident

    async def follow() -> None:
        async for incident in follow_incidents(bootstrap, config.topics.incidents, not args.new, args.idle_exit,
                                               request_timeout_ms=config.kafka.request_timeout_ms):
            print(incident.model_dump_json() if args.json else narrator.line(incident), flush=True)

    asyncio.run(follow())
    return 0


def add_commands(subparsers: Any) -> None:
    """Register ``aiops produce`` and ``aiops tail`` on the main parser's subparsers object."""
    produce = add_command(subparsers, "produce", cmd_produce, "send a JSONL file of events to the input topic "
                          "(finds a local embedded broker without flags)", kafka=True)
    produce.add_argument("file")
    produce.add_argument("--topic", default=None)
    tail = add_command(subparsers, "tail", cmd_tail, "follow the incidents topic (finds a local embedded broker "
                       "without flags)", kafka=True)
    tail.add_argument("--json", action="store_true", help="one JSON incident per line")
    tail.add_argument("--new", action="store_true", help="only incidents produced from now on")
    tail.add_argument("--idle-exit", type=float, default=None, help="exit after this many idle seconds")
