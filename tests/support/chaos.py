"""Fault-injection bookkeeping: the input, the reference incidents, fault schedules and the comparison.

The input is the built-in scenario (`aiops.scenario`, seeded: metrics, logs and two alerts). The reference
is what `aiops replay` gives for the same lines and configuration (`tests/integration/test_live_equals_replay.py`
shows an uninterrupted `aiops run` gives the same incidents). `compare` counts, per (incident id, version):
**lost** (in the reference, never seen), **conflicting** (seen with a content the reference does not have),
**duplicates** (the reference's content seen more than once), **extra** versions (an id of the reference at a
version it does not have) and **foreign** ids (not in the reference).
No incident field is ignored: the contract (`aiops/incidents.py`) has no wall-clock or arrival-dependent
field (the core takes no clock: ids, versions, times, members, priorities, explanation are all derived from
event time and the events), so content is the whole JSON value. What the broker adds (record timestamp,
offset, the interleaving of different incidents) is not part of the value and is not compared.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from aiops.config import AiopsConfig
from aiops.replay import replay_lines
from aiops.scenario import SCENARIO_SERVICES, scenario_events

START = 1_760_000_000.0
SEED = 7
Key = tuple[str, int]
"""(incident id, version)."""


def scenario_lines(seed: int = SEED) -> list[bytes]:
    """The scenario as `aiops scenario --out FILE` writes it, one JSON line per event."""
    return [json.dumps(event).encode() for event in scenario_events(START, random.Random(seed))]


def chaos_config(base: dict[str, Any]) -> dict[str, Any]:
    """`base` (an `isolated_config`) with the scenario's catalogue and the default correlation timings of
    `aiops run` (which replay gets too), consumer groups that notice a killed member within 3 s, and
    detector snapshots every second (so kills land between checkpoints, not all before the first)."""
    config = {**base, "services": SCENARIO_SERVICES}
    config.pop("correlation", None)
    config["workers"] = {**base.get("workers", {}), "session_timeout_seconds": 3.0,
                         "heartbeat_interval_seconds": 0.5, "rebalance_timeout_seconds": 3.0}
    config["detection"] = {**base.get("detection", {}), "snapshot_interval_seconds": 1.0}
    return config


def reference(lines: list[bytes], config: dict[str, Any]) -> list[dict[str, Any]]:
    """The incident versions `aiops replay` gives for `lines` under `config`, in order, as JSON values."""
    items = replay_lines(lines, AiopsConfig.model_validate(config), datetime.now(tz=UTC))
    return [orjson.loads(item.incident.model_dump_json()) for item in items if item.incident]


def content(record: dict[str, Any]) -> bytes:
    """The compared content of one incident version: its whole value, keys sorted."""
    return orjson.dumps(record, option=orjson.OPT_SORT_KEYS)


@dataclass(frozen=True)
class Counts:
    """How the incidents of one run differ from the reference."""

    reference_versions: int
    received: int
    lost: list[Key] = field(default_factory=list)
    conflicting: list[Key] = field(default_factory=list)
    duplicates: int = 0
    max_copies: int = 0
    extra: list[Key] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """Nothing lost, conflicting, extra or foreign (identical duplicates are allowed)."""
        return not (self.lost or self.conflicting or self.extra or self.foreign)

    def row(self) -> dict[str, int]:
        return {"reference": self.reference_versions, "received": self.received, "lost": len(self.lost),
                "conflicting": len(self.conflicting), "duplicates": self.duplicates,
                "max_copies": self.max_copies, "extra": len(self.extra), "foreign": len(self.foreign)}


def compare(expected: list[dict[str, Any]], observed: list[dict[str, Any]]) -> Counts:
    """Count lost, conflicting, duplicated and foreign versions of `observed` against `expected`."""
    wanted = {(r["id"], r["version"]): content(r) for r in expected}
    copies: Counter[Key] = Counter()
    conflicting: set[Key] = set()
    extra: set[Key] = set()
    foreign: set[str] = set()
    ids = {incident_id for incident_id, _ in wanted}
    for record in observed:
        key = (record["id"], record["version"])
        if record["id"] not in ids:
            foreign.add(record["id"])
        elif key not in wanted:
            extra.add(key)
        elif wanted[key] == content(record):
            copies[key] += 1
        else:
            conflicting.add(key)
    return Counts(
        reference_versions=len(wanted), received=len(observed),
        lost=sorted(key for key in wanted if copies[key] == 0 and key not in conflicting),
        conflicting=sorted(conflicting), duplicates=sum(n - 1 for n in copies.values() if n > 1),
        max_copies=max(copies.values(), default=0), extra=sorted(extra), foreign=sorted(foreign),
    )


def differences(expected: list[dict[str, Any]], observed: list[dict[str, Any]], key: Key) -> dict[str, Any]:
    """For a report: the fields in which the observed copies of `key` differ from the reference."""
    want = next(r for r in expected if (r["id"], r["version"]) == key)
    seen = [r for r in observed if (r["id"], r["version"]) == key]
    def members(record: dict[str, Any]) -> set[str]:
        return {f"{m['fingerprint']} {m['status']}" for m in record.get("members", [])}

    return {"key": key, "fields": sorted({f for r in seen for f in want if r.get(f) != want[f]}),
            "reference": {f: want[f] for f in ("status", "title", "services")},
            "seen": [{f: r.get(f) for f in ("status", "title", "services")} for r in seen],
            "members": [{"reference only": sorted(members(want) - members(r)),
                         "seen only": sorted(members(r) - members(want)),
                         "differing": member_differences(want, r)} for r in seen]}


def member_differences(want: dict[str, Any], seen: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Members present in both (same fingerprint and status) whose other fields differ: per member, each
    differing field as [reference, seen] (values cut to 120 characters)."""
    def by_key(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {f"{m['fingerprint']} {m['status']}": m for m in record.get("members", [])}

    theirs = by_key(seen)
    out: dict[str, dict[str, Any]] = {}
    for key, member in by_key(want).items():
        other = theirs.get(key)
        if other is not None and other != member:
            out[key] = {f: [str(member.get(f))[:120], str(other.get(f))[:120]]
                        for f in sorted(set(member) | set(other)) if member.get(f) != other.get(f)}
    return out


def foreign_versions(observed: list[dict[str, Any]], ids: list[str]) -> list[dict[str, Any]]:
    """For a report: each foreign incident's versions (status, title, member fingerprints)."""
    return [{"id": r["id"], "version": r["version"], "status": r.get("status"), "title": r.get("title"),
             "members": sorted(f"{m['fingerprint']} {m['status']}" for m in r.get("members", []))}
            for r in observed if r["id"] in ids]


@dataclass(frozen=True)
class Fault:
    """One fault: `after_seconds` after the current worker got its detection partitions, `kind` it (and
    restart it after `restart_after_seconds`)."""

    kind: str  # "kill" (SIGKILL), "term" (SIGTERM), "join" (start a second worker), "kill_first"
    after_seconds: float
    restart_after_seconds: float = 0.0


def kill_schedule(seed: int, kills: int, kind: str = "kill", low: float = 0.0, high: float = 5.0) -> list[Fault]:
    """`kills` faults at seeded random moments of each worker's life (from its assignment, so some land
    during restore, most mid-stream), each restarted after a random pause of up to 1 s."""
    rng = random.Random(seed)
    return [Fault(kind, round(rng.uniform(low, high), 2), round(rng.uniform(0.0, 1.0), 2)) for _ in range(kills)]


def rebalance_schedule(seed: int) -> list[Fault]:
    """A second worker joins mid-stream; later the first is SIGKILLed; the second finishes alone."""
    rng = random.Random(seed)
    return [Fault("join", round(rng.uniform(1.0, 4.0), 2)), Fault("kill_first", round(rng.uniform(2.0, 6.0), 2))]
