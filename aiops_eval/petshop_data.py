"""Reading the PetShop root-cause dataset (Hardt et al., CLeaR 2024) into plain Python structures.

Layout of one traffic scenario directory (see the dataset's README): `graph.csv` (square adjacency
matrix, cell (row a, column b) = 1 when a calls b), `noissue/metrics.csv` (normal operation) and
`{train,test}/issue_<k>/{metrics.csv,target.json}` (5 steps around one injected issue plus its label).
Every `metrics.csv` has 4 header rows (node, metric, statistic, the literal `unix_timestamp`) and then one
row per 5-minute step: the Unix timestamp followed by one cell per node x metric x statistic (empty =
missing). This module parses those files, turns the call graph into a service catalogue (callers
`depends_on` their callees, as the call graph's edge direction says) and turns rows into `metric` event
dicts. It does not run the pipeline or score anything (`aiops_eval.petshop` does) and never writes.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiops.errors import DatasetError
from aiops_eval.common import require_file

STEP_SECONDS = 300.0
DAY_SECONDS = 86400.0
SCENARIOS = ("low_traffic", "high_traffic", "temporal_traffic1", "temporal_traffic2")


@dataclass(frozen=True, slots=True)
class Column:
    """One series of a metrics file."""

    node: str
    metric: str
    statistic: str

    @property
    def event_name(self) -> str:
        """Metric name of the events: e.g. ``latency_average``, ``latency_p99``, ``requests_sum``."""
        return f"{self.metric}_{self.statistic.lower()}"


@dataclass(frozen=True, slots=True)
class MetricTable:
    """A parsed `metrics.csv`: series columns and rows of (timestamp, values); None = missing."""

    columns: list[Column]
    rows: list[tuple[float, list[float | None]]]

    @property
    def timestamps(self) -> list[float]:
        return [ts for ts, _ in self.rows]


@dataclass(frozen=True, slots=True)
class Issue:
    """One injected issue: its metrics, the alert it raised and its labelled root-cause node."""

    key: str
    table: MetricTable
    target_node: str
    target_metric: str
    target_statistic: str
    alert_ts: float
    root_cause: str
    command: str


@dataclass(frozen=True, slots=True)
class Scenario:
    """One traffic scenario: call graph (caller -> callees), normal-operation metrics and its issues."""

    name: str
    calls: dict[str, list[str]]
    normal: MetricTable
    issues: list[Issue]


def _cell(text: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def load_metrics(path: Path) -> MetricTable:
    """Parse one `metrics.csv` (4 header rows, then timestamp + one cell per series); `DatasetError` when it
    is not one (missing header rows, ragged or non-numeric cells, no data row)."""
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        try:
            nodes, metrics, statistics, _ = next(reader), next(reader), next(reader), next(reader)
            columns = [Column(n, m, s) for n, m, s in zip(nodes[1:], metrics[1:], statistics[1:], strict=True)]
            rows = [(float(row[0]), [_cell(cell) for cell in row[1:]]) for row in reader if row and row[0].strip()]
        except (StopIteration, ValueError) as error:
            raise DatasetError(f"{path} is not a PetShop metrics.csv (4 header rows, then numeric rows): "
                               f"{error or 'too few rows'}") from None
    if not rows:
        raise DatasetError(f"{path} has no data rows")
    rows.sort(key=lambda item: item[0])
    return MetricTable(columns, rows)


def load_call_graph(path: Path) -> dict[str, list[str]]:
    """Adjacency matrix to {caller: [callees]}; every node is a key, edges kept in matrix order."""
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)[1:]
        calls: dict[str, list[str]] = {}
        for row in reader:
            if not row:
                continue
            calls[row[0]] = [header[i] for i, cell in enumerate(row[1:]) if cell.strip() and float(cell) != 0.0]
    return calls


def load_issue(directory: Path, key: str) -> Issue:
    target: dict[str, Any] = json.loads((directory / "target.json").read_text())
    alert = target["target"]
    return Issue(
        key=key,
        table=load_metrics(directory / "metrics.csv"),
        target_node=str(alert["node"]),
        target_metric=str(alert["metric"]),
        target_statistic=str(alert["agg"]),
        alert_ts=float(alert["timestamp"]),
        root_cause=str(target["root_cause"]["node"]),
        command=str(target.get("metadata", {}).get("reproducibility", {}).get("command", "")),
    )


def _issue_sort_key(path: Path) -> tuple[str, int, str]:
    suffix = path.name.rsplit("_", 1)[-1]
    return (path.parent.name, int(suffix) if suffix.isdigit() else -1, path.name)


def load_scenario(directory: Path, only: tuple[str, ...] = ()) -> Scenario:
    """One scenario; `only` keeps the issues whose key (``train/issue_3``) contains one of its strings."""
    issues: list[Issue] = []
    found = [p for split in ("train", "test") for p in (directory / split).glob("issue_*") if p.is_dir()]
    for path in sorted(found, key=_issue_sort_key):
        key = f"{path.parent.name}/{path.name}"
        if only and not any(part in key for part in only):
            continue
        if (path / "metrics.csv").is_file() and (path / "target.json").is_file():
            issues.append(load_issue(path, key))
    graph, normal = check_layout(directory)
    return Scenario(name=directory.name, calls=load_call_graph(graph), normal=load_metrics(normal), issues=issues)


def check_layout(directory: Path) -> tuple[Path, Path]:
    """The scenario's call graph and normal-operation metrics files; `DatasetError` naming a missing one."""
    return (require_file(directory / "graph.csv", "the scenario's call graph"),
            require_file(directory / "noissue" / "metrics.csv",
                         "no normal-operation data: specificity and the warm-up need it"))


def scenario_dirs(root: Path) -> list[Path]:
    """Scenario folders under `root` (known names first, then any other folder with a graph.csv)."""
    found = [p for p in sorted(root.iterdir()) if p.is_dir() and (p / "graph.csv").is_file()]
    order = {name: index for index, name in enumerate(SCENARIOS)}
    return sorted(found, key=lambda p: (order.get(p.name, len(order)), p.name))


def service_catalogue(calls: dict[str, list[str]], extra_nodes: set[str]) -> dict[str, dict[str, Any]]:
    """`services` config section: each node `depends_on` the nodes it calls; metric-only nodes get none."""
    names = set(calls) | {callee for callees in calls.values() for callee in callees} | extra_nodes
    return {
        name: {"depends_on": sorted({c for c in calls.get(name, []) if c != name})} for name in sorted(names)
    }


def history_shift(normal: MetricTable, first_issue_ts: float) -> float:
    """Whole days to add to normal-operation timestamps so they end just before the first issue row.

    The normal-operation data was recorded months after the issues; shifting by whole days keeps the
    time of day (daily seasonality) and makes event time increase monotonically into the issues.
    """
    last = normal.rows[-1][0]
    days = (first_issue_ts - STEP_SECONDS - last) // DAY_SECONDS
    return float(days) * DAY_SECONDS


def row_events(
    table: MetricTable, index: int, shift: float = 0.0, keep: frozenset[str] | None = None
) -> list[dict[str, Any]]:
    """The `metric` event dicts of one row (missing cells skipped), with `ts` moved by `shift` seconds."""
    ts, values = table.rows[index]
    events: list[dict[str, Any]] = []
    for column, value in zip(table.columns, values, strict=True):
        if value is None or (keep is not None and column.event_name not in keep):
            continue
        events.append({
            "kind": "metric", "ts": ts + shift, "source": "petshop", "service": column.node,
            "name": column.event_name, "value": value,
        })
    return events
