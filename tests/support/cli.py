"""Test support: run one command group's argparse registration (`add_commands`) on an argv, in-process."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any


def run_commands(add_commands: Callable[[Any], None], argv: list[str]) -> int:
    """Parse `argv` with only the commands `add_commands` registers and run the chosen handler."""
    parser = argparse.ArgumentParser(prog="aiops")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code
