"""Configuration sections of the detectors (`detection:` in the YAML). Models only."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from aiops.config_base import StrictModel
from aiops.signals import MAX_WINDOW_POINTS


class MissingDataConfig(StrictModel):
    """A metric series that stops reporting (see `aiops/detectors/episodes/missing_data.py`)."""

    enabled: bool = Field(
        False, description="Report series that stop reporting. Off by default: where series come and go "
        "(pods, autoscaling) every scale-down would look like missing data.")  # fmt: skip
    factor: float = Field(5.0, gt=1, description="Overdue after this many times the series' usual gap.")
    min_silence_seconds: float = Field(60.0, gt=0, description="Never overdue before this much silence.")
    min_points: int = Field(10, ge=2, description="Samples before a series' cadence is trusted.")


class MetricDetectorConfig(StrictModel):
    detector: Literal["ewma", "ensemble"] = Field(
        "ensemble",
        description="Per-series detector: the ensemble (level, variance, drift, seasonality, flat-line, "
        "counters; the default: NAB 62 vs 0 for the clipped EWMA, as quiet as the EWMA on the demo and PetShop's "
        "normal data) or the EWMA z-score (cheaper per point, no seasonality or counters). See docs/benchmarks.md.",
    )
    threshold: float = Field(0.9999, gt=0, lt=1, description="Calibrated score (1 - tail p) that flags.")
    cooldown_points: int = Field(
        100,
        ge=0,
        description="ensemble: points after an alert during which only surprise beyond the episode's peak counts.",
    )
    counter_probe_points: int = Field(20, ge=2, description="ensemble: points used to tell counters from gauges.")
    warmup_points: int = Field(30, ge=2, description="ewma: points before the baseline is trusted.")
    alpha: float = Field(0.05, gt=0, lt=1, description="ewma: smoothing factor of the baseline.")
    clip_sigma: float | None = Field(
        8.0,
        gt=0,
        description="ewma: once warm, learn each point with its deviation clipped at this many standard "
        "deviations, so a spike's first point does not mask the next one (null: learn raw values).",
    )
    min_anomalous_points: int = Field(
        2, ge=1, description="Consecutive anomalous points before an episode fires (like Prometheus' `for:`)."
    )
    end_after_normal_points: int = Field(3, ge=1, description="Normal points that close an episode.")
    min_deviation_sigmas: float | None = Field(
        3.0, gt=0, description="A flagged point only counts when its value is at least this many of the series' "
        "own point-to-point noise sigmas from the expected value (practical significance: a statistically "
        "surprising drift of a few % does not open an episode); null: off.")  # fmt: skip
    recovery_seconds: float | None = Field(
        21_600.0, gt=0, description="Recovery is not an anomaly: for this long (event time) after an episode's "
        "last anomalous point, and for 30 points after any departure, a flagged point back within the noise band "
        "(`min_deviation_sigmas`, else 3 noise sigmas) of the level the series calmly held before counts as "
        "normal: it never opens an episode and helps close one; null: off.")  # fmt: skip
    refresh_seconds: float = Field(
        60.0,
        gt=0,
        description="An open episode re-sends `firing` this often (event time), so correlation can "
        "resolve members whose detector state was lost (see correlation.stale_seconds).",
    )
    max_series: int = Field(200_000, ge=1, description="Live series cap; idle ones are evicted first.")
    evidence_window_points: int = Field(
        30, ge=0, le=MAX_WINDOW_POINTS, description="Recent samples (with the expected value and band) an "
        "episode's evidence carries, so the console can chart it without a metrics store; about 24 bytes per "
        "point per live series in memory, ~40 per point per signal in JSON. 0: none.")
    missing_data: MissingDataConfig = Field(default_factory=MissingDataConfig)


class LogMinerConfig(StrictModel):
    """`TemplateMiner` settings; the defaults are the miner's own (`aiops eval loghub` scores them)."""

    similarity_threshold: float = Field(
        0.85, gt=0, le=1, description="Share of matching tokens (wildcards on either side count half) for a line "
        "to join a template; chosen leave-one-system-out on Loghub (docs/benchmarks.md).")  # fmt: skip
    parameter_values: int = Field(
        6, ge=0, description="The many-values rule: a position where templates differ in only one token becomes "
        "a parameter once this many distinct tokens were seen there, which bounds the templates of short lines "
        "carrying names no rule masks (0: off; else at least 2).")  # fmt: skip
    max_clusters: int = Field(20_000, ge=1, description="Templates kept; the least recently used are dropped.")
    max_line_chars: int = Field(4096, ge=16, description="Longer lines are cut before mining.")

    @field_validator("parameter_values")
    @classmethod
    def _off_or_at_least_two(cls, value: int) -> int:
        if value == 1:
            raise ValueError("parameter_values must be 0 (off) or at least 2")
        return value


class LogDetectorConfig(StrictModel):
    """Template-aware log anomaly signals: new template, template rate spike/drop, error burst, keywords."""

    window_seconds: float = Field(60.0, gt=0)
    min_errors: int = Field(5, ge=1, description="Error lines per window needed to flag a burst.")
    ratio_over_baseline: float = Field(3.0, gt=1, description="Burst = errors above this x baseline.")
    error_level: str = Field("error", description="Lines at or above this level count as errors.")
    max_samples: int = Field(5, ge=0, le=50)
    warmup_seconds: float = Field(600.0, ge=0, description="anomaly: a service's first seconds learn templates.")
    warmup_windows: int = Field(5, ge=0, description="anomaly: windows of history a template rate needs.")
    new_template_level: str = Field("warning", description="anomaly: new templates at/above this level flag.")
    min_rate_count: int = Field(10, ge=1, description="anomaly: lines per window a template-rate change needs.")
    rate_ratio: float = Field(4.0, gt=1, description="anomaly: template rate spike = above this x baseline.")
    baseline_alpha: float = Field(0.2, gt=0, le=1, description="anomaly: EWMA weight of each window.")
    keywords: list[str] = Field(
        default_factory=lambda: [
            "panic",
            "out of memory",
            "oom",
            "segfault",
            "segmentation fault",
            "core dumped",
            "stack overflow",
            "deadlock",
            "corrupt",
            "kernel bug",
            "fatal",
            "killed process",
            "data loss",
        ],
        description="anomaly: case-insensitive words that flag a line whatever its level.",
    )
    quiet_seconds: float = Field(900.0, ge=0, description="anomaly: line-triggered episodes end after this quiet.")
    max_keys: int = Field(100_000, ge=1, description="anomaly: (service, template) counters kept.")
    max_sample_chars: int = Field(512, ge=16, description="anomaly: sample lines are cut to this length.")
    miner: LogMinerConfig = LogMinerConfig()


class MultivariateDetectorConfig(StrictModel):
    """IsolationForest per entity (host, else service) over its metric vector; off by default (cost)."""

    enabled: bool = Field(False, description="Score entities' metric vectors (about 30 ms per scoring call).")
    step_seconds: float = Field(60.0, gt=0, description="Event-time bucket of one vector.")
    window: int = Field(1440, ge=10, description="Vectors kept per entity for fitting.")
    refit_every: int = Field(360, ge=1, description="New vectors between refits.")
    min_fit: int = Field(200, ge=10, description="Vectors needed before the first fit.")
    contamination: float = Field(0.01, ge=0, lt=0.5, description="Share of the window trimmed as outliers.")
    threshold: float = Field(0.9999, gt=0, lt=1, description="Calibrated score that flags a vector.")
    n_estimators: int = Field(100, ge=10, description="Trees per forest (cost per call ~ trees).")
    max_entities: int = Field(10_000, ge=1, description="Entities kept; the least recently seen are evicted.")
    max_metrics: int = Field(32, ge=2, description="Metrics per entity vector.")
    max_carry_steps: int = Field(5, ge=0, description="Steps a missing metric keeps its last value.")
    min_anomalous_points: int = Field(1, ge=1, description="Anomalous vectors before an episode fires.")
    end_after_normal: int = Field(3, ge=1, description="Normal vectors that close an episode.")
    refresh_seconds: float = Field(600.0, gt=0, description="Open episodes re-send `firing` this often.")
    max_fits_per_advance: int = Field(16, ge=1, description="Fits run per advance (the rest queue).")
    score_interval_seconds: float | None = Field(
        None, gt=0, description="Score pending vectors this often (event time); null = every step."
    )
    snapshot_interval_seconds: float = Field(
        300.0,
        ge=0,
        description="Wall seconds between snapshots of changed entities (window included, ~0.1 MB "
        "each); also written before partitions are given up. Needs detection.snapshot_interval_seconds > 0.",
    )


class DetectionConfig(StrictModel):
    metric: MetricDetectorConfig = MetricDetectorConfig()
    logs: LogDetectorConfig = LogDetectorConfig()
    multivariate: MultivariateDetectorConfig = MultivariateDetectorConfig()
    snapshot_interval_seconds: float = Field(
        10.0,
        ge=0,
        description="Wall seconds between detector-state snapshots of changed series; input offsets "
        "are committed with each snapshot so a restart resumes exactly from it (0: no snapshots, commit per batch).",
    )
