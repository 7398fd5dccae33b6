"""Long evaluations: throttled progress on stderr, reports that name the detector and its settings, and a
missing dataset folder or file as one error line (exit 2), never a traceback. Synthetic datasets only."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest

from aiops.cli import main as cli_main
from aiops_eval.common import Progress, report_dataset_errors
from aiops_eval.loghub import main as loghub_main
from aiops_eval.nab import detector_settings
from aiops_eval.nab import main as nab_main

COST = {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.11, "tnWeight": 1.0}
NAB_FILES = ("cat/one.csv", "cat/two.csv")


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_steps_are_throttled_and_the_last_is_always_written() -> None:
    clock, out = _Clock(), io.StringIO()
    progress = Progress("nab", out, every_seconds=5.0, clock=clock)
    progress.note("scoring 4 files with detector ensemble")
    for done, seconds in ((1, 2.0), (2, 6.0), (3, 8.0), (4, 9.0)):
        clock.now = 100.0 + seconds
        progress.step(done, 4, "files", f"cat/f{done}.csv")
    assert out.getvalue().splitlines() == [
        "nab: scoring 4 files with detector ensemble",
        "nab: 2/4 files, cat/f2.csv, 6 s",
        "nab: 4/4 files, cat/f4.csv, 9 s",
    ]


def test_dataset_errors_become_one_line_and_exit_2() -> None:
    out = io.StringIO()

    def unreadable() -> int:
        raise FileNotFoundError(2, "No such file or directory", "/data/x.csv")

    assert report_dataset_errors(unreadable, out) == 2
    assert out.getvalue() == "error: cannot read /data/x.csv: No such file or directory\n"


def _write_nab(root: Path) -> Path:
    """Two 600-point daily sines, each with one labelled spike window near the end."""
    (root / "labels").mkdir(parents=True)
    (root / "config").mkdir()
    labels = {}
    for key in NAB_FILES:
        path = root / "data" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["timestamp", "value"])
            for i in range(600):
                value = 10 + math.sin(i / 12) + (25 if 540 <= i < 545 else 0)
                writer.writerow([f"2024-01-{1 + i // 288:02d} {(i % 288) // 12:02d}:{(i % 12) * 5:02d}:00", value])
        labels[key] = [["2024-01-02 20:00:00", "2024-01-03 02:00:00"]]
    (root / "labels" / "combined_windows.json").write_text(json.dumps(labels))
    profiles = {name: {"CostMatrix": COST} for name in ("standard", "reward_low_FP_rate", "reward_low_FN_rate")}
    (root / "config" / "profiles.json").write_text(json.dumps(profiles))
    return root


@pytest.mark.parametrize("detector", ["ensemble", "cad_ose"])
def test_nab_progress_and_report_name_the_detector_and_its_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], detector: str
) -> None:
    root = _write_nab(tmp_path)
    assert nab_main([str(root), "--detector", detector]) == 0
    captured = capsys.readouterr()
    err = captured.err.splitlines()
    assert err[1].startswith(f"nab: scoring 2 files (1200 points) with detector {detector}: {detector}(")
    assert err[-1].startswith("nab: 2/2 files, cat/two.csv, ")
    assert f"  detector {detector}: {detector}(" in captured.out
    assert "nab:" not in captured.out
    assert nab_main([str(root), "--detector", detector, "--json"]) == 0
    report = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert report["detector"] == detector
    assert report["detector_settings"] == json.loads(json.dumps(detector_settings(detector)))


def test_detector_settings_are_the_ones_the_factories_use() -> None:
    assert detector_settings("ensemble")["ensemble"]["threshold"] == 0.9999
    assert detector_settings("cad_ose")["cad_ose"]["rest_period"] == 150
    assert set(detector_settings("cad_ose_likelihood")) == {"cad_ose", "likelihood"}
    assert detector_settings("cad_ose_lookahead")["cad_ose"]["rest_period"] == "probation / 5"


@pytest.mark.parametrize(("remove", "message"), [
    ("config/profiles.json", "error: missing {root}/config/profiles.json (NAB's scoring profiles)"),
    ("labels/combined_windows.json", "error: missing {root}/labels/combined_windows.json (NAB's label windows)"),
])
def test_nab_missing_file_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], remove: str, message: str
) -> None:
    root = _write_nab(tmp_path)
    (root / remove).unlink()
    assert cli_main(["eval", "nab", str(root)]) == 2
    assert capsys.readouterr().err.splitlines() == [message.format(root=root)]


@pytest.mark.parametrize("name", ["nab", "loghub", "petshop", "alarms"])
def test_a_missing_dataset_directory_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    assert cli_main(["eval", name, str(tmp_path / "absent")]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"error: {tmp_path / 'absent'} is not a directory (")


def test_loghub_progress_names_each_miner_and_system(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for system in ("Alpha", "Beta"):
        folder = tmp_path / system
        folder.mkdir()
        (folder / f"{system}_2k.log").write_text("x\n")
        with (folder / f"{system}_2k.log_structured.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["Content", "EventTemplate"])
            for i in range(20):
                writer.writerow([f"connection {i} closed", "connection <*> closed"])
    assert loghub_main([str(tmp_path)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0] == ("loghub: 2 systems; miners: aiops TemplateMiner (similarity_threshold=0.85, parameter_values=6) "
                      "and drain3, both with default settings")
    assert err[1].startswith("loghub: 2/2 systems mined with configured_miner, Beta, ")
    assert err[2].startswith("loghub: 2/2 systems mined with Drain3Miner, Beta, ")
