"""Configuration sections of the detectors (`detection:` in the YAML). Models only."""

from __future__ import annotations

from pydantic import Field

from aiops.config_base import StrictModel


class MetricDetectorConfig(StrictModel):
    threshold: float = Field(0.9999, gt=0, lt=1, description="Calibrated score (1 - tail p) that flags.")
    warmup_points: int = Field(30, ge=2)
    alpha: float = Field(0.05, gt=0, lt=1, description="EWMA smoothing factor of the baseline.")
    end_after_normal_points: int = Field(3, ge=1, description="Normal points that close an episode.")
    refresh_seconds: float = Field(
        60.0, gt=0, description="An open episode re-sends `firing` this often (event time), so correlation can "
        "resolve members whose detector state was lost (see correlation.stale_seconds)."
    )
    max_series: int = Field(200_000, ge=1, description="Live series cap; idle ones are evicted first.")

class LogDetectorConfig(StrictModel):
    window_seconds: float = Field(60.0, gt=0)
    min_errors: int = Field(5, ge=1, description="Error lines per window needed to flag a burst.")
    ratio_over_baseline: float = Field(3.0, gt=1, description="Burst = errors above this x baseline.")
    error_level: str = Field("error", description="Lines at or above this level count as errors.")
    max_samples: int = Field(5, ge=0, le=50)

class DetectionConfig(StrictModel):
    metric: MetricDetectorConfig = MetricDetectorConfig()
    logs: LogDetectorConfig = LogDetectorConfig()
