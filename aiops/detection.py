"""Detection stage: decoded events in, signals out, on event time.

Routes metric samples to the per-series episode tracker (and, when enabled, the per-entity multivariate
detector), log lines to the log detector, and passes
external alerts through as signals (their own fingerprint kept; one derived from source, name, service,
host and labels otherwise). Tracks the event-time watermark (highest `ts` seen minus allowed lateness)
and closes log windows as it advances. Pure: no I/O, no clock; the runtime runs it over batches.
"""

from __future__ import annotations

import hashlib
from typing import Any

from aiops.config import DetectionConfig, MetricDetectorConfig
from aiops.detectors.base import LogDetector, SeriesDetector, SeriesDetectorFactory
from aiops.detectors.ensemble import MetricEnsemble
from aiops.detectors.ewma import EwmaZScore
from aiops.detectors.log_anomaly import LogAnomalyDetector
from aiops.detectors.metric_episodes import MetricEpisodeTracker, SeriesRestorer
from aiops.detectors.multivariate import MultivariateDetector
from aiops.events import AlertEvent, LogEvent, MetricEvent
from aiops.logmining.miner import TemplateMiner
from aiops.signals import Signal


def alert_fingerprint(event: AlertEvent) -> str:
    """The source's fingerprint when given, else a stable hash of what identifies the alert."""
    if event.fingerprint:
        return f"{event.source}:{event.fingerprint}"
    labels = ",".join(f"{k}={v}" for k, v in sorted(event.labels.items()))
    identity = f"{event.source}|{event.name}|{event.service}|{event.host}|{labels}"
    return "alert:" + hashlib.sha256(identity.encode()).hexdigest()[:16]


def alert_to_signal(event: AlertEvent) -> Signal:
    summary = event.annotations.get("summary") or event.annotations.get("description") or event.name
    return Signal(
        origin="alert",
        fingerprint=alert_fingerprint(event),
        name=event.name,
        service=event.service,
        host=event.host,
        labels=event.labels,
        status=event.status,
        severity=event.severity,
        ts=event.ts,
        started_at=event.ts,
        summary=summary,
        annotations=event.annotations,
        source=event.source,
    )


def series_detector_codec(metric: MetricDetectorConfig) -> tuple[SeriesDetectorFactory, SeriesRestorer]:
    """How to make a fresh per-series detector of the configured kind, and how to restore one."""
    if metric.detector == "ewma":
        def make_ewma() -> SeriesDetector:
            return EwmaZScore(alpha=metric.alpha, warmup_points=metric.warmup_points)

        def restore_ewma(state: dict[str, Any]) -> SeriesDetector:
            return EwmaZScore.restore(state, alpha=metric.alpha, warmup_points=metric.warmup_points)

        return make_ewma, restore_ewma
    params: dict[str, Any] = {"threshold": metric.threshold, "cooldown_points": metric.cooldown_points,
                              "counter_probe_points": metric.counter_probe_points}

    def make_ensemble() -> SeriesDetector:
        return MetricEnsemble(**params)

    def restore_ensemble(state: dict[str, Any]) -> SeriesDetector:
        return MetricEnsemble.restore(state, **params)

    return make_ensemble, restore_ensemble


def default_log_detector(config: DetectionConfig) -> LogDetector:
    """The template-aware log anomaly detector, its windows driven by the event-time watermark."""
    logs = config.logs
    miner = TemplateMiner(similarity_threshold=logs.miner.similarity_threshold,
                          max_clusters=logs.miner.max_clusters, max_line_chars=logs.miner.max_line_chars)
    return LogAnomalyDetector(
        miner=miner, window_seconds=logs.window_seconds, warmup_seconds=logs.warmup_seconds,
        warmup_windows=logs.warmup_windows, new_template_level=logs.new_template_level,
        error_level=logs.error_level, min_errors=logs.min_errors, ratio_over_baseline=logs.ratio_over_baseline,
        min_rate_count=logs.min_rate_count, rate_ratio=logs.rate_ratio, baseline_alpha=logs.baseline_alpha,
        keywords=logs.keywords, max_samples=logs.max_samples, max_sample_chars=logs.max_sample_chars,
        max_keys=logs.max_keys, quiet_seconds=logs.quiet_seconds,
        advance_on_observe=False,  # windows close when the event-time watermark passes them
    )


class DetectionStage:
    """Events to signals; keeps per-series and per-service detector state in memory."""

    def __init__(
        self,
        config: DetectionConfig,
        series_factory: SeriesDetectorFactory | None = None,
        log_detector: LogDetector | None = None,
    ) -> None:
        make, restore = series_detector_codec(config.metric)
        self.metrics = MetricEpisodeTracker(
            series_factory or make,
            threshold=config.metric.threshold,
            end_after_normal=config.metric.end_after_normal_points,
            max_series=config.metric.max_series,
            refresh_seconds=config.metric.refresh_seconds,
            restorer=None if series_factory else restore,
            min_anomalous_points=config.metric.min_anomalous_points,
        )
        self.logs = log_detector or default_log_detector(config)
        mv = config.multivariate
        self.multivariate = (
            MultivariateDetector(**mv.model_dump(exclude={"enabled"})) if mv.enabled else None
        )
        self.max_event_time = float("-inf")

    def process(self, event: MetricEvent | LogEvent | AlertEvent) -> list[Signal]:
        """One event in; zero or more signals out (in event-time order)."""
        epoch = event.epoch
        self.max_event_time = max(self.max_event_time, epoch)
        if isinstance(event, MetricEvent):
            if self.multivariate is not None:
                self.multivariate.observe(event)
            signal = self.metrics.observe(event)
            return [signal] if signal is not None else []
        if isinstance(event, LogEvent):
            return self.logs.observe(event)
        return [alert_to_signal(event)]

    def advance(self, now: float) -> list[Signal]:
        """Event time reached `now`: close log windows and score completed entity vectors."""
        signals = self.logs.advance(now)
        if self.multivariate is not None:
            signals += self.multivariate.advance(now)
        return signals
