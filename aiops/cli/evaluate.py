"""`aiops eval nab|loghub|petshop|alarms DIR ...`: run an evaluation from the separate `aiops_eval` package.

The service never imports `aiops_eval`: this command loads ``aiops_eval.<name>`` by name when it runs and
hands it the remaining arguments. Without the ``eval`` extra (the package, or a module only it brings, is
missing) it ends in one `UsageError` line saying how to install it. It neither parses the evaluation's own
options nor reads datasets.
"""

from __future__ import annotations

import argparse
import importlib
from typing import Any

from aiops.errors import UsageError

EVALUATIONS = ("nab", "loghub", "petshop", "alarms")
NEEDS_EVAL_EXTRA = "aiops eval needs the eval extra: pip install 'aiops[eval]'"


def cmd_eval(args: argparse.Namespace) -> int:
    """Run an evaluation from `aiops_eval`, loaded by name so the service never imports it; without the
    ``eval`` extra (the package or one of its modules missing) one `UsageError` line says how to get it."""
    try:
        extra = importlib.import_module("aiops_eval")
    except ModuleNotFoundError as error:
        if error.name != "aiops_eval":
            raise
        raise UsageError(NEEDS_EVAL_EXTRA) from None
    missing = extra.missing_extra_modules()
    if missing:
        raise UsageError(f"{NEEDS_EVAL_EXTRA} ({', '.join(missing)} missing)")
    module = importlib.import_module(f"aiops_eval.{args.name}")
    result: int = module.main(args.rest)
    return result


def add_commands(subparsers: Any) -> None:
    """Register ``aiops eval`` on the main parser's subparsers object."""
    evaluate = subparsers.add_parser("eval", help="evaluate on a labelled dataset directory")
    evaluate.add_argument("name", choices=EVALUATIONS)
    evaluate.add_argument("rest", nargs=argparse.REMAINDER)
    evaluate.set_defaults(handler=cmd_eval)
