"""The `aiops.cli` package is layered without cycles: `common` <- command groups <- `app` <- the package.

Reads the source with ast (module-level and lazy imports alike): `common` imports no other CLI module, a
command group only `common`, `app` the groups and `common`; nothing imports `app` but the package and its
`__main__`. Also: every CLI module stays small (that every module has a brief docstring,
tests/unit/test_module_docstrings.py checks for the whole tree).
"""

from __future__ import annotations

import ast
from pathlib import Path

import aiops.cli

PACKAGE = Path(aiops.cli.__file__).parent
ENTRY = {"__init__", "__main__"}


def _cli_imports(path: Path) -> set[str]:
    """The `aiops.cli` modules `path` imports (by short name), wherever the import statement sits."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "aiops.cli":
                found.update(alias.name for alias in node.names)
            elif node.module.startswith("aiops.cli."):
                found.add(node.module.removeprefix("aiops.cli.").split(".")[0])
        elif isinstance(node, ast.Import):
            found.update(a.name.removeprefix("aiops.cli.").split(".")[0] for a in node.names
                         if a.name.startswith("aiops.cli."))
    return found


def test_cli_modules_are_layered() -> None:
    modules = {path.stem: _cli_imports(path) for path in PACKAGE.glob("*.py")}
    groups = set(modules) - ENTRY - {"app", "common"}
    assert {"service", "topics", "replay", "check_config", "evaluate", "silences", "delivery", "relations"} <= groups
    assert modules["common"] == set()
    for group in groups:
        assert modules[group] <= {"common"}, f"{group} imports {modules[group]}"
    assert modules["app"] == groups | {"common"}
    for entry in ENTRY:
        assert modules[entry] <= {"app", "main"}, f"{entry} imports {modules[entry]}"


def test_cli_modules_are_small() -> None:
    for path in PACKAGE.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert len(text.splitlines()) <= 400, f"{path.name} is over 400 lines"
