"""Detection: metric samples, log lines and alerts in, anomaly `Signal`s out. Pure: no I/O, no clock.

Rooms, each importing only `base`/`config` and the rooms listed before it:
- `base`: the `PointScore` verdict and the `SeriesDetector` / `LogDetector` protocols; `config`: settings.
- `metric/`: per-series detectors (the ensemble's members, `MetricEnsemble`, `EwmaZScore`), scalar.
- `metric/bank/`: the same ensemble vectorised over many series (`EnsembleBank`, `BankedEnsembles`).
- `episodes/`: per-series verdicts into firing/resolved signals (`MetricEpisodeTracker`) and series that
  stop reporting (`SilenceWatch`); works with any `SeriesDetector`.
- `multivariate/`: per-entity IsolationForest over metric vectors; `logs/`: template-aware log anomalies.
- `stage`: the detection stage (`DetectionStage`) composing them; nothing in this package imports it.
"""
