"""`aiops ingest test`: the events an HTTP ingest payload would become, without a broker or a server.

``aiops ingest test --integration NAME FILE.json [--config FILE] [--path /v1/logs] [--now RFC3339]`` loads
the config, builds integration NAME's translator (`aiops.ingest.registry.translator_for`), reads FILE (JSON,
or gzip-compressed JSON) with the listener's size and depth bounds, translates it as if it had arrived at
``--now`` (default: the current time) on ``--path`` (default: the integration kind's first route; for OTLP,
``/v1/metrics`` when the body has ``resourceMetrics``, else ``/v1/logs``) and prints one JSON line per event
(the contract's JSON), then ``{"reply": ...}`` when the protocol's answer carries more than its status (an
OTLP partial success, a PagerDuty ``dedup_key``). A payload the HTTP front would answer 400 or 413 is one
``aiops: <reason>: <detail>`` line and exit status 2. Publishes nothing.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from aiops.cli.common import add_command, config_from_args, open_input
from aiops.errors import PayloadRejectedError, UsageError

GZIP_MAGIC = b"\x1f\x8b"


def parse_now(text: str) -> datetime:
    """``--now``: RFC 3339 with an offset (``2024-06-01T12:00:00Z``) as an aware UTC datetime."""
    try:
        parsed = datetime.fromisoformat(text.strip().upper())
    except ValueError:
        raise UsageError(f"--now {text!r} is not RFC 3339 (e.g. 2024-06-01T12:00:00Z)") from None
    if parsed.tzinfo is None:
        raise UsageError(f"--now {text!r} needs an offset (Z or +HH:MM)")
    return parsed.astimezone(UTC)


def route_path(kind: str, routes: tuple[str, ...], requested: str | None, body: Any) -> str:
    """The route the payload is tested on: ``--path`` (one of the kind's `routes`), else the kind's default."""
    if requested is not None:
        if requested not in routes:
            raise UsageError(f"--path {requested!r} is not a route of {kind} integrations "
                             f"({', '.join(repr(route) for route in routes)})")
        return requested
    if kind == "otlp":
        return "/v1/metrics" if isinstance(body, dict) and "resourceMetrics" in body else "/v1/logs"
    return routes[0]


def cmd_ingest_test(args: argparse.Namespace) -> int:
    from aiops.clock import utc_now
    from aiops.ingest.base import Received
    from aiops.ingest.payload import decode_body
    from aiops.ingest.registry import ROUTES, translator_for

    http = config_from_args(args).ingest.http
    integration = http.integrations.get(args.integration)
    if integration is None:
        configured = ", ".join(sorted(http.integrations)) or "none"
        raise UsageError(f"no integration {args.integration!r} in the config (configured: {configured})")
    translator = translator_for(args.integration, integration)
    with open_input(args.file) as stream:
        raw = stream.read()
    encoding = "gzip" if raw.startswith(GZIP_MAGIC) else ""
    body = decode_body(raw, encoding, http.max_body_bytes, http.max_json_depth)
    now = parse_now(args.now) if args.now else utc_now()
    path = route_path(integration.kind, ROUTES[integration.kind], args.path, body)
    translation = translator.translate(body, Received(args.integration, now.timestamp(), path))
    if len(translation.events) > http.max_events_per_request:
        raise PayloadRejectedError("oversized", f"{len(translation.events)} events, more than "
                                   f"ingest.http.max_events_per_request ({http.max_events_per_request})")
    for event in translation.events:
        print(json.dumps(event.model_dump(mode="json")), flush=True)
    if translation.reply:
        print(json.dumps({"reply": translation.reply}), flush=True)
    return 0


def add_commands(subparsers: Any) -> None:
    """Register ``aiops ingest test`` on the main parser's subparsers object."""
    group = subparsers.add_parser("ingest", help="HTTP ingest tools (test a payload against an integration)",
                                  description="HTTP ingest tools.")
    commands = group.add_subparsers(dest="ingest_command", required=True)
    test = add_command(commands, "test", cmd_ingest_test,
                       "print the events a payload would become (one JSON line each), publishing nothing")
    test.add_argument("--integration", required=True, metavar="NAME", help="a configured ingest.http integration")
    test.add_argument("file", metavar="FILE.json", help="the request body (JSON; gzip-compressed accepted)")
    test.add_argument("--path", default=None,
                      help="the route it arrives on, e.g. /v1/logs or /v2/change/enqueue (default: the kind's first; "
                      "OTLP: from the body)")
    test.add_argument("--now", default=None, help="receive time, RFC 3339 (default: now)")
