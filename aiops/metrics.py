"""Prometheus metrics of aiops, created on an injected `CollectorRegistry`.

`AiopsMetrics` only defines the instruments (names, help, labels, buckets) and a few helpers taking
explicit values; it performs no I/O and never reads the clock (`observe_event_lag` takes ``now``).
Serving the registry is `aiops.runtime.http_server`'s job. Use one registry per process (tests pass a
fresh `CollectorRegistry()` so instruments never collide).

Label values are bounded by design: topics, dead-letter reasons, signal origins, incident statuses,
sink/receiver names, stages (``detection``, ``correlation``, ``delivery:<receiver>``),
delivery/notification outcomes, configured ingest integrations and their request outcomes. Never label
by service, host or incident id.
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

NAMESPACE = "aiops"
BATCH_SIZE_BUCKETS: tuple[float, ...] = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
BATCH_SECONDS_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
DELIVERY_SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


class AiopsMetrics:
    """All aiops instruments, registered on `registry` at construction."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.events_consumed_total = self._counter(
            "events_consumed", "Events read from input topics.", "topic"
        )
        self.events_deadlettered_total = self._counter(
            "events_deadlettered", "Events sent to the dead-letter topic, by reason.", "reason"
        )
        self.signals_emitted_total = self._counter(
            "signals_emitted", "Anomaly/alert signals emitted by detection.", "origin"
        )
        self.incidents_emitted_total = self._counter(
            "incidents_emitted", "Incident versions emitted, by status.", "status"
        )
        self.correlation_messages_total = self._counter(
            "correlation_messages", "Signals and watermarks applied by the correlation worker."
        )
        self.correlation_batch_seconds = self._histogram(
            "correlation_batch_seconds", "Correlation time per batch (apply, publish, checkpoint, commit).",
            BATCH_SECONDS_BUCKETS,
        )
        self.webhook_deliveries_total = self._counter(
            "webhook_deliveries", "Incident deliveries finished, by outcome.", "sink", "outcome"
        )
        self.webhook_delivery_attempts_total = self._counter(
            "webhook_delivery_attempts", "Delivery attempts made by sinks (including retries).", "sink"
        )
        self.webhook_delivery_seconds = self._histogram(
            "webhook_delivery_seconds",
            "First attempt to final outcome, per sink.",
            DELIVERY_SECONDS_BUCKETS,
            "sink",
        )
        self.batch_size = self._histogram("batch_size", "Records per processed batch.", BATCH_SIZE_BUCKETS)
        self.batch_seconds = self._histogram(
            "batch_seconds", "Processing time per batch.", BATCH_SECONDS_BUCKETS
        )
        self.detector_series_live = self._gauge("detector_series_live", "Series tracked by detectors.")
        self.detector_series_evicted_total = self._counter(
            "detector_series_evicted", "Detector series evicted by the live-series cap."
        )
        self.detector_log_snapshots_skipped_total = self._counter(
            "detector_log_snapshots_skipped",
            "Detector state records (a partition's log detector, a multivariate entity) not written because they "
            "exceed the state record size limit.",
        )
        self.event_lag_seconds = self._gauge(
            "event_lag_seconds", "Wall time minus the event time of the latest processed event."
        )
        self.consumer_lag_records = self._gauge(
            "consumer_lag_records", "High watermark minus position, per partition.", "topic", "partition"
        )
        self.stage_healthy = self._gauge(
            "stage_healthy", "1 while the stage makes progress on the work it has, 0 when stalled (/healthz).", "stage"
        )
        self.stage_lag_records = self._gauge(
            "stage_lag_records", "Records waiting for the stage, summed over its partitions.", "stage"
        )
        self.incidents_open = self._gauge("incidents_open", "Incidents currently open (not resolved).")
        self.notifications_total = self._counter(
            "notifications", "Notification records by receiver and outcome (attempts, finals, skips).",
            "receiver", "outcome",
        )
        self.notification_latency_seconds = self._histogram(
            "notification_latency_seconds", "Incident version on the topic to accepted by the receiver.",
            DELIVERY_SECONDS_BUCKETS, "receiver",
        )
        self.circuit_state = self._gauge(
            "receiver_circuit_state", "Circuit breaker per receiver: 0 closed, 1 half-open, 2 open.", "receiver"
        )
        self.notifications_deadlettered_total = self._counter(
            "notifications_deadlettered", "Notifications dead-lettered after retries and fallback.", "receiver"
        )

        self.ingest_requests_total = self._counter(
            "ingest_requests", "HTTP ingest requests per integration (unknown: no such integration) and outcome "
            "(accepted, invalid, oversized, unauthorized, rate_limited, unavailable, unsupported).",
            "integration", "outcome")
        self.ingest_events_total = self._counter(
            "ingest_events", "Events written to the events topic by HTTP ingest, per integration.", "integration")
        self.ingest_request_seconds = self._histogram(
            "ingest_request_seconds", "HTTP ingest request time (read, translate, broker acknowledgement).",
            DELIVERY_SECONDS_BUCKETS, "integration")

    def _counter(self, name: str, documentation: str, *labels: str) -> Counter:
        return Counter(name, documentation, labels, namespace=NAMESPACE, registry=self.registry)

    def _gauge(self, name: str, documentation: str, *labels: str) -> Gauge:
        return Gauge(name, documentation, labels, namespace=NAMESPACE, registry=self.registry)

    def _histogram(
        self, name: str, documentation: str, buckets: tuple[float, ...], *labels: str
    ) -> Histogram:
        return Histogram(
            name, documentation, labels, namespace=NAMESPACE, registry=self.registry, buckets=buckets
        )

    def observe_event_lag(self, event_time: datetime, now: datetime) -> None:
        """Set the event-time lag gauge from explicit timestamps (both timezone-aware)."""
        self.event_lag_seconds.set((now - event_time).total_seconds())

    def record_delivery(self, sink: str, outcome: str, attempts: int, elapsed_seconds: float) -> None:
        """Count one finished delivery (``outcome`` is ``delivered``, ``rejected`` or ``expired``)."""
        self.webhook_deliveries_total.labels(sink=sink, outcome=outcome).inc()
        self.webhook_delivery_attempts_total.labels(sink=sink).inc(attempts)
        self.webhook_delivery_seconds.labels(sink=sink).observe(elapsed_seconds)

    def set_circuit_state(self, receiver: str, value: int) -> None:
        self.circuit_state.labels(receiver=receiver).set(value)

    def record_batch(self, size: int, seconds: float) -> None:
        self.batch_size.observe(size)
        self.batch_seconds.observe(seconds)


class OperatorApiMetrics:
    """The operator API's own instruments (its action publishing), on the service's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.actions_published_total = Counter(
            "api_actions_published_total", "Operator actions the broker acknowledged (the API answered 202)",
            namespace=NAMESPACE, registry=registry)
        self.actions_failed_total = Counter(
            "api_actions_failed_total", "Operator actions not acknowledged by the broker (the API answered 503)",
            ["reason"], namespace=NAMESPACE, registry=registry)
        self.publish_seconds = Histogram(
            "api_publish_seconds", "Time from an action's publish to the broker's acknowledgement",
            namespace=NAMESPACE, registry=registry, buckets=BATCH_SECONDS_BUCKETS)
