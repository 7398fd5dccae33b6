"""Per-series metric anomaly tracking: score each sample, merge anomalous points into episodes.

`MetricEpisodeTracker` owns one `SeriesDetector` per live series (service, host, name, labels), flags points
whose calibrated score reaches the threshold once warm, and merges anomalous points into episodes: after
`min_anomalous_points` consecutive ones (like Prometheus' `for:`; a point low only by the detector's repeat
damping counts, `PointScore.undamped`) a `firing` signal dated at the onset, `resolved` after
`end_after_normal` normal points, `firing` re-sent every `refresh_seconds` of event time. `min_deviation_sigmas`
ignores flagged points within that many of the series' own noise sigmas (`NoiseScale`) unless the verdict is
about shape (`PointScore.shape`). `recovery_seconds`: a point returning to the level the series calmly held
(`recovery.NormalLevel`) counts as normal, never opening or confirming an episode. A `SilenceWatch` fires
`missing_data` for a silent series. `window_points`: evidence carries the last samples and bands
(`window.RecentSamples`, snapshotted). Live series are capped, least recently seen evicted (counted).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from aiops.detectors.base import PointScore, SeriesDetector, SeriesDetectorFactory
from aiops.detectors.episodes.missing_data import Cadence, SilenceWatch
from aiops.detectors.episodes.noise import NoiseScale
from aiops.detectors.episodes.recovery import NormalLevel
from aiops.detectors.episodes.window import RecentSamples
from aiops.events import MetricEvent, series_key
from aiops.signals import Evidence, Signal, dt_from_epoch

HIGH_SCORE = 1.0 - 1e-7
SNAPSHOT_VERSION = 1

SeriesRestorer = Callable[[dict[str, Any]], SeriesDetector]
"""Rebuilds a series detector from its `snapshot()`."""
SeriesMaker = Callable[[str], SeriesDetector]
"""Makes the detector of a series being admitted, given its key."""


@dataclass(slots=True)
class _Episode:
    start: float
    peak_ts: float
    peak: PointScore
    peak_value: float
    normal_run: int = 0
    last_sent: float = 0.0
    anomalous_points: int = 1
    confirmed: bool = False


RECOVERY_SIGMAS = 3.0
"""The noise band of the recovery rule in noise sigmas when the significance gate is off (else the gate's)."""


@dataclass(slots=True)
class _Series:
    detector: SeriesDetector
    episode: _Episode | None = None
    last_event: MetricEvent | None = field(default=None, repr=False)
    noise: NoiseScale = field(default_factory=NoiseScale)
    level: NormalLevel = field(default_factory=NormalLevel)
    recent: RecentSamples | None = field(default=None, repr=False)


class MetricEpisodeTracker:
    """Scores metric samples per series and emits one firing/resolved signal pair per episode."""

    def __init__(
        self,
        factory: SeriesDetectorFactory,
        threshold: float,
        end_after_normal: int = 3,
        max_series: int = 200_000,
        refresh_seconds: float = 60.0,
        restorer: SeriesRestorer | None = None,
        min_anomalous_points: int = 1,
        silence: SilenceWatch | None = None,
        min_deviation_sigmas: float | None = None,
        maker: SeriesMaker | None = None,
        window_points: int = 0,
        recovery_seconds: float | None = None,
    ) -> None:
        """`maker`, when given, makes an admitted series' detector from its key instead of `factory` (the
        micro-batched ensemble hands out the detector it prepared for that key); `window_points`: samples of
        the series an episode's evidence carries (0: none); `recovery_seconds`: how long after an episode's
        last anomalous point a return to the level before it is recovery (None: no recovery rule)."""
        self.recovery_seconds = recovery_seconds
        self.window_points = window_points
        self.min_deviation_sigmas = min_deviation_sigmas
        self.silence = silence
        self._maker = maker
        self.min_anomalous_points = min_anomalous_points
        self.refresh_seconds = refresh_seconds
        self._restorer = restorer
        self.last_key = ""
        """The series key of the sample observed last."""
        self._factory = factory
        self.threshold = threshold
        self.end_after_normal = end_after_normal
        self.max_series = max_series
        self._series: OrderedDict[str, _Series] = OrderedDict()
        self.evicted = 0

    @property
    def live_series(self) -> int:
        return len(self._series)

    def observe(self, event: MetricEvent, key: str | None = None) -> Signal | None:
        """Score then learn one sample; return a signal when an episode starts or ends. `key`: the event's
        `series_key`, when already known. The end of a series' silence (missing data) is reported by
        `observe_all` only."""
        return self._observe(event, key, None)

    def observe_all(self, event: MetricEvent, key: str | None = None) -> list[Signal]:
        """`observe`, returning every signal the sample completes: the end of the series' silence (it
        reports again), then an episode's start or end."""
        signals: list[Signal] = []
        signal = self._observe(event, key, signals)
        if signal is not None:
            signals.append(signal)
        return signals

    def _observe(self, event: MetricEvent, key: str | None, ended: list[Signal] | None) -> Signal | None:
        """Score then learn one sample; its episode signal, if any. A silence's end goes to `ended` (when
        given: `observe` has nowhere to put it)."""
        if key is None:
            key = series_key(event)
        self.last_key = key
        series = self._series.get(key)
        if series is None:
            series = self._admit(key)
        else:
            self._series.move_to_end(key)
        ts = event.epoch
        verdict = series.detector.score(ts, event.value)
        series.detector.learn(ts, event.value)
        series.last_event = event
        if self.window_points:
            if series.recent is None:
                series.recent = RecentSamples(self.window_points)
            series.recent.record(ts, event.value, verdict.expected, verdict.lower, verdict.upper)
        if self.silence is not None:
            before = self.silence.observe(key, ts)
            if before is not None:
                resolved = self._silence_ended(key, event, before, ts)
                if ended is not None:
                    ended.append(resolved)
        anomalous = self._judge(series, ts, event.value, verdict)
        signal = self._update_episode(key, series, event, ts, verdict, anomalous)
        episode = series.episode
        if anomalous and self.recovery_seconds is not None and episode is not None and episode.confirmed:
            series.level.pin(ts, self.recovery_seconds)
        return signal

    def _judge(self, series: _Series, ts: float, value: float, verdict: PointScore) -> bool:
        """Whether the point counts as anomalous for the series' episode: flagged (or, while confirming, flagged
        before damping), significant, and not a return to the series' normal level. Learns the noise scale
        and the normal level."""
        anomalous = verdict.warm and verdict.score >= self.threshold
        if not anomalous and verdict.warm and verdict.undamped is not None:
            episode = series.episode  # a just-opened episode is confirmed by points still anomalous undamped
            anomalous = episode is not None and not episode.confirmed and verdict.undamped >= self.threshold
        if self.min_deviation_sigmas is not None and anomalous:
            anomalous = self._significant(series.noise, value, verdict)
        if self.recovery_seconds is not None:
            sigma = series.noise.sigma
            expected = verdict.expected if verdict.warm else None
            band = None if sigma is None else (self.min_deviation_sigmas or RECOVERY_SIGMAS) * sigma
            if anomalous and band is not None and expected is not None and not verdict.shape:
                anomalous = not series.level.is_recovery(ts, value, expected, band)
            series.level.learn(ts, value, expected, band, anomalous)
        if self.min_deviation_sigmas is not None or self.recovery_seconds is not None:
            series.noise.learn(value)  # the noise scale serves only the gate and the recovery rule
        return anomalous

    def _significant(self, noise: NoiseScale, value: float, verdict: PointScore) -> bool:
        """The value is at least `min_deviation_sigmas` noise sigmas from the expected one (True when
        either is unknown: counters' rates, a noise scale still warming up; and for shape anomalies:
        flat lines, variance changes)."""
        sigma = noise.sigma
        if sigma is None or verdict.expected is None or self.min_deviation_sigmas is None:
            return True
        if verdict.shape:  # a flat line sits at its expected value: distance says nothing
            return True
        return abs(value - verdict.expected) >= self.min_deviation_sigmas * sigma

    def detector_of(self, key: str) -> SeriesDetector | None:
        """The live detector of series `key`, if any (without touching its recency)."""
        series = self._series.get(key)
        return series.detector if series is not None else None

    def _admit(self, key: str, detector: SeriesDetector | None = None) -> _Series:
        while len(self._series) >= self.max_series:
            evicted, _ = self._series.popitem(last=False)
            self.evicted += 1
            if self.silence is not None:
                self.silence.forget(evicted)
        if detector is None:
            detector = self._maker(key) if self._maker is not None else self._factory()
        series = _Series(detector)
        self._series[key] = series
        return series

    def export_series(self, key: str) -> dict[str, Any] | None:
        """JSON-serialisable state of one series (detector and open episode), or None if not live."""
        series = self._series.get(key)
        if series is None:
            return None
        episode = series.episode
        state = {
            "v": SNAPSHOT_VERSION,
            "detector": series.detector.snapshot(),
            "episode": None if episode is None else {**asdict(episode), "peak": asdict(episode.peak)},
            "noise": series.noise.dump(),
            "level": series.level.dump(),
        }
        if series.recent is not None and len(series.recent):
            state["recent"] = series.recent.dump()
        cadence = self.silence.export(key) if self.silence is not None else None
        if cadence is not None and series.last_event is not None:  # a silence is reported with the series' identity
            state["cadence"] = cadence
            state["last_event"] = series.last_event.model_dump(mode="json")
        return state

    def import_series(self, key: str, state: dict[str, Any]) -> bool:
        """Restore one series from `export_series`; False (nothing changed) without a restorer or on an
        unknown snapshot version."""
        if self._restorer is None or state.get("v") != SNAPSHOT_VERSION:
            return False
        series = self._admit(key, self._restorer(state["detector"]))
        episode = state.get("episode")
        if episode is not None:
            series.episode = _Episode(**{**episode, "peak": PointScore(**episode["peak"])})
        noise = state.get("noise")  # absent in snapshots from before the significance gate: re-learnt
        if noise is not None:
            series.noise = NoiseScale(float(noise["mean_abs_diff"]), int(noise["count"]), float(noise["previous"]))
        level = state.get("level")  # absent before the recovery rule: the normal level is re-learnt
        if level is not None:
            series.level = NormalLevel.load(level)
        recent = state.get("recent")  # absent before evidence windows were snapshotted: refilled
        if recent is not None and self.window_points:
            series.recent = RecentSamples.load(self.window_points, recent)
        cadence, last_event = state.get("cadence"), state.get("last_event")
        if cadence is not None and last_event is not None and self.silence is not None:
            series.last_event = MetricEvent.model_validate(last_event)
            self.silence.restore(key, cadence)
        return True

    def forget(self, keys: Iterable[str]) -> None:
        """Drop series (e.g. of partitions this worker no longer owns)."""
        for key in keys:
            self._series.pop(key, None)
            if self.silence is not None:
                self.silence.forget(key)

    def advance(self, watermark: float, newest: float) -> list[Signal]:
        """`missing_data` firing signals of series overdue at `watermark` (`newest`: newest event time seen)."""
        if self.silence is None:
            return []
        signals: list[Signal] = []
        for silence in self.silence.advance(watermark, newest):
            series = self._series.get(silence.key)
            if series is None or series.last_event is None:
                continue
            signals.append(self._silence_signal(silence.key, series.last_event, silence.cadence, "firing", watermark))
        return signals

    def _silence_ended(self, key: str, event: MetricEvent, before: Cadence, ts: float) -> Signal:
        """The resolved signal of a series' silence; `before`: the series' cadence before the sample that ended
        it (its usual gap, not the silence)."""
        assert self.silence is not None
        signal = self._silence_signal(key, event, before, "resolved", ts)
        self.silence.resume(key)
        return signal

    def _silence_signal(
        self, key: str, event: MetricEvent, cadence: Cadence, status: str, now: float
    ) -> Signal:
        """Firing or resolved signal of a series' silence (`cadence`: as it was during the silence)."""
        since = cadence.silent_since if cadence.silent_since is not None else now
        seen = cadence.last_ts
        silent_for = now - seen
        evidence = Evidence(  # no observed/expected value: root-cause ranking treats it like an alert
            detector="missing_data",
            score=1.0,
            threshold=self.threshold,
            onset=dt_from_epoch(since),
            details={
                "kind": "missing_data",
                "silent_seconds": silent_for,
                "usual_gap_seconds": cadence.gap,
                "last_seen": dt_from_epoch(seen).isoformat(),
            },
        )
        verb = "no data for" if status == "firing" else "data again after"
        summary = f"{event.name}: {verb} {silent_for:.0f}s (usually every {cadence.gap:.3g}s)"
        return _series_signal(event, f"{key}#missing#{since:.3f}", status, "warning", (since, now), summary, evidence)

    def _update_episode(
        self, key: str, series: _Series, event: MetricEvent, ts: float, verdict: PointScore, anomalous: bool
    ) -> Signal | None:
        if anomalous:
            return self._on_anomalous(key, series, event, ts, verdict)
        episode = series.episode
        if episode is None:
            return None
        if not episode.confirmed:  # too short to count (Prometheus' `for:`): forget it silently
            series.episode = None
            return None
        episode.normal_run += 1
        if episode.normal_run < self.end_after_normal:
            return None
        series.episode = None
        return self._signal(key, episode, event, ts, "resolved")

    def _on_anomalous(
        self, key: str, series: _Series, event: MetricEvent, ts: float, verdict: PointScore
    ) -> Signal | None:
        episode = series.episode
        if episode is None:
            episode = series.episode = _Episode(ts, ts, verdict, event.value, last_sent=ts)
        else:
            episode.normal_run = 0
            episode.anomalous_points += 1
            if verdict.score > episode.peak.score:
                episode.peak, episode.peak_ts, episode.peak_value = verdict, ts, event.value
        due = not episode.confirmed and episode.anomalous_points >= self.min_anomalous_points
        refresh = episode.confirmed and ts - episode.last_sent >= self.refresh_seconds
        if not (due or refresh):
            return None
        episode.confirmed, episode.last_sent = True, ts
        return self._signal(key, episode, event, ts, "firing")

    def _signal(self, key: str, episode: _Episode, event: MetricEvent, ts: float, status: str) -> Signal:
        peak = episode.peak
        severity = "high" if peak.score >= HIGH_SCORE else "warning"
        direction = "above" if peak.expected is not None and episode.peak_value > peak.expected else "below"
        series = self._series[key]
        detector_name = getattr(series.detector, "name", "detector")
        details: dict[str, float | str] = {"detail": peak.detail} if peak.detail else {}
        sigma = series.noise.sigma
        if self.min_deviation_sigmas is not None and sigma is not None:
            details["noise_sigma"] = sigma  # what the significance gate measured the deviation against
        evidence = Evidence(
            detector=detector_name,
            score=peak.score,
            threshold=self.threshold,
            observed=episode.peak_value,
            expected=peak.expected,
            lower=peak.lower,
            upper=peak.upper,
            onset=dt_from_epoch(episode.start),
            peak_at=dt_from_epoch(episode.peak_ts),
            details=details,
            window=series.recent.window() if series.recent is not None else None,
        )
        expected = f"{peak.expected:.4g}" if peak.expected is not None else "n/a"
        summary = f"{event.name} {direction} baseline: {episode.peak_value:.4g} vs expected {expected}"
        fingerprint = f"{key}#{episode.start:.3f}"
        return _series_signal(event, fingerprint, status, severity, (episode.start, ts), summary, evidence)


def _series_signal(
    event: MetricEvent, fingerprint: str, status: str, severity: str, times: tuple[float, float], summary: str,
    evidence: Evidence,
) -> Signal:
    """A `metric_anomaly` signal of `event`'s series; `times` = (started at, now)."""
    return Signal(
        origin="metric_anomaly",
        fingerprint=fingerprint,
        name=event.name,
        service=event.service,
        host=event.host,
        labels=event.labels,
        status="firing" if status == "firing" else "resolved",
        severity=severity,
        ts=dt_from_epoch(times[1]),
        started_at=dt_from_epoch(times[0]),
        summary=summary,
        evidence=evidence,
        source=event.source,
    )
