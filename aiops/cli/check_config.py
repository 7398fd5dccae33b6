"""`aiops check-config FILE`: validate a config file and resolve every secret it references.

Exactly what `aiops run` checks before it starts (`aiops.config_secrets.check_delivery`): an invalid key or
value and every missing secret end in one `aiops: ...` line naming them; otherwise one ``FILE: OK (...)``
summary line. It reads the file and the secrets it names; it does not connect to Kafka or any receiver.
"""

from __future__ import annotations

import argparse
from typing import Any

from aiops.cli.common import add_command
from aiops.config import load_config


def cmd_check_config(args: argparse.Namespace) -> int:
    from aiops.config_secrets import check_delivery

    config = load_config(args.path)
    checked = check_delivery(config, args.path)  # exactly what `aiops run` checks before it starts
    port = config.kafka.embedded_port
    embedded = f"embedded on 127.0.0.1:{port}" if port else "embedded on a free 127.0.0.1 port"
    print(f"{args.path}: OK ({len(config.services)} services, "
          f"{checked.receivers} receivers, {checked.secrets} secret references resolved, "
          f"bootstrap={config.kafka.bootstrap or embedded})")
    return 0


def add_commands(subparsers: Any) -> None:
    """Register ``aiops check-config`` on the main parser's subparsers object."""
    check = add_command(subparsers, "check-config", cmd_check_config, "validate a config file", config=False)
    check.add_argument("path")
