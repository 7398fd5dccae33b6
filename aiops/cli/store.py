"""`aiops store rebuild`: recreate the incident store from the incidents, decisions and notifications topics.

Finds Kafka like every client command (``--bootstrap``, ``kafka.bootstrap``, else a local embedded broker's
run-file) and the store from ``--url``, else `store.url` (secret references resolved), else
``aiops-store.db`` in the working directory. Empties the projected tables (the audit rows stay), projects
the topics from the beginning (`aiops.runtime.store_rebuild`) and prints what it read and what the store
holds. It refuses while the store projector's consumer group has members (`aiops run` would write into the
tables being emptied) unless ``--force``. Database and Kafka modules are imported when the command runs.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from aiops.cli.common import add_command, config_from_args, quiet_kafka_client_logs, require_bootstrap


def cmd_store_rebuild(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from aiops.clock import utc_now
    from aiops.errors import StoreUnavailableError
    from aiops.runtime.store_projector import build_store, store_location
    from aiops.runtime.store_rebuild import RebuildSummary, rebuild_store
    from aiops.sinks.security import resolve_secret
    from aiops.store.sql import parse_url, shown_url

    config = config_from_args(args)
    url = resolve_secret(args.url, "--url") if args.url else store_location(config, embedded_broker=False)[0]
    parse_url(url)  # a bad URL fails before any connection is tried
    bootstrap = require_bootstrap(config)
    quiet_kafka_client_logs()
    store = build_store(config, url)

    async def rebuild() -> RebuildSummary:
        await store.open()
        try:
            return await rebuild_store(config, bootstrap, store, utc_now(),
                                       request_timeout_ms=config.kafka.request_timeout_ms, force=args.force)
        finally:
            await store.close()

    try:
        summary = asyncio.run(rebuild())
    except SQLAlchemyError as error:
        detail = (str(getattr(error, "orig", None) or error).strip().splitlines() or [type(error).__name__])[0]
        raise StoreUnavailableError(f"incident store at {shown_url(url)}: {detail}") from None
    print(f"rebuilt the incident store at {shown_url(url)} from Kafka at {bootstrap}")
    read = summary.read
    skipped = f" ({summary.rejected} undecodable, skipped)" if summary.rejected else ""
    skipped += f" ({summary.refused} refused by the database, skipped)" if summary.refused else ""
    print(f"read {read.get('incidents', 0)} incident versions, {read.get('decisions', 0)} decisions, "
          f"{read.get('notifications', 0)} notifications{skipped}")
    if summary.missing_topics:
        print(f"topics not found (nothing read from them): {', '.join(summary.missing_topics)}")
    stats, gone = summary.stats, summary.retention
    print(f"store holds {stats.incidents} incidents ({stats.active} active), {stats.versions} versions, "
          f"{stats.decisions} decisions, {stats.notifications} notifications; retention deleted {gone.incidents} "
          f"resolved incidents older than {config.store.retention_days:g} days")
    return 0


def add_commands(subparsers: Any) -> None:
    """Register ``aiops store rebuild`` on the main parser's subparsers object."""
    group = subparsers.add_parser("store", help="the incident store (read model)",
                                  description="Manage the incident store (SQLite or PostgreSQL).")
    commands = group.add_subparsers(dest="store_command", required=True)
    rebuild = add_command(commands, "rebuild", cmd_store_rebuild, "empty the incident store (the audit stays), then "
                          "project the incidents, decisions and notifications topics from the beginning; stop "
                          "aiops run first (refused while the store projector's group has members)", kafka=True)
    rebuild.add_argument("--force", action="store_true", help="rebuild even while the store projector's consumer "
                         "group has members (a running projector writes into the store meanwhile)")
    rebuild.add_argument("--url", default=None, help="store URL instead of store.url (or ${ENV:NAME}, file:/path; e.g. "
                         "sqlite+aiosqlite:///aiops-store.db, postgresql+psycopg://user:pass@host/db)")
