"""Detection: metric samples, log lines and alerts in, anomaly `Signal`s out. Pure: no I/O, no clock.

Rooms, and what each may import besides itself (tests/unit/test_detectors_package.py checks it):
- `base`: the `PointScore` verdict and the `SeriesDetector` / `LogDetector` protocols; `config`: settings.
- `metric/` (base): per-series detectors, scalar: the ensemble's members, `MetricEnsemble`, `EwmaZScore`.
- `metric/bank/` (base, metric): the same ensemble vectorised over many series (`EnsembleBank`, `BankedEnsembles`).
- `episodes/` (base): per-series verdicts into firing/resolved signals (`MetricEpisodeTracker`) and series
  that stop reporting (`SilenceWatch`); works with any `SeriesDetector`.
- `multivariate/` (base): per-entity IsolationForest over metric vectors; `logs/` (base): log anomalies.
- `stage` (all of them): the detection stage, `DetectionStage`; nothing in the package imports it.
Outside the package, detectors import only events, signals, log mining and the config base.
"""
