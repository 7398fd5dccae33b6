"""`aiops incidents list|show` and the actions (ack, unack, resolve, reopen, assign, note, snooze, merge, split,
unlink): incidents over the operator API, for people and scripts.

Every command talks HTTP to a running service (`aiops.runtime.api_client`): ``--url`` (default: the http
listener of ``--config``, else a local ``aiops run``'s run-file, else http://127.0.0.1:8080), the token from
``--token-file`` or the ``OPS_API_TOKEN`` environment variable (no token: fine on a tokenless loopback
listener). ``list`` takes the API's filters and prints a table (``--json``: the page as the API answers it;
``--all`` follows the cursors); ``show ID`` the incident with its members, root cause and timeline
(``--version N``: that version); ``ack``, ``unack``, ``resolve``, ``reopen``, ``assign ID --owner/--team``,
``note ID TEXT``, ``snooze ID --until TIME|--for DURATION``, ``merge ID --into OTHER``, ``split ID --member FP``
and ``unlink ID --member FP`` post an action and print its id (the effect shows in the incident's next
version). Errors are one ``aiops: ...`` line and exit code 2. The HTTP client is imported in the handlers.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from aiops.cli.common import config_from_args, parse_duration, parse_time
from aiops.errors import UsageError

COLUMNS = ("ID", "STATUS", "PRI", "VER", "LAST SEEN", "SERVICES", "TITLE")


def _client(args: argparse.Namespace) -> Any:
    from aiops.runtime.api_client import ApiClient, api_url, read_token  # keeps HTTP out of start-up

    config = config_from_args(args)
    return ApiClient(api_url(args.url, config, bool(args.config)), read_token(args.token_file))


def _when(text: str | None) -> str:
    return (text or "-").replace("+00:00", "Z")[:19].replace("T", " ")


def _row(item: dict[str, Any]) -> tuple[str, ...]:
    status = item["status"] + ("*" if item.get("merged_into") else "")
    return (item["id"], status, item["priority"], str(item["version"]), _when(item["last_seen"]),
            ",".join(item["services"]), item["title"])


def table(rows: list[tuple[str, ...]]) -> str:
    """Rows under `COLUMNS`, each column as wide as its widest cell (the last one unpadded)."""
    widths = [max(len(row[i]) for row in [COLUMNS, *rows]) for i in range(len(COLUMNS) - 1)]
    lines = ["  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]])
             for row in [COLUMNS, *rows]]
    return "\n".join(line.rstrip() for line in lines)


def _filters(args: argparse.Namespace) -> list[tuple[str, str]]:
    params = [("status", value) for value in args.status or ()]
    params += [("priority", value) for value in args.priority or ()]
    for name in ("service", "team", "owner", "since", "until", "q", "cursor"):
        if getattr(args, name):
            params.append((name, getattr(args, name)))
    return [*params, ("limit", str(args.limit))]


def _pages(client: Any, params: list[tuple[str, str]], follow: bool) -> Iterator[dict[str, Any]]:
    while True:
        page: dict[str, Any] = client.get("/api/v1/incidents", params)
        yield page
        if not follow or not page.get("next_cursor"):
            return
        params = [(k, v) for k, v in params if k != "cursor"] + [("cursor", page["next_cursor"])]


def cmd_list(args: argparse.Namespace) -> int:
    client = _client(args)
    items: list[dict[str, Any]] = []
    next_cursor = None
    for page in _pages(client, _filters(args), args.all):
        items += page["items"]
        next_cursor = page.get("next_cursor")
    if args.json:
        print(json.dumps({"items": items, "next_cursor": next_cursor}), flush=True)
        return 0
    print(table([_row(item) for item in items]) if items else "no incidents match", flush=True)
    if next_cursor:
        print(f"(more: --cursor {next_cursor}, or --all)", flush=True)
    return 0


def describe(detail: dict[str, Any]) -> str:
    """The human view of `GET /api/v1/incidents/{id}` (or of one version, without timeline)."""
    incident = detail.get("incident", detail)
    lines = [f"{incident['id']} v{incident['version']} {incident['status']} {incident['priority']}  "
             f"{incident['title']}",
             f"  services: {', '.join(incident['services'])}   hosts: {', '.join(incident['hosts']) or '-'}",
             f"  first seen {_when(incident['first_seen'])}, last seen {_when(incident['last_seen'])}"
             + (f", resolved {_when(incident['resolved_at'])}" if incident.get("resolved_at") else "")]
    context = incident.get("context", {})
    for label, value in (("acknowledged by", incident.get("acknowledged_by")), ("owner", context.get("owner")),
                         ("team", context.get("team")), ("merged into", incident.get("merged_into")),
                         ("runbook", context.get("runbook"))):
        if value:
            lines.append(f"  {label}: {value}")
    for cause in incident.get("root_cause", [])[:3]:
        lines.append(f"  root cause: {cause['service']}{'@' + cause['host'] if cause.get('host') else ''} "
                     f"(score {cause['score']:.2f}) {cause.get('reason', '')}".rstrip())
    if incident.get("explanation", {}).get("summary"):
        lines.append(f"  why: {incident['explanation']['summary']}")
    lines.append(f"  members ({len(incident['members']) + incident.get('members_truncated', 0)}):")
    lines += [f"    {m['status']:8} {m['name']}  {m['service']}{'@' + m['host'] if m.get('host') else ''}  "
              f"{m['fingerprint']}" for m in incident["members"]]
    if "timeline" in detail:
        lines.append("  timeline:")
        for entry in detail["timeline"]:
            change = entry["change"]
            what = f"{change['action']} by {change['actor']}" if change.get("action") else change.get("reason", "")
            lines.append(f"    v{entry['version']} {_when(entry['last_seen'])} {entry['status']} {entry['priority']} "
                         f"{what}".rstrip())
        lines.append(f"  decisions: {len(detail['decisions'])}, notifications: {len(detail['notifications'])}")
    return "\n".join(lines)


def cmd_show(args: argparse.Namespace) -> int:
    from urllib.parse import quote

    client = _client(args)
    path = f"/api/v1/incidents/{quote(args.id, safe='')}"
    detail = client.get(path if args.version is None else f"{path}/versions/{args.version}")
    print(json.dumps(detail) if args.json else describe(detail), flush=True)
    return 0


def _act(args: argparse.Namespace, body: dict[str, Any]) -> int:
    from urllib.parse import quote

    if getattr(args, "comment", None):
        body["comment"] = args.comment
    answer = _client(args).post(f"/api/v1/incidents/{quote(args.id, safe='')}/actions", body)
    if args.json:
        print(json.dumps(answer), flush=True)
    else:
        print(f"{body['kind']} of {args.id} accepted: action {answer['id']} (the incident's next version shows "
              "it)", flush=True)
    return 0


def cmd_ack(args: argparse.Namespace) -> int:
    return _act(args, {"kind": "acknowledge"})


def cmd_resolve(args: argparse.Namespace) -> int:
    return _act(args, {"kind": "resolve"})


def cmd_merge(args: argparse.Namespace) -> int:
    return _act(args, {"kind": "merge", "into": args.into})


def cmd_split(args: argparse.Namespace) -> int:
    return _act(args, {"kind": "split", "member": args.member})


def cmd_unack(args: argparse.Namespace) -> int:
    return _act(args, {"kind": "unacknowledge"})


def cmd_reopen(args: argparse.Namespace) -> int:
    return _act(args, {"kind": "reopen"})


def cmd_assign(args: argparse.Namespace) -> int:
    if not args.owner and not args.team:
        raise UsageError("assign needs --owner or --team (or both)")
    body: dict[str, Any] = {"kind": "assign"}
    body.update({name: getattr(args, name) for name in ("owner", "team") if getattr(args, name)})
    return _act(args, body)


def cmd_note(args: argparse.Namespace) -> int:
    if not args.text.strip():
        raise UsageError("note needs a text")
    return _act(args, {"kind": "note", "comment": args.text})


def snooze_until(until: str | None, duration: str | None, now: datetime) -> datetime:
    """The end of a snooze from ``--until`` (RFC 3339) or ``--for`` (a duration from `now`); it must be
    after `now` (`ConfigError`/`UsageError` otherwise)."""
    end = parse_time(until) if until else now + parse_duration(duration or "")
    if end <= now:
        raise UsageError(f"snooze until {end.isoformat()} is not in the future")
    return end


def cmd_snooze(args: argparse.Namespace) -> int:
    until = snooze_until(args.until, args.duration, datetime.now(UTC))
    return _act(args, {"kind": "snooze", "until": until.isoformat().replace("+00:00", "Z")})


def cmd_unlink(args: argparse.Namespace) -> int:
    return _act(args, {"kind": "unlink", "member": args.member})


def add_commands(subparsers: Any) -> None:
    """Register ``aiops incidents list|show`` and the action commands."""
    group = subparsers.add_parser("incidents", help="list, show and act on incidents (over the operator API)",
                                  description="Incidents over the operator API of a running service.")
    commands = group.add_subparsers(dest="incidents_command", required=True)

    def command(name: str, handler: Any, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = commands.add_parser(name, help=help_text, description=help_text)
        parser.set_defaults(handler=handler)
        parser.add_argument("--config", help="YAML config file (its http listener is the default --url)")
        parser.add_argument("--url", help="the API's base URL (default: --config's http listener, else a "
                            "local `aiops run`, else http://127.0.0.1:8080)")
        parser.add_argument("--token-file", help="file holding the bearer token (default: $OPS_API_TOKEN)")
        parser.add_argument("--json", action="store_true", help="print the API's JSON answer")
        return parser

    listing = command("list", cmd_list, "incidents, newest first")
    listing.add_argument("--status", action="append", choices=("open", "updated", "resolved"))
    listing.add_argument("--priority", action="append", choices=("P1", "P2", "P3", "P4", "P5"))
    for name in ("service", "team", "owner"):
        listing.add_argument(f"--{name}")
    listing.add_argument("--since", help="RFC 3339: active at or after")
    listing.add_argument("--until", help="RFC 3339: first seen at or before")
    listing.add_argument("-q", dest="q", metavar="TEXT", help="free text (id, title, services, hosts, members)")
    listing.add_argument("--limit", type=int, default=50, help="per page, 1..500 (default 50)")
    listing.add_argument("--cursor", help="continue after a previous page")
    listing.add_argument("--all", action="store_true", help="follow the cursors to the last page")
    show = command("show", cmd_show, "one incident: members, root cause, timeline")
    show.add_argument("id")
    show.add_argument("--version", type=int, help="that version in full")
    for name, handler, help_text in (("ack", cmd_ack, "acknowledge an incident"),
                                     ("unack", cmd_unack, "take an acknowledgement back"),
                                     ("resolve", cmd_resolve, "resolve an incident by hand"),
                                     ("reopen", cmd_reopen, "reopen a resolved incident"),
                                     ("assign", cmd_assign, "assign an incident to an owner and/or a team"),
                                     ("snooze", cmd_snooze, "hold an incident's notifications until a time"),
                                     ("merge", cmd_merge, "merge an incident into another"),
                                     ("split", cmd_split, "split a member out into a new incident"),
                                     ("unlink", cmd_unlink, "take a member out as not related")):
        parser = command(name, handler, help_text)
        parser.add_argument("id")
        parser.add_argument("--comment", help="why (recorded with the action)")
        _add_arguments(name, parser)
    note = command("note", cmd_note, "add a note to an incident's timeline")
    note.add_argument("id")
    note.add_argument("text", help="the note")


def _add_arguments(name: str, parser: argparse.ArgumentParser) -> None:
    """The per-kind arguments of an action command."""
    if name == "assign":
        parser.add_argument("--owner", help="the new owner")
        parser.add_argument("--team", help="the new team")
    elif name == "snooze":
        end = parser.add_mutually_exclusive_group(required=True)
        end.add_argument("--until", help="RFC 3339 with an offset, e.g. 2026-03-01T08:00:00Z")
        end.add_argument("--for", dest="duration", metavar="DURATION", help="from now: 90s, 30m, 2h, 1h30m, 1d")
    elif name == "merge":
        parser.add_argument("--into", required=True, help="the incident that keeps the members")
    elif name in ("split", "unlink"):
        parser.add_argument("--member", required=True, help="the member's fingerprint")
