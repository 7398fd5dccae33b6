"""Points/s of every metric detector and of the default ensemble on synthetic series, plus a baseline.

Each detector runs the stream's loop (score, then learn) over the same seeded series (daily seasonality,
noise, a few spikes and a level shift; 5-minute steps), repeated `--repeat` times, best time kept. The
baseline for the same job is scikit-learn's `IsolationForest` refit online on a sliding window of lag
vectors every `--refit` points (scikit-learn has no streaming detector; river, which has, is not
installed here). Prints a table and, last, one JSON line. It reads no files and writes none.
`--clock cpu` times with this process' CPU time instead of wall time: steadier on a shared machine.

With `--series N` (default 1000; 0 skips it) it also runs the ensemble on N interleaved series as a stream
delivers them (a mix of seasonal gauges, noisy gauges, bursty gauges and counters with resets, 5-minute
steps, points in event-time order across series): after `--warm-points` per series (learnt by the
micro-batched `EnsembleBank`, whose snapshots then restore the per-point `MetricEnsemble`s, so both paths
start from the same state), it times `--series-points` more per series through the per-point path (score
then learn, one point at a time) and the micro-batched path (`--batch` points per call), checks that both
give the same scores, and measures the state per series: tracemalloc of N warmed detectors (restored from
snapshots) divided by N for each path, and the mean JSON snapshot size.

    python bench/detectors.py --points 50000
    python bench/detectors.py --points 30000 --series 1000 --clock cpu
"""

from __future__ import annotations

import argparse
import copy
import json
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

from aiops.detectors.metric.bank.ensemble_bank import EnsembleBank
from aiops.detectors.metric.drift import DriftDetector
from aiops.detectors.metric.ensemble import MetricEnsemble, default_metric_detector
from aiops.detectors.metric.flatline import FlatLineDetector
from aiops.detectors.metric.level import LevelDetector
from aiops.detectors.metric.seasonal import SeasonalDetector
from aiops.detectors.metric.variance import VarianceDetector

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


def mixed_stream(series: int, points: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(series index, point number in its series, ts, value) of `series` interleaved series in event-time
    order, `points` each.

    Series i is a seasonal gauge (i % 4 == 0), a noisy gauge with spikes (1), a bursty gauge (2) or a
    counter of a seasonal rate with a reset now and then (3); each starts at its own phase in the step.
    """
    rng = np.random.default_rng(seed)
    offsets = rng.uniform(0.0, STEP, series)
    ts = 1_700_000_000.0 + offsets[:, None] + np.arange(points)[None, :] * STEP
    day = np.sin(2 * np.pi * ts / 86400.0 + rng.uniform(0.0, 2 * np.pi, (series, 1)))
    level = rng.uniform(1.0, 1000.0, (series, 1))
    kind = np.arange(series)[:, None] % 4
    noisy = level * (1.0 + rng.normal(0.0, 0.3, ts.shape)) + np.where(rng.random(ts.shape) < 0.002, 5 * level, 0.0)
    bursty = np.where(rng.random(ts.shape) < 0.05, rng.exponential(10.0, ts.shape) * level, 0.1 * level)
    rate = np.maximum(level * (1.0 + 0.5 * day) + rng.normal(0.0, 0.05, ts.shape) * level, 0.0)
    counter = np.cumsum(rate * STEP, axis=1)
    for row in range(3, series, 4):
        reset = rng.integers(1, points)
        counter[row, reset:] -= counter[row, reset - 1]
    seasonal = level * (1.0 + 0.2 * day) + rng.normal(0.0, 0.02, ts.shape) * level
    values = np.select([kind == 0, kind == 1, kind == 2], [seasonal, noisy, bursty], counter)
    order = np.argsort(ts, axis=None, kind="stable")
    index, number = np.repeat(np.arange(series), points), np.tile(np.arange(points), series)
    return index[order], number[order], ts.ravel()[order], values.ravel()[order]


def per_point_rate(
    detectors: list[MetricEnsemble], index: np.ndarray, ts: np.ndarray, values: np.ndarray, clock: Callable[[], float]
) -> tuple[float, list[float]]:
    """Points/s of score-then-learn one point at a time, and the scores."""
    scores: list[float] = []
    append = scores.append
    started = clock()
    for series, stamp, value in zip(index.tolist(), ts.tolist(), values.tolist(), strict=True):
        detector = detectors[series]
        append(detector.score(stamp, value).score)
        detector.learn(stamp, value)
    return len(scores) / (clock() - started), scores


def batched_rate(
    bank: EnsembleBank, index: np.ndarray, ts: np.ndarray, values: np.ndarray, batch: int, clock: Callable[[], float]
) -> tuple[float, np.ndarray]:
    """Points/s of `EnsembleBank.process` over micro-batches of `batch` points, and the scores."""
    scores = np.empty(index.size)
    started = clock()
    for start in range(0, index.size, batch):
        part = slice(start, start + batch)
        scores[part] = bank.process(index[part], ts[part], values[part]).score
    return index.size / (clock() - started), scores


def traced_bytes(build: Callable[[], Any]) -> tuple[int, Any]:
    """Bytes still allocated (tracemalloc) after `build()`, and what it built."""
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    built = build()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return after - before, built


def restored_bank(snapshots: list[dict[str, Any]]) -> EnsembleBank:
    bank = EnsembleBank()
    bank.add(len(snapshots))
    for series, snapshot in enumerate(snapshots):
        bank.restore(series, snapshot)
    return bank


def many_series(args: argparse.Namespace, clock: Callable[[], float]) -> dict[str, Any]:
    """The ensemble on `args.series` interleaved series: both paths' points/s, state bytes per series."""
    count, warm = args.series, args.warm_points
    index, number, ts, values = mixed_stream(count, warm + args.series_points, args.seed)
    warm_part = number < warm
    bank = EnsembleBank()
    bank.add(count)
    warmup_rate, _ = batched_rate(bank, index[warm_part], ts[warm_part], values[warm_part], args.batch, clock)
    snapshots = [json.loads(json.dumps(bank.snapshot(series))) for series in range(count)]
    measured = (index[~warm_part], ts[~warm_part], values[~warm_part])
    per_point, batched, agree, identical = 0.0, 0.0, True, True
    for _ in range(args.repeat):
        rate, scalar_scores = per_point_rate([MetricEnsemble.restore(s) for s in snapshots], *measured, clock)
        per_point = max(per_point, rate)
        rate, bank_scores = batched_rate(copy.deepcopy(bank), *measured, args.batch, clock)
        batched = max(batched, rate)
        # The contract (docs/ARCHITECTURE.md): equal within 1e-9 relative; bit-identical where numpy's
        # transcendental functions round like `math` (not on AVX-512 CPUs).
        agree = agree and bool(np.allclose(bank_scores, scalar_scores, rtol=1e-9, atol=1e-12, equal_nan=True))
        identical = identical and bank_scores.tolist() == scalar_scores
    scalar_bytes, _ = traced_bytes(lambda: [MetricEnsemble.restore(s) for s in snapshots])
    bank_bytes, _ = traced_bytes(lambda: restored_bank(snapshots))
    return {
        "series": count,
        "series_points_measured": int(measured[0].size),
        "ensemble_series_per_point": round(per_point),
        "ensemble_series_batched": round(batched),
        "ensemble_series_batched_warmup": round(warmup_rate),
        "ensemble_paths_agree": agree,
        "ensemble_paths_bit_identical": identical,
        "state_bytes_per_series_per_point": round(scalar_bytes / count),
        "state_bytes_per_series_batched": round(bank_bytes / count),
        "snapshot_bytes_per_series": round(sum(len(json.dumps(s)) for s in snapshots) / count),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--points", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--baseline-points", type=int, default=5_000, help="points for the sklearn baseline")
    parser.add_argument("--refit", type=int, default=288, help="baseline refit interval (points)")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall", help="wall time or process CPU time")
    parser.add_argument("--series", type=int, default=1000, help="interleaved series for the ensemble (0: skip)")
    parser.add_argument("--warm-points", type=int, default=600, help="points per series learnt before timing")
    parser.add_argument("--series-points", type=int, default=200, help="points per series timed")
    parser.add_argument("--batch", type=int, default=1000, help="points per micro-batch (batched path)")
    args = parser.parse_args()
    ts, values = series(args.points, args.seed)
    report: dict[str, Any] = {"points": args.points, "clock": args.clock}
    for name, make in DETECTORS.items():
        report[name] = round(rate(make, ts, values, args.repeat, CLOCKS[args.clock]))
        print(f"{name:<12} {report[name]:>10,} points/s")
    baseline = isolation_forest_rate(values[: args.baseline_points], window=2016, lags=12, refit=args.refit)
    report["sklearn_isolation_forest"] = round(baseline) if baseline is not None else None
    print(f"{'sklearn IF':<12} {report['sklearn_isolation_forest']} points/s (refit every {args.refit} points)")
    if args.series > 0:
        report.update(many_series(args, CLOCKS[args.clock]))
        print_many_series(report, args.batch)
    print(json.dumps(report, sort_keys=True))


def print_many_series(report: dict[str, Any], batch: int) -> None:
    print(f"ensemble on {report['series']:,} interleaved series ({report['series_points_measured']:,} points timed):")
    print(f"  per-point path     {report['ensemble_series_per_point']:>10,} points/s")
    print(f"  micro-batched path {report['ensemble_series_batched']:>10,} points/s ({batch} points per batch)")
    print(f"  micro-batched warm-up {report['ensemble_series_batched_warmup']:>7,} points/s (initial tail batches)")
    print(f"  same scores on both paths: {report['ensemble_paths_agree']} (within 1e-9; bit-identical: "
          f"{report['ensemble_paths_bit_identical']})")
    print(
        f"  state per series: {report['state_bytes_per_series_per_point']:,} B per-point path, "
        f"{report['state_bytes_per_series_batched']:,} B micro-batched, "
        f"snapshot {report['snapshot_bytes_per_series']:,} B JSON"
    )


if __name__ == "__main__":
    main()
