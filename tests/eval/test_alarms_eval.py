"""`aiops eval alarms`: a tiny synthetic dataset in the real layout, and a quick run on the real one."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from aiops.incidents import Change, Incident
from aiops_eval.alarms import _collect, main, score_edges

ALARMS_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets" / "telecom_alarm_causal"


def _write_dataset(folder: Path) -> None:
    """Type 0 on a device is followed 2-20 s later by type 1 on it or a neighbour; 2, 3, 4 are noise."""
    rng = random.Random(7)
    rows: list[tuple[int, int, int, int]] = []
    for cycle in range(150):
        t = cycle * 2000
        device = rng.randrange(4)
        rows.append((0, device, t, t + 30))
        rows.append((1, rng.choice([device, (device + 1) % 4]), t + rng.randrange(2, 20), t + 60))
        start = t + rng.randrange(300, 1700)
        rows.append((rng.choice([2, 3, 4]), rng.randrange(4), start, start + 10))
    rows.sort(key=lambda row: row[2])
    folder.mkdir()
    lines = ["alarm_id,device_id,start_timestamp,end_timestamp"] + [",".join(map(str, row)) for row in rows]
    (folder / "Alarm.csv").write_text("\n".join(lines) + "\n")
    dag = np.zeros((5, 5), dtype=np.int64)
    dag[0, 1] = dag[2, 3] = 1
    np.save(folder / "DAG.npy", dag)
    (folder / "dag_edges.csv").write_text("cause_alarm_id,effect_alarm_id\n0,1\n2,3\n")
    (folder / "topology_edges.csv").write_text("device_a,device_b\n0,1\n1,2\n2,3\n0,3\n")


def test_synthetic_dataset_gives_expected_f1_and_compression(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_dataset(tmp_path / "5V_4N_Synthetic")
    assert main([str(tmp_path), "--json", "--variant", "no_topology"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    figures = report["datasets"]["5V_4N_Synthetic"]
    assert figures["causal"]["precision"] == 1.0
    assert figures["causal"]["recall"] == 0.5
    assert report["mean_causal_f1"] == pytest.approx(2 / 3, abs=1e-3)
    assert figures["alarms"] == 450
    assert 1 <= figures["incidents"] < 450
    assert report["mean_compression"] == pytest.approx(450 / figures["incidents"], abs=0.01)
    assert 0.0 <= report["mean_coherence"] <= 1.0
    assert figures["complete_graph_f1"] == pytest.approx(2 * 0.1 * 1 / 1.1, abs=1e-3)
    assert "no_topology" in figures["variants"]
    assert 0 <= figures["merged"] < figures["incidents"]
    assert figures["compression_after_merge"] == pytest.approx(450 / (figures["incidents"] - figures["merged"]),
                                                               abs=0.01)


def test_score_edges() -> None:
    assert score_edges({(0, 1), (1, 2)}, {(0, 1), (2, 3)}) == {
        "precision": 0.5, "recall": 0.5, "f1": 0.5, "edges": 2, "true_edges": 2}
    assert score_edges(set(), {(0, 1)})["f1"] == 0.0


def test_missing_directory_is_an_error(tmp_path: Path) -> None:
    assert main([str(tmp_path / "nope")]) == 2
    assert main([str(tmp_path)]) == 2


def test_a_dataset_without_its_causal_graph_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "5V_4N_Synthetic"
    _write_dataset(folder)
    (folder / "DAG.npy").unlink()
    (folder / "dag_edges.csv").unlink()
    assert main([str(tmp_path)]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert errors == [f"error: {folder} has neither dag_edges.csv nor DAG.npy (the expert causal graph)"]


def test_progress_on_stderr_and_the_report_names_the_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_dataset(tmp_path / "5V_4N_Synthetic")
    assert main([str(tmp_path)]) == 0
    captured = capsys.readouterr()
    err = captured.err.splitlines()
    assert err[0].startswith("alarms: 1 dataset(s); incidents: default configuration, correlation.scope component")
    assert "relation settings window_seconds=120.0, " in err[0]
    assert err[1] == "alarms: dataset 1/1 5V_4N_Synthetic: 450 alarms"
    assert err[2].startswith("alarms: 900/900 alarm events streamed, 5V_4N_Synthetic, ")
    assert err[3] == "alarms: 5V_4N_Synthetic: learning the causal graph (1 relation setting(s))"
    assert captured.out.startswith("incidents: default configuration")
    assert "causal graph: relation settings window_seconds=120.0" in captured.out


@pytest.mark.dataset
def test_real_dataset_quick_run(capsys: pytest.CaptureFixture[str]) -> None:
    if not (ALARMS_DIR / "18V_55N_Wireless" / "Alarm.csv").is_file():
        pytest.skip(f"telecom_alarm_causal not found at {ALARMS_DIR} (needs ../shared/datasets/telecom_alarm_causal)")
    assert main([str(ALARMS_DIR), "--json", "--limit", "600"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(report["datasets"]) == {"18V_55N_Wireless", "24V_439N_Microwave"}
    for figures in report["datasets"].values():
        assert figures["alarms"] == 600
        assert figures["incidents"] >= 1
        assert 0.0 <= figures["causal_f1"] <= 1.0
    assert report["mean_compression"] > 1.0


def _version(incident_id: str, status: str, added: list[str], merged_into: str | None = None) -> Incident:
    return Incident.model_validate({
        "id": incident_id, "version": 1, "idempotency_key": f"{incident_id}:1", "status": status, "priority": "P3",
        "title": "t", "scope": "s", "services": [], "hosts": [], "first_seen": "2024-01-01T00:00:00Z",
        "last_seen": "2024-01-01T00:00:00Z", "members": [], "merged_into": merged_into,
        "change": Change(added=added),
    })


def test_a_merged_incident_counts_only_in_its_survivor() -> None:
    members: dict[str, set[str]] = {}
    assert _collect(_version("a", "open", ["x:a0"]), members) == "open"
    assert _collect(_version("c", "open", ["x:a1"]), members) == "open"
    assert _collect(_version("c", "resolved", [], merged_into="a"), members) == "merged"
    assert _collect(_version("a", "updated", ["x:a1", "x:a2"]), members) == "other"
    assert members == {"a": {"x:a0", "x:a1", "x:a2"}}
