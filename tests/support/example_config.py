"""Test support: the shipped example config and the secret variables its header tells a user to set."""

from __future__ import annotations

import re
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "aiops.example.yaml"
_ASSIGNMENT = re.compile(r"\b([A-Z][A-Z0-9_]*)=(\S+)")


def example_header_variables() -> dict[str, str]:
    """NAME=value pairs the example's header comment lists (the AIOPS_* override examples excluded)."""
    header: list[str] = []
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    pairs = dict(_ASSIGNMENT.findall("\n".join(header)))
    return {name: value for name, value in pairs.items() if not name.startswith("AIOPS_")}
