"""Is the detection stage making progress? Its input partitions' processed vs end offsets, and its error counts.

`DetectionLiveness` keeps a `ConsumerProgress` over the events topic's partitions the worker owns: every
processed record (dead-lettered ones too) is reported, end offsets are polled every
`workers.progress_poll_seconds`, so a stage that stops with work waiting (a hung step, publishing that never
completes) is *stalled* after `workers.stall_seconds`. A partition whose records wait only for another
partition (the event-time order, flow control) counts as progressing while the stage processes records
elsewhere, or until the grace of the partitions it waits for ends (`InputAlignment.grace_ends`). Raw-log
topics are not tracked (a wedged stage shows on the events topic whenever it has work).
It also records each batch's metrics and counts the failures the worker survives:
`aiops_detection_step_errors_total{step}` (a timer that raised) and `aiops_detection_publish_failures_total{kind}`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError
from prometheus_client import CollectorRegistry, Counter

from aiops.detectors.stage import DetectionStage
from aiops.metrics import AiopsMetrics
from aiops.runtime.progress import ConsumerProgress

log = logging.getLogger("aiops.detect")

_COUNTERS: weakref.WeakKeyDictionary[CollectorRegistry, tuple[Counter, Counter]] = weakref.WeakKeyDictionary()
END_OFFSETS_TIMEOUT_SECONDS = 5.0


def _counters(registry: CollectorRegistry) -> tuple[Counter, Counter]:
    """The two counters, registered once per registry (several workers may share one)."""
    if registry not in _COUNTERS:
        _COUNTERS[registry] = (
            Counter("detection_step_errors", "Per-batch detection steps (timers, ...) that raised and were skipped.",
                    ["step"], namespace="aiops", registry=registry),
            Counter("detection_publish_failures", "Outputs the broker did not acknowledge, by kind "
                    "(permanent: dead-lettered; retryable: retried).", ["kind"], namespace="aiops", registry=registry),
        )
    return _COUNTERS[registry]


class DetectionLiveness:
    """Progress of the detection stage on its events partitions, and its survived-error counters."""

    def __init__(self, topic: str, stall_seconds: float, registry: CollectorRegistry) -> None:
        self.topic = topic
        self.progress = ConsumerProgress(stall_seconds)
        self._positions: dict[int, int] = {}
        """Per owned partition, the offset of the last record processed."""
        self._step_errors, self._publish_failures = _counters(registry)
        self._evicted_reported = 0

    def assigned(self, partitions: Iterable[TopicPartition]) -> None:
        """The input partitions the worker owns now (every topic; only the events topic is tracked)."""
        owned = {tp.partition for tp in partitions if tp.topic == self.topic}
        self._positions = {p: offset for p, offset in self._positions.items() if p in owned}
        self.progress.assigned(owned)

    def processed(self, offsets: dict[TopicPartition, int], waiting: Iterable[TopicPartition]) -> None:
        """`offsets`: per partition, the offset after the last record this batch processed; `waiting`: the
        partitions with records held back for another partition (progressing when this batch processed any)."""
        for tp, after in offsets.items():
            if tp.topic == self.topic:
                self._positions[tp.partition] = after - 1
                self.progress.processed(tp.partition, after - 1)
        if not offsets:
            return
        for tp in waiting:
            position = self._positions.get(tp.partition)
            if tp.topic == self.topic and position is not None:
                self.progress.processed(tp.partition, position)

    async def poll(self, consumer: Any, now: float) -> None:
        """Ask the broker for the owned events partitions' end offsets (the fetcher's high watermarks when it
        does not answer in time) and feed them to the progress."""
        owned = [tp for tp in consumer.assignment() if tp.topic == self.topic]
        if not owned:
            return
        try:
            ends = await asyncio.wait_for(consumer.end_offsets(owned), END_OFFSETS_TIMEOUT_SECONDS)
        except (KafkaError, OSError, TimeoutError) as error:  # the broker is slow or away: the last high watermarks
            log.debug("end offsets unavailable (%r); using high watermarks", error)
            ends = {tp: consumer.highwater(tp) for tp in owned}
        self.progress.observe_ends({tp.partition: end for tp, end in ends.items() if end is not None}, now)

    async def watch(self, consumer: Any, wall: Callable[[], float], interval: float, stopping: asyncio.Event) -> None:
        """Poll every `interval` seconds until `stopping` is set (a task beside the worker's loop, so a stage
        stuck in a step is still seen)."""
        while not stopping.is_set():
            try:
                await self.poll(consumer, wall())
            except asyncio.CancelledError:
                raise
            except Exception:  # never fatal: the next poll tries again
                log.exception("detection progress poll failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), interval)

    def step_failed(self, step: str) -> None:
        self._step_errors.labels(step=step).inc()

    def publish_failed(self, kind: str) -> None:
        self._publish_failures.labels(kind=kind).inc()

    def record_batch(self, metrics: AiopsMetrics, consumer: Any, stage: DetectionStage,
                     batch: dict[TopicPartition, list[Any]], wall: float, size: tuple[int, float]) -> None:
        """A fetched batch's metrics: records consumed, consumer lag, (records, seconds), series, event lag."""
        for tp, records in batch.items():
            metrics.events_consumed_total.labels(topic=tp.topic).inc(len(records))
            highwater = consumer.highwater(tp) if consumer is not None else None
            if highwater is not None:
                lag = max(0, highwater - (records[-1].offset + 1))
                metrics.consumer_lag_records.labels(topic=tp.topic, partition=str(tp.partition)).set(lag)
        metrics.record_batch(*size)
        tracker = stage.metrics
        metrics.detector_series_live.set(tracker.live_series)
        metrics.detector_series_evicted_total.inc(tracker.evicted - self._evicted_reported)
        self._evicted_reported = tracker.evicted
        if stage.max_event_time > float("-inf"):
            metrics.event_lag_seconds.set(wall - stage.max_event_time)
