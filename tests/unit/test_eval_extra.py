"""Evaluation stays out of the service: `pip install .` pulls no evaluation-only dependency, the `aiops`
package never imports `aiops_eval` or what only the `eval` extra brings, and `aiops eval` without the extra
ends in one line (exit 2). Reads the source tree and pyproject.toml; installs nothing."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

import aiops_eval
from aiops.cli import main

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
NEEDS_EXTRA = "aiops: aiops eval needs the eval extra: pip install 'aiops[eval]'"


def _name(requirement: str) -> str:
    """'drain3>=0.9.11,<0.10' -> 'drain3' (PEP 503 normalised)."""
    return re.sub(r"[-_.]+", "-", re.split(r"[\s<>=!~;\[(]", requirement, maxsplit=1)[0]).lower()


def _imported_roots(package: str) -> dict[str, set[str]]:
    """Top-level module of every absolute import in `package`'s source -> the files importing it."""
    roots: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                roots.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return roots


BASE = {_name(item) for item in PROJECT["dependencies"]}
EVAL = {_name(item) for item in PROJECT["optional-dependencies"]["eval"]}


def test_base_dependencies_exclude_the_eval_extra() -> None:
    assert EVAL, "the eval extra carries what only evaluation needs"
    assert not BASE & EVAL
    assert "drain3" in EVAL
    assert "msgspec" not in BASE  # nothing imports it
    assert "aiops[eval]" in PROJECT["optional-dependencies"]["dev"]


def test_the_extra_modules_aiops_eval_checks_are_the_eval_extra() -> None:
    assert {_name(module) for module in aiops_eval.EXTRA_MODULES} == EVAL


def test_the_service_never_imports_evaluation_code() -> None:
    roots = _imported_roots("aiops")
    assert roots, "the walk found the service's imports"
    for forbidden in ("aiops_eval", *aiops_eval.EXTRA_MODULES):
        assert forbidden not in roots, f"{forbidden} imported by {sorted(roots.get(forbidden, ()))}"


def test_evaluation_needs_only_the_service_dependencies_and_the_eval_extra() -> None:
    distributions = metadata.packages_distributions()
    for root, files in _imported_roots("aiops_eval").items():
        if root in sys.stdlib_module_names or root in ("aiops", "aiops_eval"):
            continue
        names = {_name(dist) for dist in distributions.get(root, [])}
        assert names & (BASE | EVAL), f"{root} (imported by {sorted(files)}) is neither a dependency nor in eval"


def test_eval_without_the_extra_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(aiops_eval, "EXTRA_MODULES", ("drain3", "aiops_no_such_module"))
    assert main(["eval", "nab", "/nonexistent"]) == 2
    assert capsys.readouterr().err.splitlines() == [f"{NEEDS_EXTRA} (aiops_no_such_module missing)"]


def test_eval_without_the_package_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "aiops_eval", None)  # as in an image built from aiops/ alone
    assert main(["eval", "loghub", "/nonexistent"]) == 2
    assert capsys.readouterr().err.splitlines() == [NEEDS_EXTRA]
