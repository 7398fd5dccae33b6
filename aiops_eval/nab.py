"""`aiops eval nab DIR [--json]`: stream a NAB corpus through the configured metric detector and score it.

Reads `DIR/data/<category>/<file>.csv`, `DIR/labels/combined_windows.json` and `DIR/config/profiles.json`,
feeds every file point by point to a fresh detector of the default configuration's
`detection.metric.detector` (`--detector` picks another; the report names it) exactly as the stream would (score
then learn, no look-ahead, one configuration for every file), and scores the anomaly scores with NAB's
rules (`aiops_eval.nab_scoring`): per profile the corpus threshold is swept as NAB's optimiser does,
and the standard profile is also scored at the detector's default threshold. Prints a table, or with
`--json` one JSON object as the last stdout line; `--per-file` adds, per file at both standard
thresholds, the raw score, the false-positive count and the reward of each window (null when missed).
It never writes files. Timing uses `perf_counter` and covers the detector only (not CSV parsing or scoring).
"""

from __future__ import annotations

import argparse
import csv
import inspect
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from aiops.config import AiopsConfig
from aiops.detectors.base import SeriesDetector
from aiops.detectors.metric.ensemble import DEFAULT_THRESHOLD, MetricEnsemble, default_metric_detector
from aiops.detectors.metric.ewma import EwmaZScore
from aiops.detectors.metric.tail import MAX_SURPRISE, score_to_surprise
from aiops_eval.baselines.cad_ose import CadOseDetector
from aiops_eval.baselines.likelihood import AnomalyLikelihood, LikelihoodDetector
from aiops_eval.common import Progress, report_dataset_errors, require_dir, require_file, settings_text
from aiops_eval.nab_scoring import (
    MAX_TP,
    OUTSIDE,
    PROBATIONARY,
    PROBATIONARY_CAP_ROWS,
    PROBATIONARY_FRACTION,
    CostMatrix,
    FileSweep,
    FloatArray,
    best_threshold,
    normalised,
    score_at_threshold,
    sweep_file,
    window_indices,
)

PROFILES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")


@dataclass(frozen=True, slots=True)
class NabFile:
    """One labelled series of the corpus."""

    key: str
    timestamps: list[float]
    values: list[float]
    windows: list[tuple[int, int]]

    @property
    def category(self) -> str:
        return self.key.split("/", 1)[0]


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.strip()).replace(tzinfo=UTC).timestamp()


def load_corpus(directory: Path, only: Sequence[str] = ()) -> list[NabFile]:
    """Every labelled file of `directory` whose key contains one of `only` (all when empty)."""
    labels = json.loads((directory / "labels" / "combined_windows.json").read_text())
    files: list[NabFile] = []
    for key in sorted(labels):
        if only and not any(part in key for part in only):
            continue
        path = directory / "data" / key
        if not path.is_file():
            continue
        timestamps: list[float] = []
        values: list[float] = []
        with path.open(newline="") as handle:
            for row in csv.DictReader(handle):
                timestamps.append(_epoch(row["timestamp"]))
                values.append(float(row["value"]))
        limits = [(_epoch(start), _epoch(end)) for start, end in labels[key]]
        files.append(NabFile(key, timestamps, values, window_indices(timestamps, limits)))
    return files


def _cad_ose_lookahead(file: NabFile) -> SeriesDetector:
    """CAD OSE exactly as NAB runs it: the whole file's min/max and rest period = probation / 5 (look-ahead)."""
    probation = min(math.floor(PROBATIONARY_FRACTION * len(file.values)), PROBATIONARY_CAP_ROWS)
    value_range = (min(file.values), max(file.values))
    return CadOseDetector(value_range=value_range, rest_period=int(probation / 5.0))


def _cad_ose_likelihood(_file: NabFile) -> SeriesDetector:
    cad = CadOseDetector()
    return LikelihoodDetector(cad, raw=cad.raw_score)


def _ensemble_likelihood(_file: NabFile) -> SeriesDetector:
    """Likelihood over the ensemble's surprise -log10(p) / MAX_SURPRISE (its 1 - p piles up near 0 and 1)."""
    ensemble = default_metric_detector()
    return LikelihoodDetector(ensemble, raw=lambda ts, v: score_to_surprise(ensemble.score(ts, v).score) / MAX_SURPRISE)


def _ewma(_file: NabFile) -> SeriesDetector:
    """The stream's EWMA with the configured alpha, warm-up and clip."""
    metric = AiopsConfig().detection.metric
    return EwmaZScore(alpha=metric.alpha, warmup_points=metric.warmup_points, clip_sigma=metric.clip_sigma)


def _ewma_settings() -> dict[str, object]:
    metric = AiopsConfig().detection.metric
    return {"alpha": metric.alpha, "warmup_points": metric.warmup_points, "clip_sigma": metric.clip_sigma}


def configured_detector() -> str:
    """The stream's per-series detector (`detection.metric.detector`): what `aiops eval nab` scores by default."""
    return AiopsConfig().detection.metric.detector


DETECTORS: dict[str, Callable[[NabFile], SeriesDetector]] = {
    "ensemble": lambda _file: default_metric_detector(),
    "ewma": _ewma,
    "ensemble_likelihood": _ensemble_likelihood,
    "cad_ose": lambda _file: CadOseDetector(),
    "cad_ose_likelihood": _cad_ose_likelihood,
    "cad_ose_lookahead": _cad_ose_lookahead,
}
"""`--detector` choices: a fresh detector for one file. Only `*_lookahead` ones see the file (not streamable)."""

_DETECTOR_PARTS: dict[str, dict[str, Callable[..., object]]] = {
    "ensemble": {"ensemble": MetricEnsemble},
    "ewma": {"ewma": EwmaZScore},
    "ensemble_likelihood": {"ensemble": MetricEnsemble, "likelihood": AnomalyLikelihood},
    "cad_ose": {"cad_ose": CadOseDetector},
    "cad_ose_likelihood": {"cad_ose": CadOseDetector, "likelihood": AnomalyLikelihood},
    "cad_ose_lookahead": {"cad_ose": CadOseDetector},
}
"""The classes each `DETECTORS` entry builds; the factories pass them no arguments (`default_metric_detector`
passes the default threshold), except the look-ahead overrides below."""
_LOOKAHEAD = {"value_range": "the file's min and max", "rest_period": "probation / 5"}


def _constructor_defaults(cls: Callable[..., object]) -> dict[str, object]:
    parameters = inspect.signature(cls).parameters.values()
    return {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty}


def detector_settings(detector: str) -> dict[str, dict[str, object]]:
    """The settings `--detector` runs with, per part (e.g. ``cad_ose`` and ``likelihood``): what the report
    names so a figure can be traced to the configuration that produced it."""
    settings = {part: _constructor_defaults(cls) for part, cls in _DETECTOR_PARTS[detector].items()}
    if detector.endswith("_lookahead"):
        settings["cad_ose"].update(_LOOKAHEAD)
    if detector == "ewma":
        settings["ewma"].update(_ewma_settings())
    return settings


def stream_scores(file: NabFile, factory: Callable[[], SeriesDetector]) -> FloatArray:
    """Anomaly score of every row, computed online: score the point, then learn it."""
    detector = factory()
    scores = np.empty(len(file.values), dtype=np.float64)
    for index, (ts, value) in enumerate(zip(file.timestamps, file.values, strict=True)):
        scores[index] = detector.score(ts, value).score
        detector.learn(ts, value)
    return scores


def _category_figures(
    scored: list[tuple[NabFile, FloatArray, FileSweep]], cost: CostMatrix, thresholds: dict[str, float]
) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for category in sorted({file.category for file, _, _ in scored}):
        members = [(scores, sweep) for file, scores, sweep in scored if file.category == category]
        windows = sum(sweep.n_windows for _, sweep in members)
        entry: dict[str, Any] = {"files": len(members), "windows": windows}
        for label, threshold in thresholds.items():
            raw = score_at_threshold(members, threshold, cost)
            entry[f"raw_{label}"] = round(raw, 4)
            entry[label] = round(normalised(raw, windows, cost), 2) if windows else None
        figures[category] = entry
    return figures


def file_figures(scores: FloatArray, sweep: FileSweep, threshold: float, cost: CostMatrix) -> dict[str, Any]:
    """One file at `threshold`: raw score, false positives and per-window reward (None when missed)."""
    detected = (scores >= threshold) & (sweep.window_id != PROBATIONARY)
    rewards: list[float | None] = []
    for window in range(sweep.n_windows):
        hits = np.flatnonzero(detected & (sweep.window_id == window))
        rewards.append(round(float(sweep.unweighted[hits[0]]) / MAX_TP, 3) if hits.size else None)
    return {
        "raw": round(score_at_threshold([(scores, sweep)], threshold, cost), 4),
        "false_positives": int((detected & (sweep.window_id == OUTSIDE)).sum()),
        "windows": rewards,
    }


def _per_file(
    scored: list[tuple[NabFile, FloatArray, FileSweep]], cost: CostMatrix, thresholds: dict[str, float]
) -> dict[str, Any]:
    return {
        file.key: {label: file_figures(scores, sweep, threshold, cost) for label, threshold in thresholds.items()}
        for file, scores, sweep in scored
    }


def evaluate(
    files: list[NabFile],
    profiles: dict[str, Any],
    default_threshold: float,
    per_file: bool = False,
    detector: str = "ensemble",
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Stream, sweep and normalise; the returned dict is the `--json` report."""
    make = DETECTORS[detector]
    scored: list[tuple[NabFile, FloatArray, FileSweep]] = []
    elapsed = 0.0
    for done, file in enumerate(files, start=1):
        started = time.perf_counter()
        scores = stream_scores(file, lambda file=file: make(file))  # type: ignore[misc]
        elapsed += time.perf_counter() - started
        scored.append((file, scores, sweep_file(len(file.values), file.windows)))
        if progress is not None:
            progress.step(done, len(files), "files", file.key)
    pairs = [(scores, sweep) for _, scores, sweep in scored]
    n_windows = sum(sweep.n_windows for _, sweep in pairs)
    report: dict[str, Any] = {}
    thresholds: dict[str, float] = {}
    for profile in PROFILES:
        cost = CostMatrix.from_profile(profiles[profile])
        threshold, raw = best_threshold(pairs, cost)
        thresholds[profile] = threshold
        report[profile] = round(normalised(raw, n_windows, cost), 2)
    standard = CostMatrix.from_profile(profiles["standard"])
    raw_default = score_at_threshold(pairs, default_threshold, standard)
    report["standard_at_default_threshold"] = round(normalised(raw_default, n_windows, standard), 2)
    points = sum(len(file.values) for file in files)
    at = {"standard": thresholds["standard"], "at_default": default_threshold}
    if per_file:
        report["per_file"] = _per_file(scored, standard, at)
    report.update(
        detector=detector,
        detector_settings=detector_settings(detector),
        files=len(files),
        windows=n_windows,
        points=points,
        points_per_second=round(points / elapsed) if elapsed > 0 else None,
        thresholds={**thresholds, "default": default_threshold},
        categories=_category_figures(scored, standard, at),
    )
    return report


def _print_table(report: dict[str, Any]) -> None:
    print(f"NAB: {report['files']} files, {report['windows']} windows, {report['points']} points")
    print(f"  detector {report['detector']}: {settings_text(report['detector_settings'])}")
    for profile in PROFILES:
        print(f"  {profile:<20} {report[profile]:7.2f}  (threshold {report['thresholds'][profile]:.6f})")
    default = report["thresholds"]["default"]
    at_default = report["standard_at_default_threshold"]
    print(f"  {'standard @ default':<20} {at_default:7.2f}  (threshold {default})")
    print(f"  points/s: {report['points_per_second']}")
    for category, entry in report["categories"].items():
        print(
            f"  {category:<24} files={entry['files']:<3} windows={entry['windows']:<3}"
            f" standard={entry['standard']} at_default={entry['at_default']}"
            f" raw={entry['raw_standard']}/{entry['raw_at_default']}"
        )
    for key, entry in report.get("per_file", {}).items():
        swept = entry["standard"]
        print(f"    {key:<64} raw={swept['raw']:7.3f} fp={swept['false_positives']:<3} windows={swept['windows']}")


def main(argv: list[str]) -> int:
    """Entry point of `aiops eval nab`; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="aiops eval nab", description="Score the metric detector on NAB.")
    parser.add_argument("directory", type=Path, help="NAB folder with data/, labels/, config/")
    parser.add_argument("--json", action="store_true", help="last stdout line is one JSON object")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD, help="default threshold")
    parser.add_argument("--only", action="append", default=[], help="keep files whose key contains this")
    parser.add_argument("--per-file", action="store_true", help="add per-file raw score, FPs and window hits")
    parser.add_argument("--detector", choices=sorted(DETECTORS), default=None,
                        help="detector to stream (default: the configured detection.metric.detector)")
    args = parser.parse_args(argv)
    return report_dataset_errors(lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    directory: Path = require_dir(args.directory, "the NAB corpus: data/, labels/, config/")
    require_file(directory / "labels" / "combined_windows.json", "NAB's label windows")
    profiles = json.loads(require_file(directory / "config" / "profiles.json", "NAB's scoring profiles").read_text())
    require_dir(directory / "data", "NAB's data files, data/<category>/<file>.csv")
    progress = Progress("nab")
    progress.note(f"reading {directory}")
    files = load_corpus(directory, args.only)
    if not files:
        print("error: no labelled data files selected", file=sys.stderr)
        return 2
    detector = args.detector or configured_detector()
    settings = settings_text(detector_settings(detector))
    chosen = "" if args.detector else " (the configured default)"
    progress.note(f"scoring {len(files)} files ({sum(len(f.values) for f in files)} points) with detector "
                  f"{detector}{chosen}: {settings}")
    report = evaluate(files, profiles, args.threshold, per_file=args.per_file, detector=detector,
                      progress=progress)
    if args.json:
        print(json.dumps(report, sort_keys=True))
    else:
        _print_table(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
