"""How the miner's data-chosen settings are picked, and leave-one-system-out (LOSO) scoring of that choice.

Two `TemplateMiner` settings are chosen on data: `similarity_threshold` and `parameter_values` (the
many-values rule); their shipped values are the detection config's (`LogMinerConfig`), which the service
and `aiops eval loghub` both use. `select` is the procedure: the candidate of `GRID` with the best mean
grouping accuracy (GA, the mean of the original and corrected ground truth) over the given systems; ties go
to the earlier candidate, and the shipped defaults come first. `leave_one_system_out` re-runs it once per
system on the other systems and scores the pick on the held-out one, so the LOSO mean measures the procedure
on data it did not see; the in-sample figure scores the procedure's pick on all systems. The table of GA per
candidate and system comes from `loghub.score_grid`; this module neither mines, reads files nor prints.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from aiops.detectors.config import DetectionConfig, LogMinerConfig
from aiops.detectors.stage import log_detector_settings

GRID: dict[str, tuple[Any, ...]] = {
    "similarity_threshold": (0.7, 0.75, 0.8, 0.85, 0.9),
    "parameter_values": (2, 3, 4, 6),
}
"""The candidates: every combination. 2 is Drain's rule. Off (0) is not a candidate: without the rule a short
line carrying a name no rule masks makes a template per name (`bench/logs.py`: 11k templates at 0.85)."""


def configured_settings() -> dict[str, Any]:
    """All `TemplateMiner` settings the service builds its miner with from the default detection config."""
    return log_detector_settings(DetectionConfig())[0]


def default_settings() -> dict[str, Any]:
    """The shipped values (the default `LogMinerConfig`) of the settings in `GRID`."""
    shipped = LogMinerConfig()
    return {name: getattr(shipped, name) for name in GRID}


def candidates() -> list[dict[str, Any]]:
    """Every combination of `GRID`, the shipped defaults first (they win ties)."""
    combos = [dict(zip(GRID, values, strict=True)) for values in itertools.product(*GRID.values())]
    default = default_settings()
    return [default, *(combo for combo in combos if combo != default)]


def _ga(grouping: dict[str, float]) -> float:
    return sum(grouping.values()) / len(grouping)


def select(table: Sequence[dict[str, dict[str, float]]], names: Sequence[str]) -> int:
    """Index of the candidate with the best mean GA over the systems `names` (the earliest on ties)."""
    means = [sum(_ga(row[name]) for name in names) / len(names) for row in table]
    return means.index(max(means))


def leave_one_system_out(table: Sequence[dict[str, dict[str, float]]],
                         settings: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per system: the candidate `select` picks on the other systems and its GA on this one; the means."""
    names = sorted(table[0])
    per_system: dict[str, Any] = {}
    for held_out in names:
        chosen = select(table, [name for name in names if name != held_out])
        per_system[held_out] = {"settings": settings[chosen], "grouping_accuracy": table[chosen][held_out]}
    everywhere = select(table, names)
    return {
        "mean_grouping_accuracy": _mean_by_truth([fig["grouping_accuracy"] for fig in per_system.values()]),
        "systems": per_system,
        "selected_on_all": settings[everywhere],
        "in_sample_mean_grouping_accuracy": _mean_by_truth([table[everywhere][name] for name in names]),
        "candidates": len(settings),
        "grid": {name: list(values) for name, values in GRID.items()},
    }


def _mean_by_truth(rows: list[dict[str, float]]) -> dict[str, float]:
    kinds = sorted({kind for row in rows for kind in row})
    return {kind: round(sum(row[kind] for row in rows) / len(rows), 4) for kind in kinds}
