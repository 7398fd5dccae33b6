"""Smoke test of bench/storm.py at its quick scale: the workload is what it says, and one run measures both systems.

The run starts `aiops run` (embedded broker) and, when installed, Prometheus Alertmanager, sends the `new`
phase (500 alerts) and the waves, and must report every alert absorbed, CPU and RSS of the aiops worker and
its broker, notifications attributed to waves, every wave alert shown and counts that add up. Nothing here
depends on speed. Alertmanager's side is skipped by the bench itself when its binary is absent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

from storm import _plan  # noqa: E402
from storm_systems import AlertmanagerSystem  # noqa: E402
from storm_workload import QUICK, aiops_config, catalogue, wave_schedule  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_workload_phases_and_waves_are_deterministic_and_complete() -> None:
    plan = dict(_plan(QUICK, 19, ["new", "active", "resend"]))
    assert [len(plan[p]) for p in ("new", "active", "resend")] == [500, 500, 1000]
    assert {a.id for a in plan["new"]} | {a.id for a in plan["active"]} == {a.id for a in plan["resend"]}
    assert len({a.id for a in plan["resend"]}) == 1000  # every active alert once
    assert [a.id for a in plan["resend"]] != [a.id for a in plan["new"] + plan["active"]]  # a fresh order
    services = catalogue(QUICK)
    assert {a.service for a in plan["resend"]} == set(services)
    assert services["c00-s0"]["depends_on"] == ["c00-s1"]
    assert services["c00-s4"]["depends_on"] == []

    steps = wave_schedule(QUICK, 19)
    assert [(s.at, s.alert.id, s.status) for s in steps] == [(s.at, s.alert.id, s.status)
                                                             for s in wave_schedule(QUICK, 19)]
    firsts = {s.alert.id: s for s in reversed(steps)}
    assert Counter(s.wave for s in firsts.values()) == {0: 40, 1: 40}
    last = {s.alert.id: s.status for s in steps}
    assert set(last.values()) == {"resolved"}  # every alert fires first and resolves last
    roots = [s for s in firsts.values() if s.alert.service.endswith("-s4")]
    fronts = [s for s in firsts.values() if s.alert.service.endswith("-s0")]
    assert min(s.at for s in roots) < min(s.at for s in fronts)  # failures travel up the chain


def test_aiops_config_keeps_grouping_and_scales_its_own_timers() -> None:
    config = aiops_config(QUICK, "http://127.0.0.1:9/aiops", "storm")
    correlation = config["correlation"]
    assert correlation["group_by"] == ["service"]
    assert (correlation["group_wait_seconds"], correlation["group_interval_seconds"]) == pytest.approx(
        (QUICK.timed(10.0), QUICK.timed(30.0)))  # Alertmanager's group_wait and group_interval, scaled
    assert correlation["allowed_lateness_seconds"] == pytest.approx(QUICK.timed(30.0))  # aiops' default, scaled
    assert config["delivery"]["repeat_interval_seconds"] == pytest.approx(QUICK.timed(30.0))
    assert config["workers"]["app_id"] == "storm"


def test_quick_run_measures_both_systems(tmp_path: Path) -> None:
    out = tmp_path / "storm.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIOPS_")}
    done = subprocess.run(
        [sys.executable, str(BENCH / "storm.py"), "--quick", "--phase", "new,waves", "--json", str(out),
         "--workdir", str(tmp_path / "work")],
        capture_output=True, text=True, timeout=150, env=env, cwd=tmp_path, check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result = json.loads(out.read_text())
    systems = ["aiops"] + (["am"] if AlertmanagerSystem.find() else [])
    phases = {r["system"]: r for r in result["phases"]}
    assert set(phases) == set(systems)
    for system in systems:
        phase = phases[system]
        assert (phase["phase"], phase["alerts"], phase["absorbed"]) == ("new", 500, 1.0)
        assert phase["seconds"] > 0
        assert phase["cpu_worker"] > 0
        assert phase["rss_worker"] > 0
        assert phase["notifications"] >= 1  # 40 services fired: someone was told
    assert phases["aiops"]["rss_broker"] > 0

    waves = {w["system"]: w for w in result["waves"]}
    assert set(waves) == set(systems)
    for wave in waves.values():
        assert wave["alerts"] == 80
        assert wave["never_shown"] == 0
        assert 0 <= wave["shown_after_resolve"] <= wave["alerts"]
        assert len(wave["per_wave"]) == 2
        assert all(n > 0 for n in wave["per_wave"])
        assert 1 <= wave["incidents"] <= 20  # at most one per service of the 4 chains hit
        assert wave["notifications"] >= wave["incidents"]  # each incident or group was notified
        assert wave["p95_first_seconds"] >= wave["p50_first_seconds"] > 0
    assert waves["aiops"]["chains"] == 4
    assert 0 <= waves["aiops"]["root_cause_right"] <= 4

    assert len(result["loadavg"]) == 2
    assert "| waves (2 x 40 alerts) |" in done.stdout
    assert "| new: first 500 alerts (500) |" in done.stdout
    assert "load average (1, 5, 15 min)" in done.stdout
    assert not list((tmp_path / "work").glob("*/tmp/aiops-*/embedded-broker.json"))  # aiops stopped cleanly
