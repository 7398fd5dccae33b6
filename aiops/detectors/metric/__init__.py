"""Per-series metric detectors, one point at a time: the default ensemble (`ensemble.MetricEnsemble`), its
members (level, variance, drift, seasonal, flat line) over a calibrated tail (`calibrated`, `tail`,
`confirm`) and the simple `ewma.EwmaZScore`. Imports `detectors.base` only; knows nothing of episodes,
the bank or the stage."""
