"""Which detector state changed since the last snapshot, per input partition, and how it is written back.

`DetectorCheckpoints` is the detection worker's bookkeeping for restart safety. It tracks, per input
partition, the metric series (and, with the multivariate detector on, the entities) that received samples,
and the (topic, partition) log shards that received lines; `outputs()` turns that into records for the
compacted detector-state topic (partition = input partition, one marker record last per written
partition, naming the input offsets the snapshot covers), `restore()` loads a partition's records before its
first batch is processed and says where each input partition resumes (`resume_from`), and `release()`
forgets the state of partitions the worker gave up. Multivariate entities are written at most every
`detection.multivariate.snapshot_interval_seconds` (their window of vectors is the bulk of a snapshot), keyed
`__mv__|<entity>`, compressed. It does not consume, produce or commit: the worker does, in that order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any

from aiokafka import TopicPartition

from aiops.config import AiopsConfig
from aiops.detectors.multivariate.detector import entity_of
from aiops.detectors.stage import DetectionStage
from aiops.events import InboundEvent, LogEvent, MetricEvent
from aiops.metrics import AiopsMetrics
from aiops.runtime.detector_state import (
    LOGS_KEY,
    MARKER_KEY,
    MULTIVARIATE_KEY,
    encode_compressed,
    encode_marker,
    encode_state,
    read_partitions,
)

log = logging.getLogger("aiops.detect")

MAX_LOG_STATE_BYTES = 900_000
"""Compressed state larger than this is not written (Kafka's default message limit is 1 MB)."""
Output = tuple[str, bytes | None, bytes, int | None]


class DetectorCheckpoints:
    """Dirty/owned state per input partition; snapshot records out, restored state in."""

    def __init__(self, config: AiopsConfig, stage: DetectionStage, metrics: AiopsMetrics, raw_topics: Iterable[str],
                 wall: Callable[[], float]) -> None:
        self.config = config
        self.stage = stage
        self.metrics = metrics
        self.raw_topics = set(raw_topics)
        self.wall = wall
        self.series_restored = 0
        self.log_shards_restored = 0
        self.entities_restored = 0
        self.series_unreadable = 0
        self._series_dirty: dict[int, set[str]] = {}
        self._series_owned: dict[int, set[str]] = {}
        self._logs_dirty: set[tuple[str, int]] = set()
        self._entities_dirty: dict[int, set[str]] = {}
        self._entities_owned: dict[int, set[str]] = {}
        self._last_entities_snapshot = wall()
        self._restored: set[int] = set()
        self.resume_from: dict[TopicPartition, int] = {}
        """Per restored input partition, the offset its restored state covers up to (from the snapshot's
        marker): records before it are already in the state. The worker takes these."""

    def log_shard(self, topic: str, partition: int) -> Hashable:
        """The log detector shard of an input topic-partition: its number for the events topic."""
        return partition if topic not in self.raw_topics else (topic, partition)

    def _logs_key(self, topic: str) -> str:
        return LOGS_KEY if topic not in self.raw_topics else f"{LOGS_KEY}|{topic}"

    def track(self, topic: str, partition: int, event: InboundEvent) -> None:
        """Note what `event` (just processed by the stage) changed."""
        snapshots = self.config.detection.snapshot_interval_seconds > 0  # off: only ownership is tracked
        if isinstance(event, MetricEvent):
            key = self.stage.metrics.last_key
            self._series_owned.setdefault(partition, set()).add(key)
            if snapshots:
                self._series_dirty.setdefault(partition, set()).add(key)
            if self.stage.multivariate is not None:
                entity = entity_of(event)
                self._entities_owned.setdefault(partition, set()).add(entity)
                if snapshots:
                    self._entities_dirty.setdefault(partition, set()).add(entity)
        elif isinstance(event, LogEvent) and snapshots:
            self._logs_dirty.add((topic, partition))

    def pending(self) -> bool:
        return bool(self._series_dirty or self._logs_dirty or self._entities_due())

    def _entities_due(self) -> bool:
        interval = self.config.detection.multivariate.snapshot_interval_seconds
        return bool(self._entities_dirty) and self.wall() - self._last_entities_snapshot >= interval

    def outputs(self, positions: Mapping[TopicPartition, int], force: bool = False) -> list[Output]:
        """Snapshot records of everything that changed (multivariate entities only when due or `force`d, e.g.
        before giving partitions up), each written partition ending with a marker naming `positions` (the
        next offset to process per input partition processed since the last commit) of its number; clears
        what it wrote."""
        topic = self.config.topics.detector_state
        entities = self._entities_dirty if force or self._entities_due() else {}
        partitions = set(self._series_dirty) | {p for _, p in self._logs_dirty} | set(entities)
        outputs: list[Output] = []
        for partition in sorted(partitions):
            for key in self._series_dirty.get(partition, ()):
                state = self.stage.metrics.export_series(key)
                if state is not None:
                    outputs.append((topic, key.encode(), encode_state(state), partition))
            for source, _ in sorted(tp for tp in self._logs_dirty if tp[1] == partition):
                value = self._bounded(self.stage.export_logs(self.log_shard(source, partition)), source, partition)
                if value is not None:
                    outputs.append((topic, self._logs_key(source).encode(), value, partition))
            for entity in sorted(entities.get(partition, ())):
                value = self._entity_value(entity, partition)
                if value is not None:
                    outputs.append((topic, f"{MULTIVARIATE_KEY}|{entity}".encode(), value, partition))
            covered = {tp.topic: offset for tp, offset in positions.items() if tp.partition == partition}
            outputs.append((topic, MARKER_KEY, encode_marker(covered), partition))
        self._series_dirty.clear()
        self._logs_dirty.clear()
        if entities:
            self._entities_dirty = {}
            self._last_entities_snapshot = self.wall()
        return outputs

    def _entity_value(self, entity: str, partition: int) -> bytes | None:
        detector = self.stage.multivariate
        state = detector.export_entity(entity) if detector is not None else None
        return self._bounded(state, f"entity {entity}", partition)

    def _bounded(self, state: dict[str, Any] | None, what: str, partition: int) -> bytes | None:
        """Compressed state; None (counted, with a warning) when absent or too big for one record."""
        if state is None:
            return None
        value = encode_compressed(state)
        if len(value) > MAX_LOG_STATE_BYTES:
            self.metrics.detector_log_snapshots_skipped_total.inc()
            log.warning("detector state of %s[%d] is %d bytes compressed, over %d: not snapshotted",
                        what, partition, len(value), MAX_LOG_STATE_BYTES)
            return None
        return value

    def unrestored(self, partitions: Iterable[int]) -> set[int]:
        return set(partitions) - self._restored

    def release(self, revoked: Iterable[TopicPartition]) -> None:
        """Forget the state of partitions this worker no longer owns."""
        for tp in revoked:
            self.stage.forget_logs(self.log_shard(tp.topic, tp.partition))
            self._restored.discard(tp.partition)
            self.resume_from.pop(tp, None)
            if tp.topic in self.raw_topics:  # metric series and entities come from the events topic only
                continue
            self.stage.metrics.forget(self._series_owned.pop(tp.partition, set()))
            entities = self._entities_owned.pop(tp.partition, set())
            if self.stage.multivariate is not None:
                self.stage.multivariate.forget(sorted(entities))

    async def restore(self, bootstrap: str, partitions: set[int], assignment: set[TopicPartition] | None) -> None:
        """Load the latest snapshot of each series, log shard and entity of newly assigned partitions."""
        self._restored |= partitions
        if self.config.detection.snapshot_interval_seconds <= 0 or not partitions:
            return
        states = await read_partitions(bootstrap, self.config.topics.detector_state, partitions,
                                       self.config.kafka.client_id)
        events = self.config.topics.events
        for partition, (records, resume) in states.items():
            for topic, offset in resume.items():
                tp = TopicPartition(topic, partition)
                if (topic == events or topic in self.raw_topics) and (assignment is None or tp in assignment):
                    self.resume_from[tp] = offset
            for key in [key for key in records if key.startswith(LOGS_KEY)]:
                self._restore_logs(partition, key, records.pop(key), assignment)
            if assignment is not None and TopicPartition(events, partition) not in assignment:
                continue  # only a raw log topic's partition of that number is ours: series, entities are not
            for key in [key for key in records if key.startswith(f"{MULTIVARIATE_KEY}|")]:
                self._restore_entity(partition, key[len(MULTIVARIATE_KEY) + 1:], records.pop(key))
            for key, state in records.items():
                self._restore_series(partition, key, state)
        log.info("restored %d series for partitions %s", sum(len(state.states) for state in states.values()),
                 sorted(partitions))

    def _restore_series(self, partition: int, key: str, state: dict[str, Any]) -> None:
        """Import one series' snapshot; a snapshot this detector cannot read (another `detection.metric.detector`
        wrote it, or it is damaged) is skipped with a warning and the series starts fresh."""
        try:
            restored = self.stage.metrics.import_series(key, state)
        except (KeyError, TypeError, ValueError) as error:
            self.series_unreadable += 1
            log.warning("cannot restore series %r of partition %d (written by another detector kind?): %r",
                        key, partition, error)
            return
        if restored:
            self._series_owned.setdefault(partition, set()).add(key)
            self.series_restored += 1

    def _restore_logs(self, partition: int, key: str, state: dict[str, Any],
                      assignment: set[TopicPartition] | None) -> None:
        """Import the log state of an input topic-partition this worker owns and has no live state for."""
        topic = self.config.topics.events if key == LOGS_KEY else key[len(LOGS_KEY) + 1:]
        if assignment is not None and TopicPartition(topic, partition) not in assignment:
            return  # another worker owns that topic's partition of this number
        shard = self.log_shard(topic, partition)
        if self.stage.has_logs(shard):
            return  # live state is newer than any snapshot
        try:
            self.stage.import_logs(shard, state)
        except (ValueError, KeyError, TypeError) as error:
            log.warning("cannot restore log detector state %r of partition %d: %r", key, partition, error)
            return
        self.log_shards_restored += 1

    def _restore_entity(self, partition: int, entity: str, state: dict[str, Any]) -> None:
        detector = self.stage.multivariate
        if detector is None or detector.has_entity(entity):
            return  # off, or live state is newer than any snapshot
        try:
            restored = detector.import_entity(entity, state)
        except (ValueError, KeyError, TypeError) as error:
            log.warning("cannot restore multivariate state of %r (partition %d): %r", entity, partition, error)
            return
        if restored:
            self._entities_owned.setdefault(partition, set()).add(entity)
            self.entities_restored += 1
