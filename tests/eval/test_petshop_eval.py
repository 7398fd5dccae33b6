"""`aiops eval petshop`: a tiny synthetic dataset in the PetShop layout, plus a subset of the real one."""

from __future__ import annotations

import csv
import json
import random
import shutil
import time
from pathlib import Path

import pytest

from aiops.cli import main as cli_main
from aiops.config import ServiceConfig
from aiops.correlation.topology import ServiceGraph
from aiops.incidents import Incident, Member
from aiops.signals import dt_from_epoch
from aiops_eval.petshop import CORRELATION, VARIANTS, Variant, choose_incident, main, scenario_config
from aiops_eval.petshop_data import (
    DAY_SECONDS,
    STEP_SECONDS,
    history_shift,
    load_call_graph,
    load_metrics,
    load_scenario,
    row_events,
    service_catalogue,
)
from aiops_eval.petshop_report import hit_share

PETSHOP_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets" / "petshop_rca"

NODES = ("frontend", "api", "db", "cache")
CALLS = {"frontend": ["api"], "api": ["db", "cache"]}
SERIES = [(node, metric, stat) for node in NODES for metric, stat in
          (("latency", "Average"), ("latency", "p99"), ("requests", "Sum"), ("availability", "Average"))]
BASE = {"latency": 0.1, "requests": 600.0, "availability": 100.0}
ISSUE_START = 1_690_000_200.0
NORMAL_START = 1_700_000_100.0  # months later than the issue, as in the real dataset


def _write_graph(path: Path) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["", *NODES])
        for row in NODES:
            writer.writerow([row, *("1.0" if col in CALLS.get(row, []) else "0.0" for col in NODES)])


def _value(rng: random.Random, metric: str) -> float:
    base = BASE[metric]
    if metric == "availability":
        return 100.0
    return round(base * (1 + rng.gauss(0, 0.03)), 6)


def _write_metrics(path: Path, start: float, rows: int, fault_from: int | None, rng: random.Random) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    extra = {"db": 2.0, "api": 2.0, "frontend": 2.0}  # seconds of added latency along the call chain
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["microservice", *(s[0] for s in SERIES)])
        writer.writerow(["metric", *(s[1] for s in SERIES)])
        writer.writerow(["statistic", *(s[2] for s in SERIES)])
        writer.writerow(["unix_timestamp", *("" for _ in SERIES)])
        for index in range(rows):
            cells = []
            for node, metric, _ in SERIES:
                value = _value(rng, metric)
                if fault_from is not None and index >= fault_from and metric == "latency" and node in extra:
                    value += extra[node]
                cells.append("" if node == "cache" and metric == "requests" and index % 7 == 0 else str(value))
            writer.writerow([f"{start + index * STEP_SECONDS:.1f}", *cells])


def make_dataset(root: Path) -> Path:
    """One scenario: 600 normal rows (about two days, as in the dataset), one latency fault at the leaf `db`."""
    rng = random.Random(7)
    scenario = root / "tiny_traffic"
    scenario.mkdir(parents=True)
    _write_graph(scenario / "graph.csv")
    _write_metrics(scenario / "noissue" / "metrics.csv", NORMAL_START, 600, None, rng)
    issue = scenario / "test" / "issue_0"
    _write_metrics(issue / "metrics.csv", ISSUE_START, 5, 2, rng)
    target = {
        "target": {"node": "frontend", "metric": "latency", "agg": "Average", "timestamp": ISSUE_START + 600},
        "root_cause": {"node": "db", "metric": None},
        "metadata": {"reproducibility": {"command": "synthetic"}},
    }
    (issue / "target.json").write_text(json.dumps(target))
    return root


def test_call_graph_becomes_depends_on_caller_to_callee(tmp_path: Path) -> None:
    make_dataset(tmp_path)
    calls = load_call_graph(tmp_path / "tiny_traffic" / "graph.csv")
    catalogue = service_catalogue(calls, set())
    assert catalogue["frontend"]["depends_on"] == ["api"]
    assert catalogue["api"]["depends_on"] == ["cache", "db"]
    assert catalogue["db"]["depends_on"] == []


def test_history_shift_keeps_time_of_day_and_ends_before_the_issue(tmp_path: Path) -> None:
    make_dataset(tmp_path)
    normal = load_metrics(tmp_path / "tiny_traffic" / "noissue" / "metrics.csv")
    assert len(normal.columns) == len(SERIES)
    assert normal.rows[0][1][NODES.index("cache") * 4 + 2] is None  # empty cell -> missing
    shift = history_shift(normal, ISSUE_START)
    assert shift % DAY_SECONDS == 0
    assert normal.rows[-1][0] + shift <= ISSUE_START - STEP_SECONDS
    assert normal.rows[-1][0] + shift > ISSUE_START - DAY_SECONDS - STEP_SECONDS


def test_runner_ranks_the_faulty_leaf_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_dataset(tmp_path)
    assert main([str(tmp_path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["issues"] == 1
    assert report["top1"] == 1.0
    assert report["top3"] == 1.0
    assert report["top1_listed_order"] == 1.0
    assert report["details"]["tiny_traffic"][0]["top1"] == 1.0
    assert 0.0 <= report["specificity"] <= 1.0
    figures = report["scenarios"]["tiny_traffic"]
    assert figures["no_issue_runs"] == 60  # second half of 600 rows in blocks of 5
    assert report["details"]["tiny_traffic"][0]["ranking"][0] == "db"
    assert report["label_in_judged"] == 1.0
    assert report["correlation"] == CORRELATION


def test_a_label_tied_with_others_counts_as_the_expected_hit_of_a_random_order() -> None:
    ranking = ["a", "label", "b", "c"]
    tied_first = [0.7, 0.7, 0.7, 0.1]
    assert hit_share(ranking, tied_first, "label", 1) == pytest.approx(1 / 3)
    assert hit_share(ranking, tied_first, "label", 3) == 1.0
    assert hit_share(ranking, [0.9, 0.5, 0.5, 0.5], "label", 1) == 0.0
    assert hit_share(ranking, [0.9, 0.5, 0.5, 0.5], "label", 3) == pytest.approx(2 / 3)
    assert hit_share(ranking, None, "label", 1) == 0.0  # what-if rankers: the listed order
    assert hit_share(ranking, None, "label", 2) == 1.0
    assert hit_share(ranking, tied_first, "missing", 3) == 0.0


def test_default_feeds_the_golden_signals_and_all_series_feeds_everything(tmp_path: Path) -> None:
    make_dataset(tmp_path)
    normal = load_metrics(tmp_path / "tiny_traffic" / "noissue" / "metrics.csv")
    default = {(e["service"], e["name"]) for e in row_events(normal, 1, 0.0, Variant().keep)}
    assert default == {(node, name) for node in NODES for name in ("latency_average", "availability_average")}
    every = row_events(normal, 1, 0.0, VARIANTS["all_series"].keep)
    assert len(every) == len(SERIES)
    assert {e["name"] for e in every} >= {"latency_p99", "requests_sum"}


def _incident(name: str, services: list[str], start: float) -> Incident:
    members = [Member(fingerprint=f"{svc}/latency_average", origin="metric_anomaly", name="latency_average",
                      service=svc, status="firing", severity="warning", first_seen=dt_from_epoch(start),
                      last_seen=dt_from_epoch(start)) for svc in services]
    return Incident(id=name, version=1, idempotency_key=f"{name}:1", status="open", priority="P3", title=name,
                    scope="s", services=services, hosts=[], first_seen=dt_from_epoch(start),
                    last_seen=dt_from_epoch(start), members=members)


# front -> {api, side}; api -> db; side -> far -> farther
STAR = ServiceGraph({name: ServiceConfig(depends_on=deps) for name, deps in {
    "front": ["api", "side"], "api": ["db"], "db": [], "side": ["far"], "far": ["farther"], "farther": []}.items()})


def test_judged_incident_contains_the_alerted_node_else_the_nearest_one() -> None:
    start = 1_000_000.0
    big_far = _incident("far", ["far", "farther"], start + 450)  # larger, at the alert time, but 2 hops away
    near = _incident("near", ["db", "api"], start)  # api is 1 hop from the alerted node
    alert = start + 450
    assert choose_incident({}, "front", alert, STAR) is None
    assert choose_incident({"far": big_far, "near": near}, "front", alert, STAR) is near
    with_front = _incident("front", ["front"], start + 1200)
    assert choose_incident({"near": near, "front": with_front}, "front", alert, STAR) is with_front
    assert choose_incident({"far": big_far}, "front", alert, STAR) is big_far


def test_judged_incident_ties_go_to_the_start_closest_to_the_alert() -> None:
    early = _incident("early", ["side", "far"], 1_000_000.0)  # larger, but long before the alert
    late = _incident("late", ["api"], 1_000_600.0)
    assert choose_incident({"early": early, "late": late}, "front", 1_000_500.0, STAR) is late
    assert choose_incident({"early": early, "late": late}, "front", 1_000_100.0, STAR) is early


def test_judged_incident_skips_incidents_merged_into_another() -> None:
    merged = _incident("merged", ["front"], 1_000_000.0).model_copy(update={"status": "resolved",
                                                                             "merged_into": "survivor"})
    survivor = _incident("survivor", ["api", "db"], 1_000_300.0)
    assert choose_incident({"merged": merged, "survivor": survivor}, "front", 1_000_000.0, STAR) is survivor
    assert choose_incident({"merged": merged}, "front", 1_000_000.0, STAR) is None


def test_scenario_config_adds_the_documented_correlation_settings(tmp_path: Path) -> None:
    make_dataset(tmp_path)
    config = scenario_config(load_scenario(tmp_path / "tiny_traffic"))
    assert config.correlation.topology_hops == CORRELATION["topology_hops"] == 2
    assert config.services["frontend"].depends_on == ["api"]


def test_missing_directory_is_an_error(tmp_path: Path) -> None:
    assert main([str(tmp_path / "absent")]) == 2
    assert main([str(tmp_path)]) == 2  # exists, but no scenario folder


def test_a_scenario_without_noissue_is_one_error_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_dataset(tmp_path)
    shutil.rmtree(tmp_path / "tiny_traffic" / "noissue")
    assert cli_main(["eval", "petshop", str(tmp_path)]) == 2
    errors = capsys.readouterr().err.splitlines()
    missing = tmp_path / "tiny_traffic" / "noissue" / "metrics.csv"
    assert errors == [f"error: missing {missing} (no normal-operation data: specificity and the warm-up need it)"]


@pytest.mark.parametrize("text", ["", "a,b\n", "node,x\nmetric,latency\nstatistic,Average\nunix_timestamp,\n",
                                  "node,x\nmetric,latency\nstatistic,Average\nunix_timestamp,\nnoon,1\n"])
def test_an_unreadable_normal_operation_file_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    make_dataset(tmp_path)
    (tmp_path / "tiny_traffic" / "noissue" / "metrics.csv").write_text(text)
    assert cli_main(["eval", "petshop", str(tmp_path)]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 1
    assert errors[0].startswith("error: ")
    assert "noissue/metrics.csv" in errors[0]


def test_progress_on_stderr_names_the_detector_and_each_issue(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_dataset(tmp_path)
    assert main([str(tmp_path), "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        "petshop: 1 scenario(s), variant default, detector ensemble, correlation {'topology_hops': 2}, "
        "feeding availability_average, latency_average",
        "petshop: tiny_traffic: streaming 600 normal rows, then 1 issue(s)",
        captured.err.splitlines()[-1],
    ]
    assert captured.err.splitlines()[-1].startswith("petshop: 1/1 issues, tiny_traffic/test/issue_0, ")
    assert json.loads(captured.out.splitlines()[-1])["detector"] == "ensemble"


@pytest.mark.dataset
def test_petshop_eval_on_a_real_subset(capsys: pytest.CaptureFixture[str]) -> None:
    if not (PETSHOP_DIR / "low_traffic" / "graph.csv").is_file():
        pytest.skip(f"PetShop dataset not found at {PETSHOP_DIR} (needs ../shared/datasets/petshop_rca)")
    started = time.perf_counter()
    code = main([str(PETSHOP_DIR), "--json", "--scenario", "low_traffic", "--only", "test/issue_0", "--only",
                 "test/issue_6"])
    assert code == 0
    assert time.perf_counter() - started < 30
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["issues"] == 2
    for key in ("top1", "top3", "specificity"):
        assert 0.0 <= report[key] <= 1.0
    figures = report["scenarios"]["low_traffic"]
    assert figures["no_issue_runs"] == 59
    assert set(figures["by_metric"]) <= {"latency", "availability"}
