"""Log anomalies: template-aware error bursts, rate changes and new templates on event time
(`anomaly.LogAnomalyDetector`, a `LogDetector`). Imports `aiops.logmining`, no other detector room."""
