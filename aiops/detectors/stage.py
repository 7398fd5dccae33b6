"""Detection stage: decoded events in, signals out, on event time.

Routes metric samples to the per-series episode tracker (and, when enabled, the per-entity multivariate
detector), log lines to the log detector of their shard (the runtime shards by input partition so that
log state can be exported, imported and forgotten with the partition; `Pipeline` uses shard 0), and passes
external alerts through as signals (their own fingerprint kept; one derived from source, name, service,
host and labels otherwise; change events give no signal yet). Tracks the event-time watermark (highest
`ts` seen minus allowed lateness) and closes log windows as it advances. Pure: no I/O, no clock; the
runtime runs it over batches.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Hashable, Iterable
from typing import Any

from aiops.detectors.base import LogDetector, SeriesDetector, SeriesDetectorFactory
from aiops.detectors.config import DetectionConfig, MetricDetectorConfig
from aiops.detectors.episodes.missing_data import SilenceWatch
from aiops.detectors.episodes.tracker import MetricEpisodeTracker, SeriesRestorer
from aiops.detectors.logs.anomaly import LogAnomalyDetector
from aiops.detectors.metric.bank.banked import BankedEnsembles
from aiops.detectors.metric.bank.registry import unsupported_members
from aiops.detectors.metric.ensemble import MetricEnsemble
from aiops.detectors.metric.ewma import EwmaZScore
from aiops.detectors.multivariate.detector import MultivariateDetector
from aiops.events import AlertEvent, ChangeEvent, InboundEvent, LogEvent, MetricEvent
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
        started_at=event.starts_at or event.ts,
        ends_at=event.ends_at if event.status == "firing" else None,
        summary=summary,
        annotations=event.annotations,
        source=event.source,
    )


def series_detector_codec(metric: MetricDetectorConfig) -> tuple[SeriesDetectorFactory, SeriesRestorer]:
    """How to make a fresh per-series detector of the configured kind, and how to restore one."""
    if metric.detector == "ewma":

        def make_ewma() -> SeriesDetector:
            return EwmaZScore(alpha=metric.alpha, warmup_points=metric.warmup_points, clip_sigma=metric.clip_sigma)

        def restore_ewma(state: dict[str, Any]) -> SeriesDetector:
            return EwmaZScore.restore(
                state, alpha=metric.alpha, warmup_points=metric.warmup_points, clip_sigma=metric.clip_sigma
            )

        return make_ewma, restore_ewma
    params = ensemble_params(metric)

    def make_ensemble() -> SeriesDetector:
        return MetricEnsemble(**params)

    def restore_ensemble(state: dict[str, Any]) -> SeriesDetector:
        return MetricEnsemble.restore(state, **params)

    return make_ensemble, restore_ensemble


def ensemble_params(metric: MetricDetectorConfig) -> dict[str, Any]:
    """`MetricEnsemble` (and `EnsembleBank`) parameters from the config."""
    return {
        "threshold": metric.threshold,
        "cooldown_points": metric.cooldown_points,
        "counter_probe_points": metric.counter_probe_points,
    }


def log_detector_settings(config: DetectionConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """(`TemplateMiner` settings, `LogAnomalyDetector` parameters without the miner) from the config."""
    logs = config.logs
    miner = {
        "similarity_threshold": logs.miner.similarity_threshold,
        "parameter_values": logs.miner.parameter_values,
        "max_clusters": logs.miner.max_clusters,
        "max_line_chars": logs.miner.max_line_chars,
    }
    params: dict[str, Any] = {
        "window_seconds": logs.window_seconds,
        "warmup_seconds": logs.warmup_seconds,
        "warmup_windows": logs.warmup_windows,
        "new_template_level": logs.new_template_level,
        "error_level": logs.error_level,
        "min_errors": logs.min_errors,
        "ratio_over_baseline": logs.ratio_over_baseline,
        "min_rate_count": logs.min_rate_count,
        "rate_ratio": logs.rate_ratio,
        "baseline_alpha": logs.baseline_alpha,
        "keywords": logs.keywords,
        "max_samples": logs.max_samples,
        "max_sample_chars": logs.max_sample_chars,
        "max_keys": logs.max_keys,
        "quiet_seconds": logs.quiet_seconds,
        "advance_on_observe": False,  # windows close when the event-time watermark passes them
    }
    return miner, params


def default_log_detector(config: DetectionConfig) -> LogDetector:
    """The template-aware log anomaly detector, its windows driven by the event-time watermark."""
    miner, params = log_detector_settings(config)
    return LogAnomalyDetector(miner=TemplateMiner(**miner), **params)


def banked_ensembles(metric: MetricDetectorConfig) -> BankedEnsembles | None:
    """The micro-batched ensemble for the configured metric detector, or None when it is not the ensemble
    or has a member the bank cannot vectorise (then the scalar `MetricEnsemble` runs, same results)."""
    if metric.detector != "ensemble":
        return None
    params = ensemble_params(metric)
    if unsupported_members(MetricEnsemble(**params)):  # a member (or member option) the bank does not know
        return None
    return BankedEnsembles(**params)


def silence_watch(metric: MetricDetectorConfig) -> SilenceWatch | None:
    """The missing-data watch `detection.metric.missing_data` asks for (None when disabled)."""
    missing = metric.missing_data
    if not missing.enabled:
        return None
    return SilenceWatch(
        factor=missing.factor,
        min_silence_seconds=missing.min_silence_seconds,
        min_points=missing.min_points,
        refresh_seconds=metric.refresh_seconds,
    )


def episode_tracker(
    metric: MetricDetectorConfig, series_factory: SeriesDetectorFactory | None, banked: BankedEnsembles | None
) -> MetricEpisodeTracker:
    """The per-series tracker over the configured detector: `series_factory`'s (not restorable), the
    micro-batched ensemble's (`banked`) or the configured one's."""
    make, restore = series_detector_codec(metric)
    if banked is not None:
        make, restore = banked.make, banked.restore
    return MetricEpisodeTracker(
        series_factory or make,
        threshold=metric.threshold,
        end_after_normal=metric.end_after_normal_points,
        max_series=metric.max_series,
        refresh_seconds=metric.refresh_seconds,
        restorer=None if series_factory else restore,
        min_anomalous_points=metric.min_anomalous_points,
        silence=silence_watch(metric),
        min_deviation_sigmas=metric.min_deviation_sigmas,
        maker=banked.make_for if banked is not None else None,
        window_points=metric.evidence_window_points,
        recovery_seconds=metric.recovery_seconds,
    )


class DetectionStage:
    """Events to signals; keeps per-series and per-service detector state in memory.

    With `micro_batched` (the streaming worker) and the ensemble configured, metric series live in one
    `EnsembleBank` and `prepare(events)` scores a whole batch's samples at once before its events are
    processed one by one, in the order prepared; the verdicts, signals and snapshots are the same as
    without it, except after an event that fails in the stage before its series is scored (dead-lettered by
    the worker's guard): the bank has learnt its sample anyway.
    """

    def __init__(
        self,
        config: DetectionConfig,
        series_factory: SeriesDetectorFactory | None = None,
        log_detector: LogDetector | None = None,
        micro_batched: bool = False,
    ) -> None:
        self._banked = banked_ensembles(config.metric) if micro_batched and series_factory is None else None
        self.metrics = episode_tracker(config.metric, series_factory, self._banked)
        self._config = config
        # Log detector state per shard (the runtime uses the input partition), so it can move with it.
        self._log_shards: dict[Hashable, LogDetector] = {} if log_detector is None else {0: log_detector}
        mv = config.multivariate
        runtime_only = {"enabled", "snapshot_interval_seconds"}
        self.multivariate = MultivariateDetector(**mv.model_dump(exclude=runtime_only)) if mv.enabled else None
        self.max_event_time = float("-inf")
        self.now = float("-inf")
        """The event time `advance` last reached."""
        self._held_logs: set[Hashable] = set()
        """Shards advanced only by `advance_logs` (taken over behind event time) until `release_logs`."""
        self._prepared: deque[MetricEvent] = deque()
        """The metric events `prepare` scored and `process` has not taken yet, in order."""
        self._prepared_keys: deque[str] = deque()
        """Their series keys (computed by `prepare`), in the same order."""

    def prepare(self, events: Iterable[InboundEvent]) -> None:
        """The next events `process` gets, in that order: score their metric samples as one micro-batch
        (micro-batched ensemble only; otherwise nothing to do)."""
        if self._banked is not None:
            self._prepared.clear()
            self._prepared_keys.clear()
            metrics = [event for event in events if isinstance(event, MetricEvent)]
            keys = self._banked.prescore(metrics, self.metrics.detector_of)
            self._prepared, self._prepared_keys = deque(metrics), deque(keys)

    def _prepared_key(self, event: MetricEvent) -> str | None:
        """The series key `prepare` computed for `event` when it is the next prepared one; None otherwise (a
        sample not prepared: the tracker computes its key, and the bank scores it on the spot)."""
        prepared = self._prepared
        if prepared and prepared[0] is event:
            prepared.popleft()
            return self._prepared_keys.popleft()
        return None

    @property
    def logs(self) -> LogDetector:
        """The log detector of shard 0 (the only one `Pipeline` and replays use)."""
        return self._logs(0)

    def _logs(self, shard: Hashable) -> LogDetector:
        detector = self._log_shards.get(shard)
        if detector is None:
            detector = self._log_shards[shard] = default_log_detector(self._config)
        return detector

    def process(self, event: InboundEvent, shard: Hashable = 0) -> list[Signal]:
        """One event in; zero or more signals out (in event-time order). Log lines go to `shard`'s log
        detector (created on first use)."""
        epoch = event.epoch
        self.max_event_time = max(self.max_event_time, epoch)
        if isinstance(event, MetricEvent):
            key = self._prepared_key(event) if self._prepared else None
            if self.multivariate is not None:
                self.multivariate.observe(event)
            return self.metrics.observe_all(event, key)
        if isinstance(event, LogEvent):
            return self._logs(shard).observe(event)
        if isinstance(event, ChangeEvent):
            return []  # kept on the events topic for change correlation; no signal of its own yet
        return [alert_to_signal(event)]

    def advance(self, now: float, *, input_ended: bool = False) -> list[Signal]:
        """Event time reached `now`: close every shard's log windows, score completed entity vectors and
        report metric series that stopped reporting (not when `input_ended`: then every series stopped)."""
        self.now = max(self.now, now)
        signals: list[Signal] = [] if input_ended else self.metrics.advance(now, self.max_event_time)
        for shard, detector in self._log_shards.items():
            if shard not in self._held_logs:
                signals += detector.advance(now)
        if self.multivariate is not None:
            signals += self.multivariate.advance(now)
        return signals

    def hold_logs(self, shard: Hashable) -> None:
        """From now on `advance` leaves `shard`'s log windows alone: its lines are behind event time (a
        partition taken over from a stopped worker is re-read from its last snapshot), and closing its windows
        at event time would count every re-read line in one window. `advance_logs` moves it instead."""
        self._held_logs.add(shard)

    def advance_logs(self, shard: Hashable, now: float) -> list[Signal]:
        """Close a held shard's log windows up to `now` (at most the stage's event time)."""
        detector = self._log_shards.get(shard)
        return [] if detector is None else detector.advance(min(now, self.now))

    def release_logs(self, shard: Hashable) -> list[Signal]:
        """A held shard caught up: close its windows up to the stage's event time, and `advance` moves it again."""
        if shard not in self._held_logs:
            return []
        self._held_logs.discard(shard)
        detector = self._log_shards.get(shard)
        return [] if detector is None or self.now == float("-inf") else detector.advance(self.now)

    def has_logs(self, shard: Hashable) -> bool:
        """Whether `shard` has a live log detector (seen lines or imported state)."""
        return shard in self._log_shards

    def export_logs(self, shard: Hashable) -> dict[str, Any] | None:
        """JSON-serialisable state of a shard's log detector; None when it has none or cannot snapshot."""
        detector = self._log_shards.get(shard)
        return detector.snapshot() if isinstance(detector, LogAnomalyDetector) else None

    def import_logs(self, shard: Hashable, state: dict[str, Any]) -> None:
        """Replace a shard's log detector by one restored from `export_logs` output (ValueError, KeyError
        or TypeError on a bad or foreign-version state; the shard is then left as it was)."""
        miner, params = log_detector_settings(self._config)
        self._log_shards[shard] = LogAnomalyDetector.restore(state, miner_settings=miner, **params)

    def forget_logs(self, shard: Hashable) -> None:
        """Drop a shard's log state (its input partition moved to another worker)."""
        self._log_shards.pop(shard, None)
        self._held_logs.discard(shard)
