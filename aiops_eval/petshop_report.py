"""Scoring and reporting of `aiops eval petshop` (`aiops_eval.petshop` runs the pipeline).

Per issue: the labelled node's position in the judged incident's `root_cause` list and the expected top-k
hit when candidates with equal scores are taken as an unordered group (`hit_share`); per scenario: hit
rates, the share of issues whose label fires in some incident / in the judged one (the ceilings of top-k),
and the no-issue runs' specificity. `top1_listed_order` / `top3_listed_order` read the list as shown (ties
by name). Plain data; prints only in `print_table`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class IssueResult:
    """Outcome of one issue."""

    key: str
    label: str
    target_metric: str
    rank: int | None
    ranking: list[str]
    incidents: int
    label_anomalous: bool
    label_in_judged: bool = False
    top1: float = 0.0
    """Expected top-1 hit with ties in random order (`hit_share`)."""
    top3: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "issue": self.key, "root_cause": self.label, "metric": self.target_metric, "rank": self.rank,
            "ranking": self.ranking, "incidents": self.incidents, "label_anomalous": self.label_anomalous,
            "label_in_judged": self.label_in_judged, "top1": self.top1, "top3": self.top3,
        }


def hit_share(ranking: list[str], scores: list[float] | None, label: str, k: int) -> float:
    """Share of the orders of the label's tie group (equal scores) that put the label among the first k;
    without scores (what-if rankers) the listed order is taken as is."""
    if label not in ranking:
        return 0.0
    position = ranking.index(label)
    if scores is None:
        return 1.0 if position < k else 0.0
    group = [index for index, score in enumerate(scores) if score == scores[position]]
    return sum(1 for index in group if index < k) / len(group)


@dataclass(slots=True)
class ScenarioResult:
    name: str
    issues: list[IssueResult] = field(default_factory=list)
    runs: int = 0
    false_alarms: int = 0
    split_failures: list[bool] = field(default_factory=list)
    events: int = 0
    seconds: float = 0.0


def _hits(issues: list[IssueResult]) -> dict[str, Any]:
    count = len(issues)
    top1 = sum(item.top1 for item in issues)
    top3 = sum(item.top3 for item in issues)
    in_order = {k: sum(1 for item in issues if item.rank is not None and item.rank <= k) for k in (1, 3)}
    return {
        "issues": count,
        "top1": round(top1 / count, 3) if count else None,
        "top3": round(top3 / count, 3) if count else None,
        "top1_listed_order": round(in_order[1] / count, 3) if count else None,
        "top3_listed_order": round(in_order[3] / count, 3) if count else None,
        "no_incident": sum(1 for item in issues if item.incidents == 0),
        "label_anomalous": round(sum(item.label_anomalous for item in issues) / count, 3) if count else None,
        "label_in_judged": round(sum(item.label_in_judged for item in issues) / count, 3) if count else None,
    }


def _scenario_figures(result: ScenarioResult) -> dict[str, Any]:
    figures = _hits(result.issues)
    metrics = sorted({item.target_metric for item in result.issues})
    figures["by_metric"] = {m: _hits([i for i in result.issues if i.target_metric == m]) for m in metrics}
    splits = result.split_failures
    figures.update(
        no_issue_runs=result.runs,
        false_alarms=result.false_alarms,
        specificity=round(1 - result.false_alarms / result.runs, 3) if result.runs else None,
        specificity_paper_splits=round(1 - sum(splits) / len(splits), 3) if splits else None,
        events=result.events,
        events_per_second=round(result.events / result.seconds) if result.seconds > 0 else None,
    )
    return figures


def build_report(results: list[ScenarioResult], variant: str, detector: str, correlation: dict[str, Any]
                 ) -> dict[str, Any]:
    """The `--json` report: overall figures, per-scenario figures and per-issue outcomes."""
    issues = [item for result in results for item in result.issues]
    runs = sum(result.runs for result in results)
    false_alarms = sum(result.false_alarms for result in results)
    overall = _hits(issues)
    return {
        "top1": overall["top1"],
        "top3": overall["top3"],
        "top1_listed_order": overall["top1_listed_order"],
        "top3_listed_order": overall["top3_listed_order"],
        "specificity": round(1 - false_alarms / runs, 3) if runs else None,
        "issues": overall["issues"],
        "no_incident": overall["no_incident"],
        "label_anomalous": overall["label_anomalous"],
        "label_in_judged": overall["label_in_judged"],
        "no_issue_runs": runs,
        "variant": variant,
        "correlation": dict(correlation),
        "detector": detector,
        "scenarios": {result.name: _scenario_figures(result) for result in results},
        "details": {result.name: [item.as_dict() for item in result.issues] for result in results},
    }


def print_table(report: dict[str, Any]) -> None:
    head = f"PetShop RCA ({report['variant']}, detector {report['detector']}, correlation {report['correlation']})"
    print(f"{head}: {report['issues']} issues, {report['no_issue_runs']} no-issue runs")
    print(f"  overall   top1={report['top1']} top3={report['top3']} specificity={report['specificity']}")
    for name, fig in report["scenarios"].items():
        print(
            f"  {name:<18} issues={fig['issues']:<3} top1={fig['top1']} top3={fig['top3']}"
            f" specificity={fig['specificity']} (paper splits {fig['specificity_paper_splits']})"
            f" no_incident={fig['no_incident']} events/s={fig['events_per_second']}"
        )
        for metric, sub in fig["by_metric"].items():
            print(f"    {metric:<16} issues={sub['issues']:<3} top1={sub['top1']} top3={sub['top3']}")
    for name, items in report["details"].items():
        for item in items:
            top = ", ".join(item["ranking"][:3])
            print(f"    {name}/{item['issue']:<14} rank={item['rank']} label={item['root_cause']} top=[{top}]")
