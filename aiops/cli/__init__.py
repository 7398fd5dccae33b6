"""The `aiops` command line (entry point `aiops.cli:main`): one module per command group, see `app`."""

from aiops.cli.app import main

__all__ = ["main"]
