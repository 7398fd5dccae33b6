"""Per-series signals: anomalous verdicts merged into firing/resolved episodes (`tracker`) and series that
stop reporting (`missing_data`). Works with any `SeriesDetector`; imports `detectors.base` only."""
