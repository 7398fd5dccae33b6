"""`aiops replay` and `aiops scenario`: the pipeline over a JSONL file, and the demo scenario as JSONL.

`replay` runs the pure `aiops.replay` over a file (and `--actions`), no broker: incidents as JSON lines on
stdout, rejected lines on stderr (plus a note when no service catalogue is configured). `scenario` writes the built-in
scenario's events (and, with ``--services``, its catalogue). Neither talks to Kafka.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from datetime import UTC, datetime
from typing import Any

from aiops.cli.common import add_command, config_from_args, open_input, open_output


def cmd_replay(args: argparse.Namespace) -> int:
    from aiops.replay import read_actions, replay_lines

    config = config_from_args(args)
    dead = 0
    actions = []
    if args.actions:
        with open_input(args.actions) as lines:
            actions = read_actions(lines, args.actions)
    with open_input(args.file) as handle:  # a missing file is the one error line, before any note
        if not config.services:
            print("replay: no service catalogue (`services:` in --config), so incidents group by time and labels, "
                  "not along depends_on; the demo scenario's: aiops scenario --services FILE", file=sys.stderr)
        for item in replay_lines(handle, config, datetime.now(tz=UTC), source=args.file, actions=actions):
            if item.incident is not None:
                print(item.incident.model_dump_json(), flush=True)
            elif item.dead is not None:
                dead += 1
                print(f"dead-letter line {item.dead.source_offset}: {item.dead.reason}: {item.dead.detail}",
                      file=sys.stderr)
    if dead:
        print(f"{dead} line(s) rejected", file=sys.stderr)
    return 0


def cmd_scenario(args: argparse.Namespace) -> int:
    from aiops.scenario import SCENARIO_SERVICES, scenario_events

    out = sys.stdout if args.out == "-" else open_output(args.out)
    try:
        for event in scenario_events(args.start, random.Random(args.seed)):
            out.write(json.dumps(event) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    if args.services:
        with open_output(args.services) as catalogue:
            catalogue.write(json.dumps({"services": SCENARIO_SERVICES}, indent=2) + "\n")
    return 0


def add_commands(subparsers: Any) -> None:
    """Register ``aiops replay`` and ``aiops scenario`` on the main parser's subparsers object."""
    replay = add_command(subparsers, "replay", cmd_replay, "run the pipeline over a JSONL file, no broker; "
                         "incidents on stdout")
    replay.add_argument("file")
    replay.add_argument("--actions", default=None, metavar="ACTIONS.jsonl",
                        help="operator actions (as on aiops.actions), each applied before the first event later "
                             "than its requested_at")
    scenario = add_command(subparsers, "scenario", cmd_scenario, "write the demo scenario's events as JSONL")
    scenario.add_argument("--out", default="-")
    scenario.add_argument("--start", type=float, default=1_700_000_000.0, help="epoch of the first event")
    scenario.add_argument("--seed", type=int, default=7)
    scenario.add_argument("--services", default=None, help="also write the scenario's service catalogue (YAML)")
