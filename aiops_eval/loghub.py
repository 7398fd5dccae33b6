"""`aiops eval loghub DIR [--loso] [--synthetic N] [--json]`: template-mining accuracy, side by side with drain3.

For every `<System>/` folder of DIR that holds `<System>_2k.log` and a structured CSV, the `Content`
column (what every Loghub parser is given and what `LogEvent.message` is in the stream) is mined line by
line, once with the project's `TemplateMiner` (the service's settings from the default detection config,
the same for all systems) and once with stock drain3. Reported per system and as a mean: grouping accuracy
(GA: a line is correct when the set of lines grouped with it, by the template id it got on arrival, equals
its ground-truth group) and parsing accuracy (PA: exact final template, whitespace-normalised), against the
original and corrected ground truth, plus lines/s. `--synthetic N` adds GA on N generated systems with known
templates (`synthetic_logs`); `--loso` adds leave-one-system-out GA of the settings-selection procedure
(`loghub_selection`). For BGL it also scores line-level alert detection by `LogAnomalyDetector` (default
settings; a line counts as predicted alert when the detector puts it in an open anomaly episode as it
arrives). Reads files, prints; writes nothing.
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from aiops.detectors.logs.anomaly import LogAnomalyDetector
from aiops.events import LogEvent
from aiops.logmining.miner import MatchResult, TemplateMiner
from aiops_eval.baselines.drain_adapter import Drain3Miner
from aiops_eval.common import Progress, report_dataset_errors, require_dir, settings_text
from aiops_eval.loghub_selection import candidates, configured_settings, default_settings, leave_one_system_out
from aiops_eval.synthetic_logs import generate_systems

_SPACES = re.compile(r"\s+")


class Miner(Protocol):
    def add(self, line: str | bytes) -> MatchResult: ...


@dataclass(slots=True)
class SystemData:
    """One Loghub-2k system: messages, both ground truths and the structured rows."""

    name: str
    contents: list[str]
    truth: dict[str, list[str]]  # "original" / "corrected" -> template per line
    rows: list[dict[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class MinerScore:
    """Accuracy of one miner on one system."""

    grouping: dict[str, float]
    grouping_final: dict[str, float]
    parsing: dict[str, float]
    templates: int
    seconds: float


def _read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def load_system(folder: Path) -> SystemData | None:
    """Read one system folder; None when it lacks the raw log or any ground truth."""
    name = folder.name
    raw = folder / f"{name}_2k.log"
    original = folder / f"{name}_2k.log_structured.csv"
    corrected = folder / f"{name}_2k.log_structured_corrected.csv"
    if not raw.is_file() or not (original.is_file() or corrected.is_file()):
        return None
    truth: dict[str, list[str]] = {}
    rows: list[dict[str, str]] = []
    for kind, path in (("corrected", corrected), ("original", original)):
        if path.is_file():
            rows = _read_rows(path)
            truth[kind] = [row["EventTemplate"] for row in rows]
    return SystemData(name, [row["Content"] for row in rows], truth, rows)


def load_systems(root: Path) -> list[SystemData]:
    systems = [load_system(folder) for folder in sorted(root.iterdir()) if folder.is_dir()]
    return [system for system in systems if system is not None]


def grouping_accuracy(predicted: Sequence[str], truth: Sequence[str]) -> float:
    """Loghub GA: share of lines whose predicted group has exactly the lines of their true group."""
    truth_sizes = Counter(truth)
    members: dict[str, list[int]] = defaultdict(list)
    for index, group in enumerate(predicted):
        members[group].append(index)
    correct = 0
    for lines in members.values():
        true_groups = {truth[i] for i in lines}
        if len(true_groups) == 1 and truth_sizes[next(iter(true_groups))] == len(lines):
            correct += len(lines)
    return correct / len(truth) if truth else 0.0


def _normalise(template: str) -> str:
    return _SPACES.sub(" ", template).strip()


def parsing_accuracy(predicted: Sequence[str], truth: Sequence[str]) -> float:
    """Share of lines whose final template equals the ground-truth template (whitespace-normalised)."""
    hits = sum(_normalise(p) == _normalise(t) for p, t in zip(predicted, truth, strict=True))
    return hits / len(truth) if truth else 0.0


def score_miner(factory: Callable[[], Miner], system: SystemData, repeats: int = 3) -> MinerScore:
    """Mine every line with a fresh miner; accuracy of the first run, best time of `repeats` runs.

    Templates for PA are read at the end (their final, most general form), as logparser does.
    """
    seconds = float("inf")
    for attempt in range(repeats):
        miner = factory()
        started = time.perf_counter()
        results = [miner.add(line).template_id for line in system.contents]
        seconds = min(seconds, time.perf_counter() - started)
        if attempt == 0:
            ids, first = results, miner
    final = _final_templates(first, ids)
    resolved = _resolved_ids(first, ids)
    return MinerScore(
        grouping={kind: grouping_accuracy(ids, truth) for kind, truth in system.truth.items()},
        grouping_final={kind: grouping_accuracy(resolved, truth) for kind, truth in system.truth.items()},
        parsing={kind: parsing_accuracy(final, truth) for kind, truth in system.truth.items()},
        templates=len(set(ids)),
        seconds=seconds,
    )


def _resolved_ids(miner: Miner, ids: list[str]) -> list[str]:
    """Each line's id as its template stands at the end (merged templates resolve to the one that absorbed them)."""
    if not isinstance(miner, TemplateMiner):
        return ids
    return [cluster.template_id if (cluster := miner.resolve(i)) is not None else i for i in ids]


def _final_templates(miner: Miner, ids: list[str]) -> list[str]:
    if isinstance(miner, TemplateMiner):
        return [cluster.template if (cluster := miner.resolve(i)) is not None else "" for i in ids]
    by_id = miner.final_templates() if isinstance(miner, Drain3Miner) else {}
    return [by_id.get(i, "") for i in ids]


def evaluate(systems: list[SystemData], factory: Callable[[], Miner],
             progress: Progress | None = None) -> dict[str, Any]:
    """Scores of one miner over all systems: per system, means and overall lines/s."""
    per_system: dict[str, dict[str, Any]] = {}
    total_lines = 0
    total_seconds = 0.0
    for done, system in enumerate(systems, start=1):
        score = score_miner(factory, system)
        if progress is not None:
            progress.step(done, len(systems), f"systems mined with {getattr(factory, '__name__', 'miner')}",
                          system.name)
        total_lines += len(system.contents)
        total_seconds += score.seconds
        per_system[system.name] = {
            "grouping_accuracy": score.grouping, "grouping_accuracy_final": score.grouping_final,
            "parsing_accuracy": score.parsing,
            "templates": score.templates, "lines_per_second": len(system.contents) / max(score.seconds, 1e-9),
        }
    return {
        "mean_grouping_accuracy": _means(per_system, "grouping_accuracy"),
        "mean_grouping_accuracy_final": _means(per_system, "grouping_accuracy_final"),
        "mean_parsing_accuracy": _means(per_system, "parsing_accuracy"),
        "lines_per_second": total_lines / max(total_seconds, 1e-9),
        "systems": per_system,
    }


def configured_miner() -> TemplateMiner:
    """A miner with the settings the service uses (the default detection config's `logs.miner`)."""
    return TemplateMiner(**configured_settings())


def score_grid(systems: Sequence[SystemData], settings: Sequence[dict[str, Any]]) -> list[dict[str, dict[str, float]]]:
    """GA per candidate setting, per system, per ground truth (each candidate mines each system once)."""
    table = []
    for candidate in settings:
        factory = functools.partial(TemplateMiner, **candidate)
        table.append({system.name: score_miner(factory, system, repeats=1).grouping for system in systems})
    return table


def _means(per_system: dict[str, dict[str, Any]], metric: str) -> dict[str, float]:
    sums: dict[str, list[float]] = defaultdict(list)
    for figures in per_system.values():
        for kind, value in figures[metric].items():
            sums[kind].append(value)
    return {kind: round(sum(values) / len(values), 4) for kind, values in sums.items()}


def score_bgl_alerts(rows: list[dict[str, str]]) -> dict[str, Any]:
    """Line-level precision/recall/F1 of the log anomaly detector against BGL's alert labels."""
    detector = LogAnomalyDetector()
    true_pos = false_pos = false_neg = 0
    kinds: Counter[str] = Counter()
    for row in rows:
        event = LogEvent(kind="log", ts=float(row["Timestamp"]), service=row["Component"] or "bgl",
                         host=row["Node"], message=row["Content"], level=row["Level"] or "info")
        for signal in detector.observe(event):
            if signal.status == "firing":
                kinds[signal.name] += 1
        predicted = bool(detector.last_flags)
        actual = row["Label"] != "-"
        true_pos += predicted and actual
        false_pos += predicted and not actual
        false_neg += actual and not predicted
    precision = true_pos / max(true_pos + false_pos, 1)
    recall = true_pos / max(true_pos + false_neg, 1)
    f1 = 2 * precision * recall / max(precision + recall, 1e-9)
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "alerts": true_pos + false_neg, "flagged": true_pos + false_pos, "episodes": dict(kinds)}


def _print_table(label: str, report: dict[str, Any]) -> None:
    print(f"\n{label}: {report['lines_per_second']:,.0f} lines/s")
    print(f"{'system':<11} {'GA orig':>8} {'GA corr':>8} {'PA orig':>8} {'PA corr':>8} {'tmpl':>5}")
    for name, fig in report["systems"].items():
        ga, pa = fig["grouping_accuracy"], fig["parsing_accuracy"]
        print(f"{name:<11} {ga.get('original', 0):>8.4f} {ga.get('corrected', 0):>8.4f} "
              f"{pa.get('original', 0):>8.4f} {pa.get('corrected', 0):>8.4f} {fig['templates']:>5}")
    ga, pa = report["mean_grouping_accuracy"], report["mean_parsing_accuracy"]
    print(f"{'mean':<11} {ga.get('original', 0):>8.4f} {ga.get('corrected', 0):>8.4f} "
          f"{pa.get('original', 0):>8.4f} {pa.get('corrected', 0):>8.4f}")


def synthetic_systems(seed: int, count: int) -> list[SystemData]:
    """`count` generated systems (`aiops_eval.synthetic_logs`) with their known templates as the truth."""
    return [SystemData(system.name, system.lines, {"known": system.truth})
            for system in generate_systems(seed, count)]


def main(argv: list[str]) -> int:
    """Entry point of `aiops eval loghub DIR [--loso] [--synthetic N] [--json]`; returns the exit code."""
    parser = argparse.ArgumentParser(prog="aiops eval loghub", description=__doc__.split("\n")[0])
    parser.add_argument("directory", type=Path, help="folder holding <System>/<System>_2k.log* files")
    parser.add_argument("--loso", action="store_true",
                        help="also leave one system out: choose the miner's settings on the other systems, "
                             "score on the held-out one")
    parser.add_argument("--synthetic", type=int, default=8, metavar="N",
                        help="also score N generated systems with known templates (default 8; 0: none)")
    parser.add_argument("--synthetic-seed", type=int, default=1, help="seed of the generated systems")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args(argv)
    if args.synthetic < 0:
        parser.error("--synthetic must be 0 or more")
    return report_dataset_errors(lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    systems = load_systems(require_dir(args.directory, "Loghub-2k: <System>/<System>_2k.log* folders"))
    if not systems:
        print(f"error: no <System>/<System>_2k.log + CSV under {args.directory}", file=sys.stderr)
        return 2
    progress = Progress("loghub")
    progress.note(f"{len(systems)} systems; miners: aiops TemplateMiner ({settings_text(default_settings())}) "
                  "and drain3, both with default settings")
    ours = evaluate(systems, configured_miner, progress)
    drain = evaluate(systems, Drain3Miner, progress)
    ours["settings"] = default_settings()
    ours["drain3"] = drain
    ours["speedup_vs_drain3"] = round(ours["lines_per_second"] / max(drain["lines_per_second"], 1e-9), 2)
    if args.synthetic:
        generated = synthetic_systems(args.synthetic_seed, args.synthetic)
        progress.note(f"synthetic: {len(generated)} generated systems, seed {args.synthetic_seed}")
        ours["synthetic"] = {"seed": args.synthetic_seed, "aiops": evaluate(generated, configured_miner, progress),
                             "drain3": evaluate(generated, Drain3Miner, progress)}
    if args.loso:
        ours["loso"] = _loso(systems, progress)
    bgl = next((s for s in systems if s.name == "BGL"), None)
    if bgl is not None:
        progress.note("BGL: scoring alert detection with LogAnomalyDetector (default settings)")
        ours["bgl"] = score_bgl_alerts(bgl.rows)
    _print_report(ours, drain)
    if args.json:
        print(json.dumps(ours, sort_keys=True))
    return 0


def _loso(systems: list[SystemData], progress: Progress) -> dict[str, Any]:
    settings = candidates()
    progress.note(f"LOSO: mining every system with each of {len(settings)} candidate settings")
    return leave_one_system_out(score_grid(systems, settings), settings)


def _print_report(ours: dict[str, Any], drain: dict[str, Any]) -> None:
    _print_table(f"aiops TemplateMiner (default settings: {settings_text(ours['settings'])})", ours)
    _print_table("drain3 (default settings)", drain)
    print(f"\nspeed-up vs drain3: {ours['speedup_vs_drain3']}x")
    if "synthetic" in ours:
        synthetic = ours["synthetic"]
        print(f"synthetic systems (seed {synthetic['seed']}, {len(synthetic['aiops']['systems'])} systems): mean GA "
              f"aiops {synthetic['aiops']['mean_grouping_accuracy']['known']:.4f}, "
              f"drain3 {synthetic['drain3']['mean_grouping_accuracy']['known']:.4f}")
    if "loso" in ours:
        loso = ours["loso"]
        print(f"leave one system out ({loso['candidates']} candidate settings): mean GA "
              f"{_pair(loso['mean_grouping_accuracy'])} (in-sample, selected on all: "
              f"{_pair(loso['in_sample_mean_grouping_accuracy'])}, {settings_text(loso['selected_on_all'])})")
        for name, fig in loso["systems"].items():
            print(f"  {name:<11} {_pair(fig['grouping_accuracy'])}  chosen on the others: "
                  f"{settings_text(fig['settings'])}")
    if "bgl" in ours:
        print("BGL alert detection: " + ", ".join(f"{k}={v}" for k, v in ours["bgl"].items()))


def _pair(grouping: dict[str, float]) -> str:
    return f"{grouping.get('original', 0):.4f} / {grouping.get('corrected', 0):.4f} (orig / corr)"


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
