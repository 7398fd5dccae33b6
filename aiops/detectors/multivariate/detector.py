"""Multivariate anomalies per entity: an IsolationForest over the entity's metric vector per time step.

Entity: the host, or the service when the event has no host; its samples become one vector per event-time
step (`model.EntityVectorizer`). `MultivariateDetector` keeps per entity a bounded window of recent vectors
and a forest refitted on it (`model.fit_model`), scores each entity's pending vectors in one call per
`advance` (a call costs far more than a row), calibrates the raw score into a tail probability so one
threshold serves every entity, and names the metrics that contributed. The forest sees each metric twice,
as a robust z vs the window and a conditional z given the other metrics, because axis-parallel isolation
trees barely see correlation breaks on raw values. Episodes as in `episodes.tracker`. Snapshots hold
vectorizers, windows and episodes but no model: a restored entity is refitted from its window. Cost
model, calibration and snapshot details: `MultivariateDetector`. Pure: no I/O, no clock; no univariate
series.
"""

from __future__ import annotations

import base64
import math
import zlib
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from aiops.detectors.multivariate.model import (
    EntityVectorizer,
    Vector,
    _Model,
    _Window,
    fit_model,
    json_float,
    optional_float,
)
from aiops.events import MetricEvent
from aiops.signals import Evidence, Signal, dt_from_epoch

SNAPSHOT_VERSION = 1
HIGH_SCORE = 1.0 - 1e-6


@dataclass(slots=True)
class _Episode:
    start: float
    peak_ts: float
    peak: float
    raw: float
    expected: float
    top: dict[str, float]
    service: str
    normal_run: int = 0
    last_sent: float = 0.0
    anomalous: int = 1
    confirmed: bool = False


@dataclass(slots=True)
class _Entity:
    vectorizer: EntityVectorizer
    window: _Window
    host: str = ""
    model: _Model | None = None
    model_width: int = 0
    since_fit: int = 0
    fits: int = 0
    pending: list[Vector] = field(default_factory=list)
    episode: _Episode | None = None


class MultivariateDetector:
    """Per-entity IsolationForest over metric vectors; emits one firing/resolved pair per episode.

    Vectors: `step_seconds` buckets, last value per metric, carry-forward of a missing metric for up to
    `max_carry_steps` then NaN, new metric names append a column, at most `max_metrics`; steps without
    samples make no vector. Per entity a float32 ring buffer of the last `window` vectors and a forest
    refitted on it every `refit_every` new vectors once `min_fit` are held (fits queued, at most
    `max_fits_per_advance` per call); the conditional z comes from the window's ridge-regularised inverse
    covariance.

    Cost model: `advance(now)` closes the steps ended by `now` and scores every pending vector in ONE
    `score_samples` call per fitted entity; a call costs c0 + c1 * rows (c0 ~ 30 ms for 100 trees, c1 ~ 15
    us on the dev box, see bench/multivariate.py), so a vector costs c0 / batch + c1 and one core serves
    about interval / c0 entities; `score_interval_seconds` (batch = interval / step) trades latency for
    throughput.

    Calibration: p = tail probability of the raw score (-score_samples) among the training window's own
    scores (empirical CDF after trimming the top `contamination` share, exponential tail past the top
    decile), times exp(-distance beyond the training envelope in z units) because trees cannot split
    outside the range they were grown on; score = 1 - p, so one threshold serves every entity (in-sample
    reference: slightly optimistic). Explanation, for anomalous vectors only (O(d^2)): a metric's share of
    max(|marginal z|, |conditional z|).

    Episodes: `min_anomalous_points` fire at onset, `end_after_normal` resolve, `refresh_seconds` re-send.
    Snapshots (whole detector, or one entity with `export_entity`, which the worker writes per entity) hold
    vectorizers, windows (zlib-compressed float32) and episodes: a restored entity is refitted from its
    window (seeded by seed, entity, fit number) on the next advances, so its model may include up to
    `refit_every` newer vectors than the lost one.
    """

    def __init__(self, step_seconds: float = 60.0, window: int = 1440, refit_every: int = 360, min_fit: int = 200,
                 contamination: float = 0.01, threshold: float = 0.9999, seed: int = 0, max_entities: int = 10_000,
                 max_metrics: int = 32, max_carry_steps: int = 5, n_estimators: int = 100, max_samples: int = 256,
                 min_anomalous_points: int = 1, end_after_normal: int = 3, refresh_seconds: float = 600.0,
                 max_fits_per_advance: int = 16, score_interval_seconds: float | None = None) -> None:
        self.step_seconds, self.window, self.refit_every, self.min_fit = step_seconds, window, refit_every, min_fit
        self.contamination, self.threshold, self.seed, self.max_entities = contamination, threshold, seed, max_entities
        self.max_metrics, self.max_carry_steps, self.n_estimators = max_metrics, max_carry_steps, n_estimators
        self.max_samples, self.min_anomalous_points = max_samples, min_anomalous_points
        self.end_after_normal = end_after_normal
        self.refresh_seconds, self.max_fits_per_advance = refresh_seconds, max_fits_per_advance
        self.score_interval = score_interval_seconds if score_interval_seconds is not None else step_seconds
        self._entities: OrderedDict[str, _Entity] = OrderedDict()
        self._open: dict[int, set[str]] = {}
        self._fit_queue: OrderedDict[str, None] = OrderedDict()
        self._last_scored = -math.inf
        self.evicted = self.score_calls = self.scored_vectors = self.fit_count = 0

    @property
    def live_entities(self) -> int:
        return len(self._entities)

    def observe(self, event: MetricEvent) -> None:
        """Take one sample into its entity's current step (no scoring here)."""
        key = entity_of(event)
        entity = self._entities.get(key)
        if entity is None:
            entity = self._admit(key)
        else:
            self._entities.move_to_end(key)
        entity.host = event.host
        before = entity.vectorizer.bucket
        done = entity.vectorizer.add(event)
        if done is not None:
            entity.pending.append(done)
        if entity.vectorizer.bucket is not None and entity.vectorizer.bucket != before:
            self._open.setdefault(entity.vectorizer.bucket, set()).add(key)

    def advance(self, now: float) -> list[Signal]:
        """Event time reached `now`: score completed steps if `score_interval_seconds` has passed."""
        if now - self._last_scored < self.score_interval:
            return []
        self._last_scored = now
        return self.score_ready(now)

    def score_ready(self, now: float) -> list[Signal]:
        """Close steps ended by `now`, score every pending vector (one call per model), learn, run due fits."""
        for bucket in sorted(b for b in self._open if (b + 1) * self.step_seconds <= now):
            for key in self._open.pop(bucket):
                entity = self._entities.get(key)
                if entity is not None and entity.vectorizer.bucket == bucket:
                    entity.pending.append(entity.vectorizer.close())  # type: ignore[arg-type]  # bucket is open
        signals: list[Signal] = []
        for key, entity in self._entities.items():
            if entity.pending:
                signals.extend(self._process(key, entity))
        for _ in range(min(self.max_fits_per_advance, len(self._fit_queue))):
            key, _none = self._fit_queue.popitem(last=False)
            if key in self._entities:
                self._fit(key, self._entities[key])
        signals.sort(key=lambda s: s.ts)
        return signals

    def _admit(self, key: str) -> _Entity:
        while len(self._entities) >= self.max_entities:
            gone, _entity = self._entities.popitem(last=False)
            self._fit_queue.pop(gone, None)
            self.evicted += 1
        entity = _Entity(EntityVectorizer(self.step_seconds, self.max_metrics, self.max_carry_steps),
                         _Window(self.window))
        self._entities[key] = entity
        return entity

    def _process(self, key: str, entity: _Entity) -> list[Signal]:
        pending, entity.pending = entity.pending, []
        width = max(len(values) for _b, values in pending)
        rows = np.full((len(pending), width), np.nan, dtype=np.float64)
        for i, (_b, values) in enumerate(pending):
            rows[i, : len(values)] = values
        signals = self._score(key, entity, pending, rows) if entity.model is not None else []
        entity.window.append(rows.astype(np.float32))
        entity.since_fit += len(pending)
        due = entity.since_fit >= self.refit_every if entity.model is not None else entity.window.size >= self.min_fit
        if due:
            self._fit_queue[key] = None
        return signals

    def _score(self, key: str, entity: _Entity, pending: list[Vector], rows: np.ndarray) -> list[Signal]:
        model = entity.model
        assert model is not None
        d = entity.model_width
        x = np.full((rows.shape[0], d), np.nan)
        x[:, : min(d, rows.shape[1])] = rows[:, :d]
        x = np.where(np.isnan(x), model.median, x)
        raw, scores = model.score(x)
        self.score_calls += 1
        self.scored_vectors += rows.shape[0]
        tracked = (self._track(key, entity, bucket * self.step_seconds, float(scores[i]), float(raw[i]), x[i])
                   for i, (bucket, _values) in enumerate(pending))
        return [signal for signal in tracked if signal is not None]

    def _fit(self, key: str, entity: _Entity) -> None:
        rows = entity.window.rows()
        seed = int(np.random.SeedSequence([self.seed, zlib.crc32(key.encode()), entity.fits]).generate_state(1)[0])
        entity.model = fit_model(rows, seed, self.n_estimators, self.max_samples, self.contamination)
        entity.model_width = rows.shape[1]
        entity.since_fit, entity.fits = 0, entity.fits + 1
        self.fit_count += 1

    def _track(self, key: str, entity: _Entity, ts: float, score: float, raw: float, x: np.ndarray) -> Signal | None:
        episode = entity.episode
        if score < self.threshold:
            if episode is None or not episode.confirmed:  # unconfirmed (Prometheus' `for:`): forget silently
                entity.episode = None
                return None
            episode.normal_run += 1
            if episode.normal_run < self.end_after_normal:
                return None
            entity.episode = None
            return self._signal(key, entity, episode, ts, "resolved")
        if episode is None:
            episode = entity.episode = _Episode(ts, ts, score, raw, 0.0, {}, key, last_sent=ts)
            self._explain(key, entity, episode, ts, score, raw, x)
        else:
            episode.normal_run, episode.anomalous = 0, episode.anomalous + 1
            if score > episode.peak:
                self._explain(key, entity, episode, ts, score, raw, x)
        due = not episode.confirmed and episode.anomalous >= self.min_anomalous_points
        refresh = episode.confirmed and ts - episode.last_sent >= self.refresh_seconds
        if not (due or refresh):
            return None
        episode.confirmed, episode.last_sent = True, ts
        return self._signal(key, entity, episode, ts, "firing")

    def _explain(self, key: str, entity: _Entity, episode: _Episode, ts: float, score: float, raw: float,
                 x: np.ndarray) -> None:
        """Make this vector the episode's peak: score, top contributing metrics and their service."""
        model = entity.model
        assert model is not None
        names = entity.vectorizer.names
        episode.top = model.contributions(x, names[: entity.model_width])
        episode.service = entity.vectorizer.services[names.index(next(iter(episode.top)))] if episode.top else key
        episode.peak_ts, episode.peak, episode.raw = ts, score, raw
        episode.expected = float(np.median(model.reference))

    def _signal(self, key: str, entity: _Entity, episode: _Episode, ts: float, status: str) -> Signal:
        top = ",".join(f"{name}:{share:.2f}" for name, share in episode.top.items())
        details: dict[str, float | str] = {"top_metrics": top, **episode.top, "fits": float(entity.fits)}
        evidence = Evidence(detector="isolation_forest", score=episode.peak, threshold=self.threshold,
                            observed=episode.raw, expected=episode.expected, onset=dt_from_epoch(episode.start),
                            peak_at=dt_from_epoch(episode.peak_ts), details=details)
        return Signal(
            origin="metric_anomaly", fingerprint=f"{key}|multivariate#{episode.start:.3f}", name="multivariate",
            service=episode.service, host=entity.host, status="firing" if status == "firing" else "resolved",
            severity="high" if episode.peak >= HIGH_SCORE else "warning", ts=dt_from_epoch(ts),
            started_at=dt_from_epoch(episode.start), evidence=evidence,
            summary=f"{key}: unusual combination of metrics ({top}), tail p={1.0 - episode.peak:.2g}",
        )

    def forget(self, keys: list[str]) -> None:
        """Drop entities (e.g. of partitions this worker no longer owns)."""
        for key in keys:
            self._entities.pop(key, None)
            self._fit_queue.pop(key, None)

    def snapshot(self) -> dict[str, Any]:
        """JSON-serialisable state (NaN as null); models are not included (refitted on restore)."""
        entities = {key: self._export(entity) for key, entity in self._entities.items()}
        return {"v": SNAPSHOT_VERSION, "entities": entities, "last_scored": json_float(self._last_scored)}

    def restore(self, state: dict[str, Any]) -> bool:
        """Load `snapshot()` output; entities with enough history are queued for a refit. False on a bad version."""
        if state.get("v") != SNAPSHOT_VERSION:
            return False
        self._last_scored = optional_float(state["last_scored"], -math.inf)
        for key, item in state["entities"].items():
            self._import(key, item)
        return True

    def has_entity(self, key: str) -> bool:
        return key in self._entities

    def export_entity(self, key: str) -> dict[str, Any] | None:
        """One entity's state (as in `snapshot()`, with the version), or None when it is not held."""
        entity = self._entities.get(key)
        return None if entity is None else {"v": SNAPSHOT_VERSION, **self._export(entity)}

    def import_entity(self, key: str, item: dict[str, Any]) -> bool:
        """Load one `export_entity` result (queued for a refit when it has enough history); False on a bad
        version. Replaces live state of that entity, so callers import only entities they have no data for."""
        if item.get("v") != SNAPSHOT_VERSION:
            return False
        self._entities.pop(key, None)
        self._import(key, item)
        return True

    @staticmethod
    def _export(e: _Entity) -> dict[str, Any]:
        rows = e.window.rows().astype(np.float32)
        window = {"shape": list(rows.shape), "f32": base64.b64encode(zlib.compress(rows.tobytes())).decode()}
        pending = [[b, [json_float(v) for v in values]] for b, values in e.pending]
        return {"vec": e.vectorizer.snapshot(), "window": window, "host": e.host, "fits": e.fits,
                "since_fit": e.since_fit, "pending": pending,
                "episode": None if e.episode is None else asdict(e.episode)}

    def _import(self, key: str, item: dict[str, Any]) -> None:
        entity = self._admit(key)
        entity.vectorizer.load(item["vec"])
        rows = _window_rows(item["window"])
        if rows.size:
            entity.window.append(rows)
        entity.host, entity.fits, entity.since_fit = item["host"], item["fits"], item["since_fit"]
        entity.pending = [(int(b), [optional_float(v) for v in values]) for b, values in item["pending"]]
        entity.episode = None if item["episode"] is None else _Episode(**item["episode"])
        if entity.vectorizer.bucket is not None:
            self._open.setdefault(entity.vectorizer.bucket, set()).add(key)
        if entity.window.size >= self.min_fit:
            entity.fits = max(entity.fits - 1, 0)  # same seed as the lost model's fit
            self._fit_queue[key] = None


def _window_rows(window: Any) -> np.ndarray:
    """Window rows from a snapshot: compressed float32 bytes (current) or a list of rows with nulls (older)."""
    if isinstance(window, dict):
        raw = zlib.decompress(base64.b64decode(window["f32"]))
        return np.frombuffer(raw, dtype=np.float32).reshape(window["shape"]).copy()
    return np.array([[optional_float(v) for v in row] for row in window], dtype=np.float32)


def entity_of(event: MetricEvent) -> str:
    """The entity a metric sample belongs to: its host, else its service."""
    return event.host or event.service
