"""HTM-style anomaly likelihood: turns any raw anomaly score stream into a tail probability.

A published baseline for `aiops eval nab`, not part of the service. Re-implements the algorithm of
Numenta's anomaly likelihood (nupic `anomaly_likelihood.py`, as run by numenta/NAB's `numenta` detector;
Ahmad, Lavin, Purdy & Agha 2017) in our own code: a short moving average of the raw score is judged against
a normal distribution fitted to recent averages (`AnomalyLikelihood` gives the details). The reported score
is 1 - likelihood, i.e. on the service's calibrated scale (threshold 0.9999 = likelihood 1e-4; NAB's log
score 0.5 = likelihood 1e-5). `LikelihoodDetector` wraps any `SeriesDetector`; `raw` chooses which number
of the inner detector feeds it (default: its score); points scored while the inner detector is not warm
are not fed (so a probation of zeros does not become the baseline). `score` is pure (the re-fit it may
need is cached keyed by (ts, value) and committed by `learn`). Memory is bounded by `historic_window`
pairs of floats per series. No I/O, no clock.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from aiops.detectors.base import PointScore, SeriesDetector, non_finite_point

RED, YELLOW = 1e-5, 1e-3
NULL = (0.5, 1e3)


@dataclass(frozen=True, slots=True)
class _Fit:
    """A normal distribution of the averaged score (mean, stdev) and the averaging state after the window."""

    mean: float
    stdev: float
    recent: tuple[float, ...]
    last_likelihood: float


def tail_probability(x: float, mean: float, stdev: float) -> float:
    """Upper Gaussian tail of `x`, mirrored below the mean (nupic's `tailProbability`)."""
    if x < mean:
        x = 2.0 * mean - x
    if stdev <= 0.0:
        return 0.0 if x > mean else 0.5
    return 0.5 * math.erfc((x - mean) / stdev / 1.4142)


def _normal(sample: np.ndarray[Any, np.dtype[np.float64]], floor: bool = True) -> tuple[float, float]:
    mean, variance = float(np.mean(sample)), float(np.var(sample))
    if floor:
        mean, variance = max(mean, 0.03), max(variance, 0.0003)
    return mean, math.sqrt(variance) if variance > 0 else 0.0


class AnomalyLikelihood:
    """Likelihood state of one series.

    Per point: the raw score joins a short moving average (`averaging_window`, 10); that average is judged
    against a normal distribution fitted to the moving averages of the last `historic_window` raw scores
    (re-fitted every `reestimation_period` points, mean floored at 0.03 and variance at 0.0003, the first
    `learning_period` points skipped while still in the window); the likelihood is the Gaussian upper-tail
    probability (values below the mean are mirrored). A second consecutive "red" likelihood (<= 1e-5) is
    raised to 1e-3, and a series whose metric values are flat (variance < 1.5e-5) gets the null
    distribution. Until `learning_period + estimation_samples` points were seen the likelihood is 0.5.
    """

    def __init__(
        self,
        learning_period: int = 375,
        estimation_samples: int = 375,
        reestimation_period: int = 100,
        historic_window: int = 8640,
        averaging_window: int = 10,
    ) -> None:
        self.learning_period = learning_period
        self.probation = learning_period + estimation_samples
        self.reestimation_period = reestimation_period
        self.averaging_window = averaging_window
        self.scores: deque[float] = deque(maxlen=historic_window)
        self.values: deque[float] = deque(maxlen=historic_window)
        self.iteration = 0
        self.fit: _Fit | None = None

    def _skip(self) -> int:
        shifted = max(0, self.iteration - (self.scores.maxlen or 0))
        return min(self.iteration, max(0, self.learning_period - shifted))

    def refit(self) -> _Fit:
        """Fit the distribution on the stored window (nupic's `estimateAnomalyLikelihoods`)."""
        scores = np.fromiter(self.scores, dtype=np.float64)
        window = self.averaging_window
        sums = np.cumsum(np.concatenate(([0.0], scores)))
        counts = np.minimum(np.arange(1, scores.size + 1), window)
        averages = (sums[1:] - sums[np.maximum(np.arange(1, scores.size + 1) - window, 0)]) / counts
        skip = self._skip()
        mean, stdev = NULL
        if averages.size > skip:
            mean, stdev = _normal(averages[skip:])
            values = np.fromiter(self.values, dtype=np.float64)[skip:]
            if float(np.var(values)) < 1.5e-5:
                mean, stdev = NULL
        last = tail_probability(float(averages[-1]), mean, stdev) if averages.size else 1.0
        return _Fit(mean, stdev, tuple(scores[-window:].tolist()), last)

    def _current_fit(self) -> _Fit | None:
        if self.iteration < self.probation:
            return None
        if self.fit is None or self.iteration % self.reestimation_period == 0:
            return self.refit()
        return self.fit

    def evaluate(self, raw: float) -> tuple[float, _Fit | None]:
        """(likelihood of `raw` now, the fit to commit after it), without changing state."""
        fit = self._current_fit()
        if fit is None:
            return 0.5, None
        recent = (*fit.recent, raw)[-self.averaging_window :]
        average = sum(recent) / len(recent)
        likelihood = tail_probability(average, fit.mean, fit.stdev)
        reported = YELLOW if likelihood <= RED and fit.last_likelihood <= RED else likelihood
        return reported, _Fit(fit.mean, fit.stdev, recent, likelihood)

    def commit(self, raw: float, value: float, fit: _Fit | None) -> None:
        """Fold the point in, with the fit returned by `evaluate` for it."""
        self.fit = fit
        self.scores.append(raw)
        self.values.append(value)
        self.iteration += 1


class LikelihoodDetector:
    """Wraps a `SeriesDetector`; reports 1 - anomaly likelihood of its raw score."""

    def __init__(
        self,
        inner: SeriesDetector,
        raw: Callable[[float, float], float] | None = None,
        likelihood: AnomalyLikelihood | None = None,
    ) -> None:
        self.inner = inner
        self.name = f"{inner.name}+likelihood"
        self._raw = raw if raw is not None else (lambda ts, value: inner.score(ts, value).score)
        self.likelihood = likelihood if likelihood is not None else AnomalyLikelihood()
        self._cache: tuple[float, float, float, float, _Fit | None] | None = None

    @property
    def warm(self) -> bool:
        return self.inner.warm and self.likelihood.iteration >= self.likelihood.probation

    def _evaluate(self, ts: float, value: float) -> tuple[float, float, _Fit | None]:
        cached = self._cache
        if cached is not None and cached[0] == ts and cached[1] == value:
            return cached[2], cached[3], cached[4]
        raw = self._raw(ts, value)
        likelihood, fit = self.likelihood.evaluate(raw)
        self._cache = (ts, value, raw, likelihood, fit)
        return raw, likelihood, fit

    def score(self, ts: float, value: float) -> PointScore:
        if not math.isfinite(value):  # not scored nor learnt, by the wrapper or the inner detector
            return non_finite_point(self.warm)
        raw, likelihood, _ = self._evaluate(ts, value)
        return PointScore(score=1.0 - likelihood, warm=self.warm, detail=f"raw={raw:.4f} likelihood={likelihood:.3g}")

    def learn(self, ts: float, value: float) -> None:
        if not math.isfinite(value):
            return
        raw, _, fit = self._evaluate(ts, value)
        if self.inner.warm:
            self.likelihood.commit(raw, value, fit)
        self.inner.learn(ts, value)
        self._cache = None

    def snapshot(self) -> dict[str, Any]:
        state = self.likelihood
        fit = state.fit
        return {
            "inner": self.inner.snapshot(),
            "scores": list(state.scores),
            "values": list(state.values),
            "iteration": state.iteration,
            "fit": None if fit is None else [fit.mean, fit.stdev, list(fit.recent), fit.last_likelihood],
        }

    def load_likelihood(self, snapshot: dict[str, Any]) -> None:
        """Overwrite the likelihood state from `snapshot()` (the inner detector restores itself)."""
        state = self.likelihood
        state.scores = deque((float(v) for v in snapshot["scores"]), maxlen=state.scores.maxlen)
        state.values = deque((float(v) for v in snapshot["values"]), maxlen=state.values.maxlen)
        state.iteration = int(snapshot["iteration"])
        fit = snapshot["fit"]
        state.fit = None if fit is None else _Fit(float(fit[0]), float(fit[1]), tuple(fit[2]), float(fit[3]))
        self._cache = None
