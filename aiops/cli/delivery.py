"""Delivery commands: `aiops routes test`, `aiops deadletter replay` and `aiops deliver`.

`routes test` is pure: it loads the config and prints which receivers an incident (a JSON file, or built
from --label/--priority/--service/--team/--status) would reach, and why. `deadletter replay` re-sends
delivery dead letters and `deliver` runs the delivery workers only (no detection or correlation); both talk
to Kafka through `aiops.runtime`, imported when they run, so `routes test` needs no broker. Sending,
retrying and routing themselves live in `aiops.sinks` and `aiops.runtime.delivery`, not here.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from datetime import datetime
from pathlib import Path
from typing import Any

from aiops.cli.common import config_from_args
from aiops.clock import utc_now
from aiops.errors import ConfigError
from aiops.incidents import Incident


def _incident(args: argparse.Namespace) -> Incident:
    if args.incident:
        try:
            return Incident.model_validate_json(Path(args.incident).read_bytes())
        except (OSError, ValueError) as error:
            raise ConfigError(f"cannot read incident {args.incident}: {error}") from None
    labels = dict(item.split("=", 1) for item in args.label)
    now = utc_now().isoformat()
    services = args.service or ["unknown"]
    member = {"fingerprint": "cli", "origin": "alert", "name": "cli", "service": services[0], "labels": labels,
              "status": "firing", "severity": "critical", "first_seen": now, "last_seen": now}
    return Incident.model_validate({
        "id": "inc-cli", "version": 1, "idempotency_key": "inc-cli:1", "status": args.status,
        "priority": args.priority, "title": "routes test", "scope": "cli", "services": services, "hosts": [],
        "first_seen": now, "last_seen": now, "members": [member], "context": {"owner": args.team},
    })


def cmd_routes_test(args: argparse.Namespace) -> int:
    from aiops.sinks.routing import explain

    config = config_from_args(args)
    at = datetime.fromisoformat(args.at) if args.at else utc_now()
    if at.tzinfo is None:
        raise ConfigError("--at needs a UTC offset, e.g. 2024-05-01T09:30:00+02:00")
    incident = _incident(args)
    print(f"incident {incident.idempotency_key} {incident.status} {incident.priority} "
          f"services={','.join(incident.services)} at {at.isoformat()}")
    for line in explain(config.delivery, incident, at):
        print(f"  {line}")
    return 0


def cmd_deadletter_replay(args: argparse.Namespace) -> int:
    from aiops.runtime.notifications import replay_dead_letters

    config = config_from_args(args)
    if not config.kafka.bootstrap:
        raise ConfigError("no Kafka to talk to: pass --bootstrap HOST:PORT or set kafka.bootstrap")
    summary = asyncio.run(replay_dead_letters(config, config.kafka.bootstrap, receivers=args.receiver,
                                              dry_run=args.dry_run, idle_seconds=args.idle_seconds))
    print(f"replayed {summary.replayed}: delivered {summary.delivered}, failed {summary.failed} "
          f"(dead-lettered again), skipped {summary.skipped}")
    return 1 if summary.failed else 0


def cmd_deliver(args: argparse.Namespace) -> int:
    from prometheus_client import CollectorRegistry

    from aiops.config_secrets import check_delivery
    from aiops.metrics import AiopsMetrics
    from aiops.runtime.delivery import delivery_workers

    config = config_from_args(args)
    check_delivery(config, args.config)  # every missing secret at once, as `aiops check-config` reports them
    if not config.kafka.bootstrap:
        raise ConfigError("no Kafka to talk to: pass --bootstrap HOST:PORT or set kafka.bootstrap")
    bootstrap = config.kafka.bootstrap

    async def run() -> None:
        workers = delivery_workers(config, bootstrap, AiopsMetrics(CollectorRegistry()),
                                   only=args.receiver or None)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        for worker in workers:
            await worker.start()
        print(f"delivering to {', '.join(w.name for w in workers) or 'nothing'}", flush=True)
        tasks = [asyncio.create_task(worker.run()) for worker in workers]
        await stop.wait()
        for task in tasks:
            task.cancel()
        for worker in workers:
            await worker.stop()

    asyncio.run(run())
    return 0


def add_commands(subparsers: Any) -> None:
    """Register `routes`, `deadletter` and `deliver` on the main parser's subparsers."""
    routes = subparsers.add_parser("routes", help="routing tree tools").add_subparsers(dest="routes_command",
                                                                                        required=True)
    test = routes.add_parser("test", help="which receivers an incident would reach, and why")
    test.set_defaults(handler=cmd_routes_test)
    test.add_argument("incident", nargs="?", help="incident JSON file (else built from the options)")
    test.add_argument("--config", help="YAML config file")
    test.add_argument("--label", action="append", default=[], metavar="K=V")
    test.add_argument("--priority", default="P3", choices=["P1", "P2", "P3", "P4", "P5"])
    test.add_argument("--service", action="append", default=[])
    test.add_argument("--team", default=None, help="owner team (service catalogue owner)")
    test.add_argument("--status", default="open", choices=["open", "updated", "resolved"])
    test.add_argument("--at", default=None, help="evaluate time intervals at this ISO time (default: now)")
    dead = subparsers.add_parser("deadletter", help="dead-letter tools").add_subparsers(dest="dl_command",
                                                                                        required=True)
    replay = dead.add_parser("replay", help="re-send delivery dead letters to their receivers")
    replay.set_defaults(handler=cmd_deadletter_replay)
    replay.add_argument("--config")
    replay.add_argument("--bootstrap", metavar="HOST:PORT")
    replay.add_argument("--receiver", action="append", default=[], help="only this receiver (repeatable)")
    replay.add_argument("--dry-run", action="store_true", help="list, do not send or commit")
    replay.add_argument("--idle-seconds", type=float, default=3.0, help="stop after the topic is idle this long")
    deliver = subparsers.add_parser("deliver", help="run delivery workers only (no detection/correlation)")
    deliver.set_defaults(handler=cmd_deliver)
    deliver.add_argument("--config")
    deliver.add_argument("--bootstrap", metavar="HOST:PORT")
    deliver.add_argument("--receiver", action="append", default=[], help="only this receiver (repeatable)")
