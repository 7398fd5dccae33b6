"""Reading the `telecom_alarm_causal` layout (PCIC 2021 real alarm streams with expert causal DAGs).

A dataset folder ``<V>V_<N>N_<network>/`` holds `Alarm.csv` (``alarm_id,device_id,start_timestamp,
end_timestamp``), the expert causal graph between alarm types (`dag_edges.csv` ``cause,effect`` or the V x V
`DAG.npy`), and optionally the device adjacency (`topology_edges.csv` ``device_a,device_b`` or the N x N
`Topology.npy`). This module only reads files into plain structures; it neither streams nor scores. It
never writes anything.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from aiops.errors import DatasetError


@dataclass(frozen=True, slots=True)
class Alarm:
    """One alarm occurrence: type, device, start and end (seconds on the dataset's clock)."""

    kind: int
    device: int
    start: float
    end: float


@dataclass(slots=True)
class AlarmDataset:
    name: str
    alarms: list[Alarm]
    dag: set[tuple[int, int]]
    """Expert causal edges (cause type, effect type)."""
    topology: dict[int, set[int]] | None
    """Undirected device adjacency, None when the dataset ships none."""
    types: list[int] = field(default_factory=list)

    @property
    def devices(self) -> list[int]:
        return sorted({alarm.device for alarm in self.alarms} | set(self.topology or {}))


def dataset_dirs(root: Path) -> list[Path]:
    """`root` itself when it holds `Alarm.csv`, else its sub-folders that do, sorted by name."""
    if (root / "Alarm.csv").is_file():
        return [root]
    return sorted(path for path in root.iterdir() if path.is_dir() and (path / "Alarm.csv").is_file())


def _read_pairs(path: Path) -> list[tuple[int, int]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = csv.reader(handle)
        next(rows, None)
        return [(int(row[0]), int(row[1])) for row in rows if len(row) >= 2]


def _matrix_pairs(path: Path) -> list[tuple[int, int]]:
    matrix = np.load(path, allow_pickle=False)
    return [(int(i), int(j)) for i, j in zip(*np.nonzero(matrix), strict=True) if i != j]


def read_alarms(path: Path) -> list[Alarm]:
    """Alarms sorted by (start, file order); an end before the start is taken as the start."""
    out: list[tuple[float, int, Alarm]] = []
    with path.open(newline="", encoding="utf-8") as handle:
        rows = csv.DictReader(handle)
        for index, row in enumerate(rows):
            start = float(row["start_timestamp"])
            end = max(start, float(row["end_timestamp"]))
            out.append((start, index, Alarm(int(row["alarm_id"]), int(row["device_id"]), start, end)))
    out.sort(key=lambda item: (item[0], item[1]))
    return [alarm for _, _, alarm in out]


def dag_file(directory: Path) -> Path:
    """The expert causal graph of a dataset folder (`dag_edges.csv`, else `DAG.npy`); `DatasetError` if none."""
    for name in ("dag_edges.csv", "DAG.npy"):
        if (directory / name).is_file():
            return directory / name
    raise DatasetError(f"{directory} has neither dag_edges.csv nor DAG.npy (the expert causal graph)")


def load_dataset(directory: Path) -> AlarmDataset:
    """Read one dataset folder (see the module docstring for the files)."""
    alarms = read_alarms(directory / "Alarm.csv")
    graph = dag_file(directory)
    dag = set(_read_pairs(graph) if graph.suffix == ".csv" else _matrix_pairs(graph))
    edges: list[tuple[int, int]] | None = None
    if (directory / "topology_edges.csv").is_file():
        edges = _read_pairs(directory / "topology_edges.csv")
    elif (directory / "Topology.npy").is_file():
        edges = _matrix_pairs(directory / "Topology.npy")
    topology: dict[int, set[int]] | None = None
    if edges is not None:
        topology = {}
        for a, b in edges:
            topology.setdefault(a, set()).add(b)
            topology.setdefault(b, set()).add(a)
    types = sorted({alarm.kind for alarm in alarms} | {t for edge in dag for t in edge})
    return AlarmDataset(directory.name, alarms, dag, topology, types)
