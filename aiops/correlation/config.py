"""Configuration of correlation (`correlation:`) and the service catalogue (`services:`). Models only.

Covers dedup and grouping keys, windows and Alertmanager-style timers, lifecycle (quiet resolve, stale
members, reopen), topology (catalogue `depends_on` plus an optional edge-list file), learned co-occurrence
and the storm summary interval. Suppression (silences, maintenance, inhibition, flapping, storm) is configured
by the top-level `suppression:` section (`suppression.config`). It does not load files or build anything.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from aiops.config_base import StrictModel

ScopeKind = Literal["component", "service", "global"]
"""What a correlation scope is: a connected component of the topology, one service, or everything."""


class LearnedConfig(StrictModel):
    enabled: bool = Field(True, description="Learn which member types fire together and group them.")
    window_seconds: float = Field(300.0, gt=0, description="Types firing this close together co-occur.")
    half_life_seconds: float = Field(86400.0, gt=0, description="Older co-occurrences count half after this.")
    min_support: float = Field(3.0, ge=0, description="Co-occurrences needed before a relation is used.")
    significance: float = Field(0.01, gt=0, lt=1, description="p-value a relation must beat.")
    max_types: int = Field(2000, ge=2, description="Member types tracked per scope (least used dropped).")
    min_confidence: float = Field(0.5, ge=0, le=1, description="Confidence a relation needs to join members.")


class CorrelationConfig(StrictModel):
    scope: ScopeKind = Field(
        "component",
        description="Partition key of correlation: the service's connected component in the dependency "
        "graph (topology grouping stays inside one partition), the service alone, or one global scope.",
    )
    dedup_by: list[str] = Field(
        default_factory=list,
        description="Member attributes forming the dedup key; empty = the signal's own fingerprint.",
    )
    group_by: list[str] = Field(
        default_factory=lambda: ["service"],
        description="Member attributes (service, host, name/alertname, origin, severity or any label) whose "
        "equal values group members; empty = group by rule never (topology/learned only).",
    )
    window_seconds: float = Field(300.0, gt=0, description="Members this close in event time may group.")
    topology_hops: int = Field(1, ge=0, description="Topology nodes this many hops apart group.")
    merge_incidents: bool = Field(
        True, description="A new member directly linking several open incidents of its scope (group key, "
        "learned co-occurrence, one depends_on hop a failure travels) merges them into the earliest-opened "
        "one; the others close as resolved with `merged_into`.",
    )
    topology_file: str | None = Field(
        None, description="CSV edge list `source,target` (source depends on target); nodes may be services, "
        "hosts or devices.",
    )
    group_wait_seconds: float = Field(0.0, ge=0, description="Hold a new incident this long before open.")
    group_interval_seconds: float = Field(
        30.0, ge=0, description="At most one `updated` notification per incident per this much event time."
    )
    repeat_interval_seconds: float = Field(
        14400.0, ge=0, description="Re-send an unchanged open incident after this long; 0 = never."
    )
    min_active_members: int = Field(1, ge=1)
    resolve_quiet_seconds: float = Field(120.0, ge=0, description="Quiet time after last resolve to close.")
    reopen_seconds: float = Field(
        300.0, ge=0, description="A member joining within this long after resolve reopens the same incident."
    )
    stale_seconds: float = Field(
        600.0, gt=0, description="Firing members not refreshed for this long (event time) are resolved as stale."
    )
    refresh_seconds: float = Field(
        60.0, ge=0, description="A re-sent signal (same member, same status, no stronger evidence) less than this "
        "much event time after the member's recorded last_seen is absorbed: nothing changes or is written. A "
        "member's last_seen (what stale_seconds counts from) is then at most this much older than its latest "
        "re-send; 0 = record every re-send.",
    )
    closed_memory_seconds: float = Field(
        21600.0, ge=0, description="How long a closed (forgotten) incident's members are remembered: a signal no "
        "newer than what the closed incident reflected (a re-processed one after a restart) is ignored instead "
        "of opening the incident again. At least the replay window of a restarted worker.",
    )
    allowed_lateness_seconds: float = Field(30.0, ge=0)
    storm_summary_interval_seconds: float = Field(
        300.0, ge=0, description="During a storm (suppression.storm), `updated` notifications that add no member "
        "(resolves only) are summarised: at most one per this much event time. Members joining or firing again "
        "wait storm_added_interval_seconds instead, so they reach receivers while they fire.",
    )
    storm_added_interval_seconds: float = Field(
        30.0, ge=0, description="During a storm, an `updated` notification that adds members (joined or firing "
        "again) goes out at most once per max(group_interval_seconds, this) (never later than the storm summary "
        "interval). Set it to storm_summary_interval_seconds to hold additions as long as resolves.",
    )
    learned: LearnedConfig = LearnedConfig()

    @model_validator(mode="after")
    def _refresh_below_stale(self) -> CorrelationConfig:
        if self.refresh_seconds >= self.stale_seconds:
            raise ValueError("refresh_seconds must be less than stale_seconds (re-sent members would go stale)")
        return self


class ServiceConfig(StrictModel):
    owner: str | None = None
    runbook: str | None = None
    tier: int = Field(3, ge=1, le=5, description="1 = most critical.")
    depends_on: list[str] = Field(default_factory=list)
