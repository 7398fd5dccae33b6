"""Service dependency graph from the config's service catalogue.

Answers the questions correlation and ranking ask of the topology: how many `depends_on` hops separate two
services (edges taken both ways), which connected component a service is in (the default correlation
scope, so related services always meet in one partition), which services transitively depend on a
service (its blast radius), and how deep a service sits below others. Read-only; built once from config.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping

from aiops.config import ServiceConfig


class ServiceGraph:
    """Directed `depends_on` graph plus its undirected view."""

    def __init__(self, services: Mapping[str, ServiceConfig]) -> None:
        self.services = dict(services)
        self.depends_on: dict[str, set[str]] = {name: set(cfg.depends_on) for name, cfg in services.items()}
        self.dependents: dict[str, set[str]] = {name: set() for name in services}
        for name, deps in self.depends_on.items():
            for dep in deps:
                self.dependents.setdefault(dep, set()).add(name)
        self._component = self._components()

    def _neighbours(self, service: str) -> set[str]:
        return self.depends_on.get(service, set()) | self.dependents.get(service, set())

    def _components(self) -> dict[str, str]:
        component: dict[str, str] = {}
        for start in sorted(self.services):
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
