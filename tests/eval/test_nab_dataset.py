"""`aiops eval nab` end to end on a small subset of the real NAB folder (skipped when it is absent)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aiops_eval.nab import main

NAB_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets" / "nab"


@pytest.mark.dataset
def test_nab_eval_on_subset_reports_all_keys(capsys: pytest.CaptureFixture[str]) -> None:
    if not (NAB_DIR / "labels" / "combined_windows.json").is_file():
        pytest.skip(f"NAB dataset not found at {NAB_DIR} (needs ../shared/datasets/nab)")
    code = main([str(NAB_DIR), "--json", "--only", "art_daily_jumpsup", "--only", "ec2_request_latency"])
    assert code == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for key in ("standard", "reward_low_FP_rate", "reward_low_FN_rate", "standard_at_default_threshold"):
        assert -100.0 <= report[key] <= 100.0
    assert report["files"] == 2
    assert report["windows"] == 4
    assert report["standard"] > 50.0
    assert report["points_per_second"] > 1000
