"""The `aiops.detectors` package is layered by room, without cycles, as its docstring and ARCHITECTURE state.

Reads the source with ast (module-level and lazy imports alike). Inside the package: `base` and `config`
import no other detector module; `metric/` imports only `base` and itself; `metric/bank/` adds `metric/`;
`episodes/`, `multivariate/` and `logs/` import only `base` and themselves (the tracker works with any
`SeriesDetector`); nothing imports `stage`, which composes them. Outside it, detectors import only the
core vocabulary (events, signals, log mining, config base), never correlation, the runtime, sinks or the
top-level config. Also: every module stays small and says what it does in a docstring.
"""

from __future__ import annotations

import ast
from pathlib import Path

import aiops.detectors

PACKAGE = Path(aiops.detectors.__file__).parent
PREFIX = "aiops.detectors."
ALLOWED = {  # room -> rooms it may import (besides itself)
    "base": set(),
    "config": set(),
    "metric": {"base"},
    "metric.bank": {"base", "metric"},
    "episodes": {"base"},
    "multivariate": {"base"},
    "logs": {"base"},
    "stage": {"base", "config", "metric", "metric.bank", "episodes", "multivariate", "logs"},
}
OUTSIDE = {"aiops.events", "aiops.signals", "aiops.logmining", "aiops.config_base"}


def _room(module: str) -> str:
    """The room of a detector module: 'aiops.detectors.metric.bank.members' -> 'metric.bank', '...stage' -> 'stage'."""
    parts = module.removeprefix(PREFIX).split(".")
    if parts[:2] == ["metric", "bank"]:
        return "metric.bank"
    return parts[0]


def _imports(path: Path) -> set[str]:
    """Every absolute module `path` imports from the `aiops` package, wherever the import statement sits."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] if node.module != "aiops.detectors" else [f"{PREFIX}{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found.update(name for name in names if name == "aiops" or name.startswith("aiops."))
    return found


def _modules() -> dict[str, Path]:
    return {
        (PREFIX + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__"): path
        for path in PACKAGE.rglob("*.py")
    }


def test_detector_rooms_import_only_what_they_may() -> None:
    modules = _modules()
    assert {_room(module) for module in modules if module.startswith(PREFIX)} == set(ALLOWED)
    for module, path in modules.items():
        if not module.startswith(PREFIX):
            continue
        room = _room(module)
        for imported in _imports(path):
            if imported.startswith(PREFIX):
                other = _room(imported)
                assert other == room or other in ALLOWED[room], f"{module} imports {imported}"
            else:
                assert any(imported == allowed or imported.startswith(f"{allowed}.") for allowed in OUTSIDE), (
                    f"{module} imports {imported}"
                )


def test_detector_modules_are_small_and_documented() -> None:
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert ast.get_docstring(ast.parse(text)), f"{path} has no module docstring"
        assert len(text.splitlines()) <= 400, f"{path} is over 400 lines"
