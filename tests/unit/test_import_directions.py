"""The package map's import directions (docs/ARCHITECTURE.md, "Package map") hold for every module.

Reads every module of `aiops` with `ast` (no import side effects) and checks each `aiops.*` import against
the layer its package belongs to: the pure core never reaches the adapters (runtime, sinks, cli) nor the
wall clock, detection and correlation meet only through the contracts, sinks never reach runtime or the
CLI, and the top-level units have no import cycle. Ruff's banned-api rule keeps Kafka, HTTP and the clock
out of the core; this test keeps the core from reaching them through the project's own adapters.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "aiops"

CORE = {
    "aiops.errors", "aiops.events", "aiops.signals", "aiops.incidents", "aiops.decisions", "aiops.deadletter",
    "aiops.rawlogs", "aiops.eventtime", "aiops.config_base", "aiops.detectors", "aiops.logmining",
    "aiops.correlation", "aiops.pipeline", "aiops.replay", "aiops.scenario", "aiops.schemas", "aiops.config",
    "aiops.metrics", "aiops.ingest", "aiops.actions", "aiops.operator",
}  # fmt: skip
# config_secrets resolves secrets by building the receivers (sinks) exactly as delivery does, for the CLI.
# The incident store (aiops.store) does database I/O: an adapter the core never imports.
# The console's pure pages read the store's models, so they sit beside the adapters, never under the core.
VIEWS = {"aiops.console"}
ADAPTERS = {"aiops.runtime", "aiops.sinks", "aiops.cli", "aiops.clock", "aiops.config_secrets", "aiops.__main__",
            "aiops.store"}
# Pure configuration models that live beside the adapter they configure; `aiops.config` assembles them.
SINK_CONFIG_MODULES = {"aiops.sinks.config", "aiops.sinks.receiver_config", "aiops.store.config"}
FORBIDDEN: dict[str, set[str]] = {
    **{unit: {"aiops.runtime", "aiops.sinks", "aiops.cli", "aiops.clock"} for unit in CORE},
    "aiops.detectors": {"aiops.runtime", "aiops.sinks", "aiops.cli", "aiops.clock", "aiops.correlation"},
    "aiops.logmining": {"aiops.runtime", "aiops.sinks", "aiops.cli", "aiops.clock", "aiops.correlation",
                        "aiops.detectors"},
    "aiops.correlation": {"aiops.runtime", "aiops.sinks", "aiops.cli", "aiops.clock", "aiops.detectors",
                          "aiops.logmining"},
    "aiops.ingest": {"aiops.runtime", "aiops.sinks", "aiops.cli", "aiops.clock", "aiops.detectors",
                     "aiops.correlation", "aiops.logmining", "aiops.pipeline"},
    "aiops.operator": {"aiops.runtime", "aiops.sinks", "aiops.cli", "aiops.clock", "aiops.detectors",
                       "aiops.logmining", "aiops.pipeline", "aiops.ingest"},
    "aiops.sinks": {"aiops.runtime", "aiops.cli", "aiops.detectors", "aiops.correlation", "aiops.pipeline"},
    "aiops.config_secrets": {"aiops.runtime", "aiops.cli"},
    "aiops.runtime": {"aiops.cli"},
    "aiops.store": {"aiops.runtime", "aiops.cli"},
    "aiops.console": {"aiops.runtime", "aiops.cli", "aiops.clock", "aiops.detectors", "aiops.logmining",
                      "aiops.ingest", "aiops.pipeline"},
}
for _core_unit in CORE:  # the core never reaches the store (aiops.config its pure config model excepted)
    FORBIDDEN[_core_unit].add("aiops.store")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _unit(module: str) -> str:
    """The package-map unit: `aiops.<top-level package or module>`."""
    return ".".join(module.split(".")[:2])


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            if node.module == "aiops":  # `from aiops import clock`
                yield from (f"aiops.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def _edges() -> list[tuple[str, str]]:
    edges = []
    for path in sorted(ROOT.rglob("*.py")):
        source = _module_name(path)
        edges += [(source, target) for target in _imports(path) if target.startswith("aiops.")]
    return edges


def test_every_unit_is_on_the_map() -> None:
    units = {_unit(_module_name(path)) for path in ROOT.rglob("*.py")} - {"aiops"}
    unmapped = units - CORE - ADAPTERS - VIEWS
    assert not unmapped, f"add to the package map (docs/ARCHITECTURE.md) and here: {unmapped}"


def _allowed(source: str, target: str) -> bool:
    if source == "aiops.config" and target in SINK_CONFIG_MODULES:
        return True  # config assembles the sinks' pure config models
    return _unit(target) not in FORBIDDEN.get(_unit(source), set())


def test_every_import_goes_in_an_allowed_direction() -> None:
    wrong = [f"{source} imports {target}" for source, target in _edges() if not _allowed(source, target)]
    assert not wrong, "against the package map: " + "; ".join(wrong)


def test_the_sinks_config_models_stay_pure() -> None:
    for module in SINK_CONFIG_MODULES:
        path = ROOT.parent / (module.replace(".", "/") + ".py")
        banned = {"aiohttp", "aiokafka", "faust", "socket", "sqlalchemy", "alembic", "aiops.clock", "aiops.runtime"}
        imported = {name for name in _imports(path) if name.split(".")[0] in banned or _unit(name) in banned}
        assert not imported, f"{module} imports {imported}"


def test_no_import_cycle_between_units() -> None:
    graph: dict[str, set[str]] = {}
    for source, target in _edges():
        if _unit(source) != _unit(target):
            graph.setdefault(_unit(source), set()).add(_unit(target))
    state: dict[str, int] = {}

    def visit(unit: str, path: list[str]) -> None:
        state[unit] = 1
        for nxt in sorted(graph.get(unit, ())):
            assert state.get(nxt) != 1, "import cycle: " + " -> ".join([*path, unit, nxt])
            if nxt not in state:
                visit(nxt, [*path, unit])
        state[unit] = 2

    for unit in sorted(graph):
        if unit not in state:
            visit(unit, [])
