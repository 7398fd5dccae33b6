"""Configuration of correlation (`correlation:`) and the service catalogue (`services:`). Models only."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from aiops.config_base import StrictModel


class CorrelationConfig(StrictModel):
    scope: Literal["component", "service", "global"] = Field(
        "component",
        description="Partition key of correlation: the service's connected component in the dependency "
        "graph (topology grouping stays inside one partition), the service alone, or one global scope.",
    )
    window_seconds: float = Field(300.0, gt=0, description="Members this close in event time may group.")
    topology_hops: int = Field(1, ge=0, description="Services this many depends_on hops apart group.")
    group_wait_seconds: float = Field(0.0, ge=0, description="Hold a new incident this long before open.")
    group_interval_seconds: float = Field(
        30.0, ge=0, description="At most one `updated` notification per incident per this much event time."
    )
    min_active_members: int = Field(1, ge=1)
    resolve_quiet_seconds: float = Field(120.0, ge=0, description="Quiet time after last resolve to close.")
    stale_seconds: float = Field(
        600.0, gt=0, description="Firing members not refreshed for this long (event time) are resolved as stale."
    )
    allowed_lateness_seconds: float = Field(30.0, ge=0)

class ServiceConfig(StrictModel):
    owner: str | None = None
    runbook: str | None = None
    tier: int = Field(3, ge=1, le=5, description="1 = most critical.")
    depends_on: list[str] = Field(default_factory=list)
