"""`aiops scenario` + `aiops replay` without a broker give the demo's incidents when the catalogue is passed,
and say so when no catalogue is configured (the README's no-broker command)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aiops.cli import main


def _replay(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[dict[str, dict[str, object]], str]:
    capsys.readouterr()
    assert main(["replay", *args]) == 0
    out, err = capsys.readouterr()
    latest: dict[str, dict[str, object]] = {}
    for line in out.splitlines():
        incident = json.loads(line)
        latest[incident["id"]] = incident
    return latest, err


def test_the_scenario_replayed_with_its_catalogue_is_the_demo_cascade(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events, catalogue = tmp_path / "s.jsonl", tmp_path / "s.yaml"
    assert main(["scenario", "--out", str(events), "--services", str(catalogue)]) == 0
    incidents, err = _replay(capsys, str(events), "--config", str(catalogue))
    assert "no service catalogue" not in err
    by_priority = sorted(incidents.values(), key=lambda incident: str(incident["priority"]))
    assert [incident["priority"] for incident in by_priority] == ["P1", "P4"]
    cascade, search = by_priority
    assert cascade["root_cause"][0]["service"] == "postgres"  # type: ignore[index]
    assert {"checkout", "payments", "postgres"} <= set(cascade["services"])  # type: ignore[arg-type]
    assert search["services"] == ["search"]
    assert all(incident["status"] == "resolved" for incident in incidents.values())


def test_replay_without_a_catalogue_says_topology_grouping_is_off(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "s.jsonl"
    assert main(["scenario", "--out", str(events)]) == 0
    incidents, err = _replay(capsys, str(events))
    assert "no service catalogue" in err
    assert "aiops scenario --services" in err
    assert len(incidents) > 2  # the cascade falls apart into unrelated incidents, as the note warns
