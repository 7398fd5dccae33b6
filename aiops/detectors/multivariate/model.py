"""Building blocks of the multivariate detector: per-entity vectors, rolling windows and fitted forests.

`EntityVectorizer` turns one entity's metric samples into one vector per event-time step (last value per
metric, bounded carry-forward, new metrics append a column). `_Window` is the bounded ring buffer of an
entity's recent vectors; `fit_model` fits an IsolationForest on it over robust and conditional z-scores and
returns a `_Model` that scores batches and explains anomalies. Pure (no I/O, no clock); the episode logic,
calibration thresholds and signals live in `aiops.detectors.multivariate.detector`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from aiops.events import MetricEvent

TOP_METRICS = 3
Vector = tuple[int, list[float]]
"""(step index, values per feature; NaN = missing) of one completed step."""


def feature_name(event: MetricEvent) -> str:
    """Column name of a sample: the metric name, with its sorted labels when it has any."""
    if not event.labels:
        return event.name
    return event.name + "{" + ",".join(f"{k}={v}" for k, v in sorted(event.labels.items())) + "}"


class EntityVectorizer:
    """One entity's samples to one vector per event-time step (see the module docstring)."""

    def __init__(self, step_seconds: float = 60.0, max_metrics: int = 32, max_carry_steps: int = 5) -> None:
        self.step_seconds, self.max_metrics, self.max_carry_steps = step_seconds, max_metrics, max_carry_steps
        self.names: list[str] = []
        self.services: list[str] = []
        self._index: dict[str, int] = {}
        self._last: list[float] = []
        self._seen: list[int] = []
        self._current: dict[int, float] = {}
        self.bucket: int | None = None
        self.closed = -(2**62)
        self.late = 0
        self.dropped_metrics = 0

    def add(self, event: MetricEvent) -> Vector | None:
        """Take one sample; return the previous step's vector when this sample opens a later step."""
        bucket = int(event.epoch // self.step_seconds)
        if bucket <= self.closed or (self.bucket is not None and bucket < self.bucket):
            self.late += 1
            return None
        done = self.close() if self.bucket is not None and bucket > self.bucket else None
        self.bucket = bucket
        name = feature_name(event)
        index = self._index.get(name)
        if index is None:
            if len(self.names) >= self.max_metrics:
                self.dropped_metrics += 1
                return done
            index = self._index[name] = len(self.names)
            self.names.append(name)
            self.services.append(event.service)
            self._last.append(math.nan)
            self._seen.append(bucket)
        self._current[index] = event.value
        self.services[index] = event.service
        return done

    def close(self) -> Vector | None:
        """Complete the open step (if any): its vector, with carry-forward for metrics it lacks."""
        bucket = self.bucket
        if bucket is None:
            return None
        for index, value in self._current.items():
            self._last[index], self._seen[index] = value, bucket
        limit = self.max_carry_steps
        vector = [v if bucket - s <= limit else math.nan for v, s in zip(self._last, self._seen, strict=True)]
        self._current.clear()
        self.bucket, self.closed = None, bucket
        return bucket, vector

    def snapshot(self) -> dict[str, Any]:
        return {"names": self.names, "services": self.services, "last": [json_float(v) for v in self._last],
                "seen": self._seen, "current": [[i, v] for i, v in self._current.items()],
                "bucket": self.bucket, "closed": self.closed}

    def load(self, state: dict[str, Any]) -> None:
        self.names, self.services = list(state["names"]), list(state["services"])
        self._index = {name: i for i, name in enumerate(self.names)}
        self._last, self._seen = [optional_float(v) for v in state["last"]], list(state["seen"])
        self._current = {int(i): float(v) for i, v in state["current"]}
        self.bucket, self.closed = state["bucket"], state["closed"]


class _Window:
    """Ring buffer of the last `capacity` vectors (float32, NaN = missing); rows and columns grow lazily."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.data = np.full((min(capacity, 64), 0), np.nan, dtype=np.float32)
        self.size = 0
        self.head = 0

    def append(self, rows: np.ndarray) -> None:
        if rows.shape[1] > self.data.shape[1]:
            pad = np.full((self.data.shape[0], rows.shape[1] - self.data.shape[1]), np.nan, dtype=np.float32)
            self.data = np.hstack([self.data, pad])
        for row in rows:
            if self.size == self.data.shape[0] and self.size < self.capacity:  # still linear: grow rows
                grown = np.full((min(self.capacity, 2 * self.size), self.data.shape[1]), np.nan, np.float32)
                grown[: self.size] = self.data
                self.data, self.head = grown, self.size
            self.data[self.head, : row.shape[0]] = row
            self.data[self.head, row.shape[0]:] = np.nan
            self.head = (self.head + 1) % self.data.shape[0]
            self.size = min(self.size + 1, self.data.shape[0])

    def rows(self) -> np.ndarray:
        """The held vectors, oldest first."""
        if self.size < self.data.shape[0]:
            return self.data[: self.size].copy()
        return np.vstack([self.data[self.head:], self.data[: self.head]])


@dataclass(slots=True)
class _Model:
    forest: Any
    median: np.ndarray
    scale: np.ndarray
    mean: np.ndarray
    precision: np.ndarray
    reference: np.ndarray
    tail_start: float
    tail_mean: float
    tail_share: float
    low: np.ndarray = field(default_factory=lambda: np.zeros(0))
    high: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def score(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Raw anomaly scores (one `score_samples` call) and calibrated scores 1 - p of imputed vectors."""
        features = self.features(x)
        raw = -np.asarray(self.forest.score_samples(features), dtype=np.float64)
        excess = (np.maximum(features - self.high, 0.0) + np.maximum(self.low - features, 0.0)).sum(axis=1)
        return raw, 1.0 - self.tail_p(raw) * np.exp(-excess)

    def tail_p(self, raw: np.ndarray) -> np.ndarray:
        """P(training anomaly score >= raw), empirical in the body, exponential past the top decile."""
        n = self.reference.shape[0]
        body = (n - np.searchsorted(self.reference, raw, side="left") + 1.0) / (n + 1.0)
        tail = self.tail_share * np.exp(-(raw - self.tail_start) / self.tail_mean)
        return np.asarray(np.where(raw > self.tail_start, np.minimum(tail, body), body), dtype=np.float64)

    def features(self, x: np.ndarray) -> np.ndarray:
        """What the forest sees: robust z per metric, then conditional z per metric given the others."""
        marginal = (x - self.median) / self.scale
        conditional = ((x - self.mean) @ self.precision) / np.sqrt(np.diag(self.precision))
        return np.hstack([marginal, conditional])

    def contributions(self, x: np.ndarray, names: list[str]) -> dict[str, float]:
        """Share of each metric in the larger of its |marginal z| and |conditional z| (top few, sum 1)."""
        z = np.abs(self.features(x[None, :])[0])
        d = x.shape[0]
        weight = np.maximum(z[:d], z[d:])
        total = float(weight.sum()) or 1.0
        return {names[j]: round(float(weight[j]) / total, 4) for j in np.argsort(-weight)[:TOP_METRICS]}


def fit_model(rows: np.ndarray, seed: int, n_estimators: int, max_samples: int, contamination: float) -> _Model:
    """Impute NaN with column medians, fit the forest on `features`, build the calibration reference."""
    with np.errstate(all="ignore"):
        median = np.nan_to_num(np.nanmedian(rows, axis=0).astype(np.float64)) if rows.shape[1] else np.zeros(0)
    x = np.where(np.isnan(rows), median, rows).astype(np.float64)
    spread = np.std(x, axis=0)
    scale = np.maximum(1.4826 * np.median(np.abs(x - median), axis=0), np.maximum(spread, 1e-9) * 0.1)
    cov = np.atleast_2d(np.cov(x, rowvar=False)) + np.diag(np.maximum(spread**2, 1e-12) * 1e-3 + 1e-12)
    model = _Model(None, median, scale, x.mean(axis=0), np.linalg.inv(cov), np.zeros(0), 0.0, 1.0, 1.0)
    features = model.features(x)
    # Imported here: scikit-learn costs ~80 MB and a second of start-up, and the detector is off by default.
    from sklearn.ensemble import IsolationForest  # noqa: PLC0415

    model.forest = IsolationForest(n_estimators=n_estimators, max_samples=min(max_samples, x.shape[0]),
                                   random_state=seed).fit(features)
    model.low, model.high = features.min(axis=0), features.max(axis=0)
    raw = np.sort(-model.forest.score_samples(features))
    model.reference = raw[: max(10, raw.shape[0] - int(contamination * raw.shape[0]))]
    top = model.reference[-max(5, model.reference.shape[0] // 10):]
    model.tail_start, model.tail_share = float(top[0]), top.shape[0] / model.reference.shape[0]
    model.tail_mean = max(float(np.mean(top - top[0])), 1e-4)
    return model


def json_float(value: float) -> float | None:
    """NaN and infinities as JSON null."""
    return None if math.isnan(value) or math.isinf(value) else value


def optional_float(value: float | None, default: float = math.nan) -> float:
    """JSON null back to a float (NaN by default)."""
    return default if value is None else float(value)
