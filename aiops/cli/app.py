"""The `aiops` command line: the parser, built from one module per command group, and `main`.

Groups, in ``aiops --help`` order: `service` (run, demo), `topics` (produce, tail), `replay` (replay,
scenario), `check_config`, `evaluate` (eval), `silences` (silence), `delivery` (routes, deadletter, deliver),
`relations`, `ingest` (ingest test), `store` (store rebuild), `incidents` (list, show, ack, resolve, merge,
split over the operator API). Each registers its commands with `add_commands(subparsers)`; `main` parses
and runs the handler through `aiops.cli.common.run_handler` (exit codes, one-line errors). Kafka, HTTP and
database modules are imported only inside the handlers, so ``--help``, `check-config`, `replay` and `eval`
start fast and need no broker.
"""

from __future__ import annotations

import argparse

from aiops.cli import (
    check_config,
    delivery,
    evaluate,
    incidents,
    ingest,
    relations,
    replay,
    service,
    silences,
    store,
    topics,
)
from aiops.cli.common import package_version, run_handler

GROUPS = (service, topics, replay, check_config, evaluate, silences, delivery, relations, ingest, store, incidents)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aiops", description="AIOps event correlation service")
    parser.add_argument("--version", action="version", version=f"aiops {package_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse `argv` (default: the process arguments), run the command; its exit code."""
    return run_handler(_parser().parse_args(argv))
