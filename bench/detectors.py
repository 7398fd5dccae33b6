"""Points/s of every metric detector and of the default ensemble on synthetic series, plus a baseline.

Each detector runs the stream's loop (score, then learn) over the same seeded series (daily seasonality,
noise, a few spikes and a level shift; 5-minute steps), repeated `--repeat` times, best time kept. The
baseline for the same job is scikit-learn's `IsolationForest` refit online on a sliding window of lag
vectors every `--refit` points (scikit-learn has no streaming detector; river, which has, is not
installed here). Prints a table and, last, one JSON line. It reads no files and writes none.
`--clock cpu` times with this process' CPU time instead of wall time: steadier on a shared machine.

    python bench/detectors.py --points 50000
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from aiops.detectors.drift import DriftDetector
from aiops.detectors.ensemble import default_metric_detector
from aiops.detectors.flatline import FlatLineDetector
from aiops.detectors.level import LevelDetector
from aiops.detectors.seasonal import SeasonalDetector
from aiops.detectors.variance import VarianceDetector

STEP = 300.0
DETECTORS: dict[str, Callable[[], Any]] = {
    "level_fast": lambda: LevelDetector(alpha=0.5),
    "level_slow": lambda: LevelDetector(alpha=0.02),
    "variance": VarianceDetector,
    "drift": DriftDetector,
    "seasonal": SeasonalDetector,
    "flatline": FlatLineDetector,
    "ensemble": default_metric_detector,
}


def series(points: int, seed: int) -> tuple[list[float], list[float]]:
    """Seeded synthetic metric: daily cycle + noise + spikes + a level shift."""
    rng = np.random.default_rng(seed)
    ts = np.arange(points) * STEP
    values = 50.0 + 10.0 * np.sin(2 * np.pi * ts / 86400.0) + rng.normal(0.0, 1.0, points)
    values[rng.integers(0, points, max(points // 2000, 1))] += 25.0
    values[points * 3 // 4 :] += 8.0
    return ts.tolist(), values.tolist()


CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.process_time}


def rate(
    make: Callable[[], Any],
    ts: list[float],
    values: list[float],
    repeat: int,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """Best points/s over `repeat` runs of score-then-learn on a fresh detector."""
    best = float("inf")
    for _ in range(repeat):
        detector = make()
        started = clock()
        for stamp, value in zip(ts, values, strict=True):
            detector.score(stamp, value)
            detector.learn(stamp, value)
        best = min(best, clock() - started)
    return len(values) / best


def isolation_forest_rate(values: list[float], window: int, lags: int, refit: int) -> float | None:
    """Points/s of a sliding-window IsolationForest (refit every `refit` points); None without sklearn."""
    try:
        from sklearn.ensemble import IsolationForest  # noqa: PLC0415 - optional baseline
    except ImportError:
        return None
    array = np.asarray(values)
    started = time.perf_counter()
    model: Any = None
    for index in range(lags, len(array)):
        vector = array[index - lags + 1 : index + 1].reshape(1, -1)
        if model is not None:
            model.score_samples(vector)
        if index >= window and (index - window) % refit == 0:
            history = np.lib.stride_tricks.sliding_window_view(array[index - window : index + 1], lags)
            model = IsolationForest(n_estimators=50, random_state=0).fit(history)
    return (len(array) - lags) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--points", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--baseline-points", type=int, default=5_000, help="points for the sklearn baseline")
    parser.add_argument("--refit", type=int, default=288, help="baseline refit interval (points)")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall", help="wall time or process CPU time")
    args = parser.parse_args()
    ts, values = series(args.points, args.seed)
    report: dict[str, Any] = {"points": args.points, "clock": args.clock}
    for name, make in DETECTORS.items():
        report[name] = round(rate(make, ts, values, args.repeat, CLOCKS[args.clock]))
        print(f"{name:<12} {report[name]:>10,} points/s")
    baseline = isolation_forest_rate(values[: args.baseline_points], window=2016, lags=12, refit=args.refit)
    report["sklearn_isolation_forest"] = round(baseline) if baseline is not None else None
    print(f"{'sklearn IF':<12} {report['sklearn_isolation_forest']} points/s (refit every {args.refit} points)")
    print(json.dumps(report, sort_keys=True))


if __name__ == "__main__":
    main()
