"""The pipeline page: how the service's own stages are doing, from its Prometheus metrics (no other source).

Tables: each stage's health and the records waiting for it (``aiops_stage_*``); consumer lag per topic
(summed over partitions, and the largest partition); events/s read per topic, signals per origin, incident
versions per status and HTTP ingest per integration; dead letters by reason; deliveries by receiver and
outcome (failures marked), dead-lettered notifications and circuit state per receiver. A rate is the
counter's increase over `seconds` between two readings the caller took (`Reading`); without an earlier
reading the rate shows "…" and the page, which reloads itself, has one next time. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from aiops.console.markup import Markup, Viewer, join, page, tag

Labels = tuple[tuple[str, str], ...]
FAILED_OUTCOMES = frozenset({"attempt_failed", "rejected", "expired", "dead_lettered"})
CIRCUIT = {0.0: "closed", 1.0: "half-open", 2.0: "open"}
REFRESH_SECONDS = 10


@dataclass(frozen=True)
class Reading:
    """Every sample of the registry at one moment: sample name -> {sorted labels: value}."""

    samples: Mapping[str, Mapping[Labels, float]] = field(default_factory=dict)

    def series(self, name: str) -> Mapping[Labels, float]:
        return self.samples.get(name, {})

    def by(self, name: str, label: str) -> dict[str, float]:
        """The samples of `name` summed per value of `label`."""
        summed: dict[str, float] = {}
        for labels, value in self.series(name).items():
            key = dict(labels).get(label, "")
            summed[key] = summed.get(key, 0.0) + value
        return summed


def _rate(now: float, before: float | None, seconds: float | None) -> str:
    if before is None or not seconds:
        return "…"
    return f"{max(0.0, now - before) / seconds:,.1f}"


def _table(caption: str, heads: Sequence[str], rows: Iterable[Sequence[object]], empty: str,
           marks: Sequence[str] = ()) -> Markup:
    body = [tag("tr", *(tag("td", cell) for cell in row), class_=mark or None)
            for row, mark in zip(rows, [*marks, *([""] * 1000)], strict=False)]
    if not body:
        return tag("p", empty, class_="muted")
    return tag("table", tag("caption", caption), tag("thead", tag("tr", *(tag("th", h, scope="col") for h in heads))),
               tag("tbody", *body), class_="metrics")


def _counted(now: Reading, before: Reading | None, seconds: float | None, name: str, label: str,
             caption: str, what: str, empty: str) -> Markup:
    counts = now.by(name, label)
    earlier = before.by(name, label) if before is not None else {}
    rows = [(key or "-", f"{value:,.0f}", _rate(value, earlier.get(key, 0.0) if before is not None else None,
                                                    seconds))
            for key, value in sorted(counts.items())]
    return _table(caption, (what, "Total", "per second"), rows, empty)


def stages_section(now: Reading) -> Markup:
    healthy = now.by("aiops_stage_healthy", "stage")
    waiting = now.by("aiops_stage_lag_records", "stage")
    stages = sorted(set(healthy) | set(waiting))
    rows = [(stage, "yes" if healthy.get(stage, 1.0) >= 1.0 else "STALLED", f"{waiting.get(stage, 0.0):,.0f}")
            for stage in stages]
    marks = ["" if healthy.get(stage, 1.0) >= 1.0 else "failed" for stage in stages]
    lag: dict[str, list[float]] = {}
    for labels, value in now.series("aiops_consumer_lag_records").items():
        lag.setdefault(dict(labels).get("topic", ""), []).append(value)
    lag_rows = [(topic, f"{sum(values):,.0f}", f"{max(values):,.0f}", str(len(values)))
                for topic, values in sorted(lag.items())]
    return join([
        _table("Stages (/healthz)", ("Stage", "Making progress", "Records waiting"), rows, "No stage reports yet.",
               marks),
        _table("Consumer lag per topic (high watermark minus position)",
               ("Topic", "Records behind", "Largest partition", "Partitions"), lag_rows, "No consumer lag reported."),
    ])


def delivery_section(now: Reading, before: Reading | None, seconds: float | None) -> Markup:
    outcomes: dict[str, dict[str, float]] = {}
    for labels, value in now.series("aiops_notifications_total").items():
        found = dict(labels)
        outcomes.setdefault(found.get("receiver", ""), {})[found.get("outcome", "")] = value
    earlier: dict[tuple[str, str], float] = {}
    if before is not None:
        for labels, value in before.series("aiops_notifications_total").items():
            found = dict(labels)
            earlier[(found.get("receiver", ""), found.get("outcome", ""))] = value
    dead = now.by("aiops_notifications_deadlettered_total", "receiver")
    circuit = now.by("aiops_receiver_circuit_state", "receiver")
    rows, marks = [], []
    for receiver in sorted(set(outcomes) | set(dead) | set(circuit)):
        counts = outcomes.get(receiver, {})
        failed = sum(v for outcome, v in counts.items() if outcome in FAILED_OUTCOMES)
        failed_before = sum(v for (r, outcome), v in earlier.items() if r == receiver and outcome in FAILED_OUTCOMES)
        rows.append((receiver, f"{counts.get('delivered', 0.0) + counts.get('fallback_delivered', 0.0):,.0f}",
                     f"{failed:,.0f}", _rate(failed, failed_before if before is not None else None, seconds),
                     ", ".join(f"{o} {v:,.0f}" for o, v in sorted(counts.items()) if o in FAILED_OUTCOMES) or "-",
                     f"{dead.get(receiver, 0.0):,.0f}", CIRCUIT.get(circuit.get(receiver, 0.0), "?")))
        marks.append("failed" if failed or circuit.get(receiver, 0.0) else "")
    return _table("Deliveries by receiver", ("Receiver", "Delivered", "Failures", "Failures/s", "By outcome",
                                             "Dead-lettered", "Circuit"), rows, "No delivery yet.", marks)


def pipeline_page(now: Reading, before: Reading | None, seconds: float | None, viewer: Viewer) -> Markup:
    over = f"rates over the last {seconds:.0f} s" if seconds else "rates from the next reading on"
    body = join([
        tag("h1", "Pipeline"),
        tag("p", f"This process's own metrics (/metrics); {over}; the page reloads every {REFRESH_SECONDS} s.",
            class_="muted"),
        tag("h2", "Stages and consumer lag", id="stages"), stages_section(now),
        tag("h2", "Throughput", id="throughput"),
        _counted(now, before, seconds, "aiops_events_consumed_total", "topic", "Events read", "Topic",
                 "No event read yet."),
        _counted(now, before, seconds, "aiops_signals_emitted_total", "origin", "Signals emitted by detection",
                 "Origin", "No signal yet."),
        _counted(now, before, seconds, "aiops_incidents_emitted_total", "status", "Incident versions emitted",
                 "Status", "No incident version yet."),
        _counted(now, before, seconds, "aiops_ingest_events_total", "integration", "HTTP ingest",
                 "Integration", "No HTTP ingest."),
        tag("h2", "Dead letters", id="deadletters"),
        _counted(now, before, seconds, "aiops_events_deadlettered_total", "reason", "Dead letters by reason",
                 "Reason", "No dead letter."),
        tag("h2", "Delivery", id="delivery"), delivery_section(now, before, seconds),
    ])
    return page("Pipeline", body, viewer, current="/pipeline", data={"page": "pipeline",
                                                                     "refresh": str(REFRESH_SECONDS)})
