"""`StageHealth`: one liveness verdict over every stage of a worker, for `/healthz` and the metrics.

Each stage is a named source (``detection``, ``correlation``, ``delivery:<receiver>``) whose
``status(now) -> Mapping`` holds at least ``ok`` (a bool) and, for a consumer, ``lag_records``
({partition: records}) and ``stalled_partitions``: `ConsumerProgress` and `DeliveryWorker` are sources.
`report(now)` asks every source; the worker is ok when all are. The body names the failing stages and holds
each stage's status with its total ``lag``; a source that raises is failing. The gauges
``aiops_stage_healthy{stage}`` (1/0) and ``aiops_stage_lag_records{stage}`` are computed at scrape time
from the same sources. Calling the aggregator is `report` at the current wall time, so it is the
`HttpEndpoint`'s health check as is. It reads the wall clock (`time.time`, the one the workers' progress
uses) and nothing else.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from aiops.metrics import AiopsMetrics

log = logging.getLogger("aiops.health")


class StageSource(Protocol):
    def status(self, now: float) -> Mapping[str, Any]: ...


def _lag(status: Mapping[str, Any]) -> int:
    lag = status.get("lag_records")
    return sum(int(value) for value in lag.values()) if isinstance(lag, Mapping) else 0


class StageHealth:
    """Named stage sources -> ``{"ok", "failing", "stages", **details}``; see the module docstring."""

    def __init__(self, metrics: AiopsMetrics | None = None, *, clock: Callable[[], float] = time.time,
                 details: Callable[[], Mapping[str, Any]] | None = None) -> None:
        self.metrics = metrics
        self.clock = clock
        self.details = details
        self._sources: dict[str, StageSource] = {}

    @property
    def stages(self) -> list[str]:
        return list(self._sources)

    def add(self, stage: str, source: StageSource) -> None:
        """Watch `source` as `stage` (a name not taken yet); its gauges start at once."""
        if stage in self._sources:
            raise ValueError(f"stage {stage!r} is already watched")
        self._sources[stage] = source
        if self.metrics is not None:
            self.metrics.stage_healthy.labels(stage=stage).set_function(lambda: float(self.status_of(stage)["ok"]))
            self.metrics.stage_lag_records.labels(stage=stage).set_function(lambda: float(self.status_of(stage)["lag"]))

    def status_of(self, stage: str, now: float | None = None) -> dict[str, Any]:
        """One stage's status with ``ok`` (a bool) and ``lag`` (total records waiting) always present."""
        at = self.clock() if now is None else now
        try:
            status = dict(self._sources[stage].status(at))
        except Exception as error:  # noqa: BLE001 - a source that cannot answer is a failing stage
            log.warning("health of stage %s raised: %r", stage, error)
            return {"ok": False, "lag": 0, "error": f"status raised {type(error).__name__}"}
        status["ok"] = bool(status.get("ok"))
        status["lag"] = _lag(status)
        return status

    def report(self, now: float | None = None) -> dict[str, Any]:
        at = self.clock() if now is None else now
        stages = {name: self.status_of(name, at) for name in self._sources}
        failing = [name for name, status in stages.items() if not status["ok"]]
        body: dict[str, Any] = {"ok": not failing, "failing": failing, "stages": stages}
        if self.details is not None:
            try:
                body.update({key: value for key, value in self.details().items() if key not in body})
            except Exception as error:  # noqa: BLE001 - details are informative; they never decide health
                body["details_error"] = f"details raised {type(error).__name__}"
        return body

    def __call__(self) -> dict[str, Any]:
        return self.report()


__all__ = ["StageHealth", "StageSource"]
