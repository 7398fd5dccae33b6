"""Every module of `aiops` and `aiops_eval` opens with a docstring of at most 15 lines.

A module docstring says what the module does and what it does not, plus the why a reader needs; history
belongs in CHANGELOG.md and long design explanations in docs/ARCHITECTURE.md or the docstring of the class
or function that implements them. Reads the source tree with ast; imports nothing of it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("aiops", "aiops_eval")
MAX_LINES = 15
MODULES = sorted(path.relative_to(ROOT) for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def test_both_packages_are_found() -> None:
    assert {path.parts[0] for path in MODULES} == set(PACKAGES)
    assert Path("aiops/cli/app.py") in MODULES


@pytest.mark.parametrize("module", MODULES, ids=str)
def test_module_docstring_is_present_and_brief(module: Path) -> None:
    source = (ROOT / module).read_text(encoding="utf-8")
    docstring = ast.get_docstring(ast.parse(source, str(module)))
    assert docstring, f"{module} has no module docstring"
    lines = len(docstring.splitlines())
    assert lines <= MAX_LINES, f"{module}'s docstring has {lines} lines (at most {MAX_LINES})"
