"""`EngineRun`: drives a `CorrelationEngine` over one scope on injected event time and keeps what it emits.

Shared by the correlation scenario and merge tests; it does no I/O and asserts nothing itself.
"""

from __future__ import annotations

from typing import Any

from aiops.correlation.engine import CorrelationEngine
from aiops.correlation.state import ScopeState
from aiops.correlation.suppression.config import SuppressionConfig
from aiops.decisions import Decision
from aiops.incidents import Incident
from aiops.signals import Signal
from support.builders import T0, correlation_config, graph


class EngineRun:
    """One scope's engine (learning off) over ``service -> depends_on`` edges; `out` and `decisions` accumulate."""

    def __init__(self, edges: dict[str, list[str]], tiers: dict[str, int] | None = None,
                 suppression: dict[str, Any] | None = None, **config: Any) -> None:
        self.engine = CorrelationEngine(correlation_config(**config), graph(edges, tiers), learned=False,
                                        suppression=SuppressionConfig.model_validate(suppression or {}))
        self.state = ScopeState(scope="shop")
        self.out: list[Incident] = []
        self.decisions: list[Decision] = []

    def send(self, *signals: Signal) -> list[Incident]:
        return self._keep([i for s in signals for i in self.engine.process(self.state, s)])

    def tick(self, offset: float) -> list[Incident]:
        return self._keep(self.engine.advance(self.state, T0 + offset))

    def _keep(self, got: list[Incident]) -> list[Incident]:
        self.out.extend(got)
        self.decisions.extend(self.engine.drain_decisions())
        return got

    def versions(self, incident_id: str) -> list[Incident]:
        return [i for i in self.out if i.id == incident_id]

    def incidents(self) -> dict[str, list[Incident]]:
        found: dict[str, list[Incident]] = {}
        for incident in self.out:
            found.setdefault(incident.id, []).append(incident)
        return found
