"""Dependency graph from the config's service catalogue plus an optional edge-list file.

Nodes are services, and also hosts or devices when the edge list names them (CSV `source,target`: source
depends on target; `load_edges` reads it at build time, the only I/O here). Answers the questions
correlation and ranking ask of the topology: how many `depends_on` hops separate two nodes (edges taken
both ways), which nodes lie within N hops, which connected component a service is in (the default scope, so
related services always meet in one partition), which services transitively depend on a service (its blast
radius), and how deep a service sits below others. Read-only; built once from config. `scope_of` maps a
signal to its correlation scope from the graph alone (the detection worker's partition key: no engine).
"""

from __future__ import annotations

import csv
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from aiops.correlation.config import ScopeKind, ServiceConfig
from aiops.signals import Signal


class ServiceGraph:
    """Directed `depends_on` graph plus its undirected view."""

    def __init__(self, services: Mapping[str, ServiceConfig], edges: Sequence[tuple[str, str]] = ()) -> None:
        self.services = dict(services)
        self.depends_on: dict[str, set[str]] = {name: set(cfg.depends_on) for name, cfg in services.items()}
        for source, target in edges:
            self.depends_on.setdefault(source, set()).add(target)
            self.depends_on.setdefault(target, set())
        self.dependents: dict[str, set[str]] = {name: set() for name in self.depends_on}
        for name, deps in self.depends_on.items():
            for dep in deps:
                self.dependents.setdefault(dep, set()).add(name)
        self._component = self._components()
        self._near: dict[tuple[str, int], dict[str, int]] = {}

    def _neighbours(self, service: str) -> set[str]:
        return self.depends_on.get(service, set()) | self.dependents.get(service, set())

    def _components(self) -> dict[str, str]:
        component: dict[str, str] = {}
        for start in sorted(self.depends_on):
            if start in component:
                continue
            members = self._reachable(start)
            label = min(members)
            for member in members:
                component[member] = label
        return component

    def _reachable(self, start: str) -> set[str]:
        seen = {start}
        queue = deque([start])
        while queue:
            for nxt in self._neighbours(queue.popleft()):
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
        return seen

    def component_of(self, service: str) -> str:
        """Name of the service's connected component (the service itself when not in the catalogue)."""
        return self._component.get(service, service)

    def hops(self, source: str, targets: Iterable[str], limit: int) -> int | None:
        """Fewest undirected hops from `source` to any of `targets`, if at most `limit`."""
        wanted = set(targets)
        if source in wanted:
            return 0
        seen = {source}
        frontier = [source]
        for distance in range(1, limit + 1):
            nxt: list[str] = []
            for node in frontier:
                for neighbour in self._neighbours(node):
                    if neighbour in wanted:
                        return distance
                    if neighbour not in seen:
                        seen.add(neighbour)
                        nxt.append(neighbour)
            frontier = nxt
        return None

    def within(self, source: str, limit: int) -> dict[str, int]:
        """Every node at most `limit` undirected hops from `source`, with its distance (cached)."""
        cached = self._near.get((source, limit))
        if cached is not None:
            return cached
        found = {source: 0}
        frontier = [source]
        for distance in range(1, limit + 1):
            nxt = [n for node in frontier for n in self._neighbours(node) if n not in found]
            for node in nxt:
                found.setdefault(node, distance)
            frontier = list(dict.fromkeys(nxt))
        if len(self._near) < 100_000:
            self._near[(source, limit)] = found
        return found

    def transitive_dependents(self, service: str) -> set[str]:
        """Every service that depends on `service`, directly or not."""
        seen: set[str] = set()
        queue = deque([service])
        while queue:
            for parent in self.dependents.get(queue.popleft(), set()):
                if parent not in seen:
                    seen.add(parent)
                    queue.append(parent)
        return seen

    def transitive_dependencies(self, service: str) -> set[str]:
        seen: set[str] = set()
        queue = deque([service])
        while queue:
            for child in self.depends_on.get(queue.popleft(), set()):
                if child not in seen:
                    seen.add(child)
                    queue.append(child)
        return seen


def load_edges(path: str | Path) -> list[tuple[str, str]]:
    """Edges of a CSV edge list (`source,target` per row; a `source,target` header and `#` lines skipped)."""
    edges: list[tuple[str, str]] = []
    with Path(path).open(newline="", encoding="utf-8") as handle:
        for row in csv.reader(handle):
            cells = [cell.strip() for cell in row]
            if len(cells) < 2 or not cells[0] or cells[0].startswith("#"):
                continue
            if (cells[0].lower(), cells[1].lower()) == ("source", "target"):
                continue
            edges.append((cells[0], cells[1]))
    return edges


def scope_of(signal: Signal, kind: ScopeKind, graph: ServiceGraph) -> str:
    """The correlation scope of `signal` (its partition key on the signals topic): the connected component
    of its service in `graph` (a service outside it is its own component), the service, or "global"."""
    if kind == "global":
        return "global"
    if kind == "service":
        return signal.service
    return graph.component_of(signal.service)
