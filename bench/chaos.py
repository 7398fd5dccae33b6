"""Fault-injection campaign, long mode: many runs of the scenario through `aiops run` under faults.

Each run starts from fresh topics on one embedded broker (tansu), feeds the built-in scenario to real
`aiops run` subprocesses while a seeded schedule of faults hits them, and compares the incidents read back
with what `aiops replay` gives for the same input (`tests/support/chaos.py`: lost, conflicting, duplicated,
extra versions and foreign ids). The CI suite (`pytest -m chaos`) runs a few of these; this runs `--runs`
of each kind for the "faults" table of docs/benchmarks.md. Kinds: `kill` (`--kills` SIGKILLs per run at
random moments, each worker restarted), `term` (SIGTERM restarts), `rebalance` (a second worker joins,
then the first is SIGKILLed). Prints one row per run and, last, one JSON line with the totals per kind.

    python bench/chaos.py --runs 20 --kills 5 --kinds kill,term,rebalance
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.chaos import (
    Fault,
    chaos_config,
    differences,
    foreign_versions,
    kill_schedule,
    rebalance_schedule,
    reference,
    scenario_lines,
)
from support.chaos_run import fault_run
from support.worker import isolated_config

from aiops.runtime.broker import EmbeddedBroker

COUNTED = ("reference", "received", "lost", "conflicting", "duplicates", "extra", "foreign")


def schedule(kind: str, seed: int, kills: int) -> list[Fault]:
    if kind == "rebalance":
        return rebalance_schedule(seed)
    if kind == "term":
        return kill_schedule(seed, kills, kind="term", low=1.0, high=4.0)
    return kill_schedule(seed, kills)


async def one_run(bootstrap: str, kind: str, seed: int, kills: int) -> dict[str, Any]:
    prefix = f"chaos.{kind}.{seed}.{uuid.uuid4().hex[:8]}."
    config = chaos_config(isolated_config(prefix, bootstrap))
    lines = scenario_lines()
    expected = reference(lines, config)
    faults = schedule(kind, seed, kills)
    with tempfile.TemporaryDirectory(prefix="aiops-chaos-") as workdir:
        result = await fault_run(config, Path(workdir), lines, expected, faults)
    row: dict[str, Any] = {"kind": kind, "seed": seed, "faults": len(faults), **result.counts.row(),
                           "clean": result.counts.clean, "seconds": round(result.seconds, 1)}
    if not result.counts.clean:
        row["events"] = result.events
        row["differences"] = [differences(expected, result.records, key) for key in result.counts.conflicting]
        row["foreign_versions"] = foreign_versions(result.records, result.counts.foreign)
    return row


async def campaign(runs: int, kills: int, kinds: list[str], first_seed: int) -> dict[str, dict[str, int]]:
    totals: dict[str, dict[str, int]] = {}
    async with EmbeddedBroker() as broker:
        for kind in kinds:
            total = totals.setdefault(kind, {"runs": 0, "faults": 0, "clean_runs": 0, "max_copies": 0,
                                             **dict.fromkeys(COUNTED, 0)})
            for seed in range(first_seed, first_seed + runs):
                row = await one_run(broker.bootstrap, kind, seed, kills)
                print(json.dumps(row), flush=True)
                total["runs"] += 1
                total["faults"] += row["faults"]
                total["clean_runs"] += int(row["clean"])
                total["max_copies"] = max(total["max_copies"], row["max_copies"])
                for name in COUNTED:
                    total[name] += row[name]
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20, help="runs per kind (default 20)")
    parser.add_argument("--kills", type=int, default=5, help="SIGKILLs (or SIGTERMs) per run (default 5)")
    parser.add_argument("--kinds", default="kill,term,rebalance", help="comma-separated: kill, term, rebalance")
    parser.add_argument("--seed", type=int, default=100, help="first seed (default 100)")
    args = parser.parse_args()
    totals = asyncio.run(campaign(args.runs, args.kills, args.kinds.split(","), args.seed))
    print(json.dumps({"totals": totals}))


if __name__ == "__main__":
    main()
