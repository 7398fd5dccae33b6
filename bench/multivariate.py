"""Cost of the multivariate per-entity detector: scoring with micro-batches vs one at a time, fit, memory.

Fits one entity model (window x metrics correlated Gaussian vectors, seeded) and times `_Model.score`
(one IsolationForest `score_samples` call plus calibration) on batches of 1, 10, 60 and 1440 vectors, then
runs the whole `MultivariateDetector` (observe, step close, batched scoring, learn) for `--entities` hosts
with scoring every step vs every 10 steps. Memory per entity: the window buffer's bytes and the pickled
model's size (a proxy of the forest's in-memory size). Prints a markdown section ready for
docs/benchmarks.md and, last, one JSON line. It reads no files and writes none.

    python bench/multivariate.py --metrics 8 --entities 20
"""

from __future__ import annotations

import argparse
import json
import pickle
import time
from datetime import UTC, datetime

import numpy as np

from aiops.detectors.multivariate.detector import MultivariateDetector, fit_model
from aiops.events import MetricEvent

STEP = 60.0
T0 = 1_700_000_040.0


def vectors(rows: int, metrics: int, seed: int) -> np.ndarray:
    """Correlated metrics: a shared load factor plus independent noise."""
    rng = np.random.default_rng(seed)
    load = rng.standard_normal((rows, 1))
    return 50.0 + 10.0 * (0.8 * load + 0.6 * rng.standard_normal((rows, metrics)))


def model_costs(window: int, metrics: int, trees: int) -> dict[str, float]:
    rows = vectors(window + 1440, metrics, 1)
    started = time.perf_counter()
    model = fit_model(rows[:window].astype(np.float32), 0, trees, 256, 0.01)
    out: dict[str, float] = {"fit_ms": (time.perf_counter() - started) * 1e3,
                             "model_kib": len(pickle.dumps(model)) / 1024,
                             "window_kib": window * metrics * 4 / 1024}
    test = rows[window:]
    for batch in (1, 10, 60, 1440):
        calls = max(1, min(100, 1440 // batch))
        started = time.perf_counter()
        for i in range(calls):
            model.score(test[(i * batch) % 1440 : (i * batch) % 1440 + batch])
        elapsed = time.perf_counter() - started
        out[f"batch{batch}_vps"] = calls * batch / elapsed
        out[f"batch{batch}_ms_per_call"] = elapsed / calls * 1e3
    return out


def detector_rate(entities: int, metrics: int, steps: int, every: int, trees: int) -> float:
    """Vectors/s through score_ready (excluding fits) with scoring every `every` steps."""
    detector = MultivariateDetector(window=1440, min_fit=200, refit_every=10**9, n_estimators=trees,
                                    score_interval_seconds=every * STEP, max_fits_per_advance=10**6)
    data = [vectors(200 + steps, metrics, host) for host in range(entities)]
    events = [[[MetricEvent(kind="metric", ts=datetime.fromtimestamp(T0 + i * STEP + 1 + j, tz=UTC),
                            service="svc", host=f"h{h}", name=f"m{j}", value=float(data[h][i, j]))
                for j in range(metrics)] for h in range(entities)] for i in range(200 + steps)]
    for i in range(200):
        for host_events in events[i]:
            for event in host_events:
                detector.observe(event)
    detector.score_ready(T0 + 200 * STEP)
    detector.score_ready(T0 + 200 * STEP)  # fits
    busy = 0.0
    for i in range(200, 200 + steps):
        for host_events in events[i]:
            for event in host_events:
                detector.observe(event)
        started = time.perf_counter()
        detector.advance(T0 + (i + 1) * STEP)
        busy += time.perf_counter() - started
    started = time.perf_counter()
    detector.score_ready(T0 + (200 + steps + 1) * STEP)
    busy += time.perf_counter() - started
    return detector.scored_vectors / busy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metrics", type=int, default=8)
    parser.add_argument("--window", type=int, default=1440)
    parser.add_argument("--entities", type=int, default=20)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--trees", type=int, default=100)
    args = parser.parse_args()
    costs = model_costs(args.window, args.metrics, args.trees)
    every1 = detector_rate(args.entities, args.metrics, args.steps, 1, args.trees)
    every10 = detector_rate(args.entities, args.metrics, args.steps, 10, args.trees)
    print(f"## Multivariate detector (IsolationForest per entity)\n\n```bash\npython bench/multivariate.py "
          f"--metrics {args.metrics} --window {args.window} --entities {args.entities} --steps {args.steps} "
          f"--trees {args.trees}\n```\n\nOne entity model: {args.window} vectors x {args.metrics} metrics, "
          f"{args.trees} trees, max_samples 256.\n\n| figure | value |\n| --- | --- |")
    for batch in (1, 10, 60, 1440):
        print(f"| scoring, batches of {batch} vector(s) | {costs[f'batch{batch}_vps']:,.0f} vectors/s "
              f"({costs[f'batch{batch}_ms_per_call']:.1f} ms per call) |")
    print(f"| detector end to end, {args.entities} entities, scoring every step | {every1:,.0f} vectors/s |")
    print(f"| detector end to end, {args.entities} entities, scoring every 10 steps | {every10:,.0f} vectors/s |")
    print(f"| fit (window {args.window}) | {costs['fit_ms']:.0f} ms |")
    print(f"| memory per entity: window buffer / pickled model | {costs['window_kib']:.0f} KiB / "
          f"{costs['model_kib']:.0f} KiB |")
    print(json.dumps({**costs, "detector_every1_vps": every1, "detector_every10_vps": every10}))


if __name__ == "__main__":
    main()
