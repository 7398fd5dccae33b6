"""Published baselines the evaluations compare against: CAD OSE, the HTM anomaly likelihood, stock drain3.

Streaming re-implementations (CAD OSE, likelihood) behind the service's `SeriesDetector` contract and drain3
behind the `TemplateMiner` interface. The service cannot select them (`detection.metric.detector` is `ewma`
or `ensemble`); they exist to be measured against.
"""
