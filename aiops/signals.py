"""Internal contract between detection and correlation: signals and watermarks.

A `Signal` is a candidate incident member: a metric or log anomaly episode found by a detector, or an
external alert passed through. Detection emits them onto the signals topic (keyed by correlation scope);
correlation consumes them. A `Watermark` carries detection's event-time progress so that correlation's
timers (group wait, quiet-period resolve) advance on event time even when no signal arrives.

This module holds models and pure helpers only; it does not detect, correlate or do I/O.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from aiops.events import UtcDatetime

SIGNAL_SCHEMA_VERSION = 1

SEVERITY_RANK: dict[str, int] = {
    "info": 1, "low": 1, "warning": 2, "warn": 2, "minor": 2, "medium": 3, "major": 3, "error": 3,
    "high": 4, "critical": 5, "crit": 5, "fatal": 5, "disaster": 5, "page": 5,
}


def severity_rank(severity: str) -> int:
    """1 (info) .. 5 (critical); unknown severities rank as warning (2)."""
    return SEVERITY_RANK.get(severity.lower(), 2)


MAX_WINDOW_POINTS = 240
"""Most samples a `SampleWindow` may carry (the detection default is far fewer: `evidence_window_points`)."""


class SampleWindow(BaseModel):
    """A metric series' recent samples up to a signal, oldest first: what a chart of the anomaly needs (no
    metrics store). Column lists of one length: `seconds` after `start`, the observed value and the expected
    value and band the detector had for that sample (null while it was not warm or has no band)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: UtcDatetime = Field(description="Event time of the first sample.")
    seconds: list[float] = Field(max_length=MAX_WINDOW_POINTS, description="Each sample's seconds after start.")
    observed: list[float] = Field(max_length=MAX_WINDOW_POINTS)
    expected: list[float | None] = Field(max_length=MAX_WINDOW_POINTS)
    lower: list[float | None] = Field(max_length=MAX_WINDOW_POINTS)
    upper: list[float | None] = Field(max_length=MAX_WINDOW_POINTS)

    @model_validator(mode="after")
    def _same_lengths(self) -> SampleWindow:
        lengths = {len(self.seconds), len(self.observed), len(self.expected), len(self.lower), len(self.upper)}
        if len(lengths) != 1:
            raise ValueError("seconds, observed, expected, lower and upper must have the same length")
        return self


class Evidence(BaseModel):
    """Why a detector flagged something: the numbers an on-call engineer needs to judge it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    detector: str = Field(description="Detector that produced the anomaly, e.g. ewma_zscore.")
    score: float = Field(description="Peak calibrated anomaly score of the episode (0..1).")
    threshold: float = Field(description="Score threshold in force.")
    observed: float | None = Field(None, description="Observed value at the peak.")
    expected: float | None = Field(None, description="Baseline (expected) value at the peak.")
    lower: float | None = Field(None, description="Lower bound of the expected range.")
    upper: float | None = Field(None, description="Upper bound of the expected range.")
    onset: UtcDatetime = Field(description="Event time the episode started.")
    peak_at: UtcDatetime | None = Field(None, description="Event time of the peak score.")
    details: dict[str, float | str] = Field(default_factory=dict, description="Detector-specific figures.")
    samples: list[str] = Field(default_factory=list, description="A few example lines (log signals).")
    window: SampleWindow | None = Field(
        None, description="Metric episodes: the series' recent samples with the expected value and band "
        "(`detection.metric.evidence_window_points`); null for other signals or when turned off.")


class Signal(BaseModel):
    """A candidate incident member (anomaly episode or external alert), as correlation sees it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["signal"] = "signal"
    schema_version: int = SIGNAL_SCHEMA_VERSION
    origin: Literal["metric_anomaly", "log_anomaly", "alert"] = Field(description="What produced it.")
    fingerprint: str = Field(description="Dedup key: source fingerprint, or series + episode.")
    name: str = Field(description="Metric name, log signal name or alert name.")
    service: str
    host: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    status: Literal["firing", "resolved"]
    severity: str = "warning"
    ts: UtcDatetime = Field(description="Event time of this state change.")
    started_at: UtcDatetime = Field(description="Event time the member started firing.")
    ends_at: UtcDatetime | None = Field(
        None, description="A firing alert not refreshed by then (event time) is resolved (its source's `endsAt`); "
        "null: correlation's `stale_seconds` after its last refresh. Ignored on a resolved signal.")
    summary: str = Field("", description="One line for humans.")
    annotations: dict[str, str] = Field(default_factory=dict)
    evidence: Evidence | None = None
    source: str = "aiops"

    @property
    def epoch(self) -> float:
        return self.ts.timestamp()


class Watermark(BaseModel):
    """Detection's event-time progress: no signal with `ts` < this (minus lateness) will follow."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["watermark"] = "watermark"
    ts: UtcDatetime
    producer: str = Field(description="Id of the detection worker that sent it.")
    inputs: dict[str, float] = Field(
        default_factory=dict, description="The watermark (epoch seconds) of each input topic-partition "
        "(`topic/partition`) the producer owns and has caught up with.")
    input_count: int = Field(
        0, ge=0, description="How many input topic-partitions exist in all. Correlation advances to the lowest "
        "watermark over all of them once each was reported, so event time never runs ahead of a partition "
        "no worker owns yet (after a crash or during a rebalance); 0: advance to `ts`.")


SignalMessage = Annotated[Signal | Watermark, Field(discriminator="type")]
SIGNAL_MESSAGE_ADAPTER: TypeAdapter[Signal | Watermark] = TypeAdapter(SignalMessage)


_EARLIEST = datetime.min.replace(tzinfo=UTC)
_LATEST = datetime.max.replace(tzinfo=UTC)


def dt_from_epoch(epoch: float) -> datetime:
    """Tz-aware UTC datetime from epoch seconds (no clock read). Never raises: a time before year 1 (or
    -inf, or NaN) is clamped to 0001-01-01T00:00:00Z and one after year 9999 (or +inf) to the last
    microsecond of 9999. The contract keeps event times in [1970, 2200), so clamping only guards a timer
    computed from an extreme time."""
    try:
        return datetime.fromtimestamp(epoch, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return _LATEST if epoch > 0 else _EARLIEST
