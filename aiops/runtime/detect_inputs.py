"""What a detection watermark says about each input topic-partition: `Watermark.inputs` and `input_count`.

Correlation advances to the lowest watermark over every input topic-partition once each was reported
(`correlation_store.InputClocks`), so event time cannot run ahead of a partition no worker has processed
yet (after a crash, while partitions are handed out in steps). A worker reports an owned partition once it
has *caught up* with it since it was assigned: it delivered records (they are then released in event-time
order with the others, `watermarks.InputAlignment`) or it is idle. At a tick every such partition has
reached the worker's watermark: a tick only follows a record released while no owned partition waited
(each had a record queued at a later time, or was idle), and a partition assigned late, behind the
worker's clock, makes no tick until its records caught up. So each is reported at that watermark; a
partition just assigned and silent is left out until it delivers or its idle time passed. `input_count` is
the number of partitions of the events topic and every raw-log topic, from the consumer's metadata (the
configured `topics.events_partitions` per topic while it has none). Without a consumer (no group) it is 0:
correlation then advances to the watermark's `ts`, as replay does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from aiokafka import TopicPartition


class InputWatermarks:
    """The partitions a worker has caught up with since they were assigned, and the inputs' total count."""

    def __init__(self, topics: Iterable[str], configured_partitions: int) -> None:
        self.topics = sorted(set(topics))
        self.configured_partitions = configured_partitions
        self._delivered: set[TopicPartition] = set()

    def delivered(self, partition: TopicPartition) -> None:
        """Records of `partition` were fetched (and queued for release in event-time order)."""
        self._delivered.add(partition)

    def revoked(self, partitions: Iterable[TopicPartition]) -> None:
        """Partitions given up: if they come back, they are reported again only once caught up."""
        self._delivered.difference_update(partitions)

    def inputs(self, owned: Iterable[TopicPartition], watermark: float,
               idle: Callable[[TopicPartition], bool]) -> dict[str, float]:
        """``topic/partition`` -> `watermark` for every owned partition delivered since assigned or idle."""
        return {f"{tp.topic}/{tp.partition}": watermark for tp in sorted(owned)
                if tp.topic in self.topics and (tp in self._delivered or idle(tp))}

    def count(self, consumer: Any) -> int:
        """Input topic-partitions in all (every member's); 0 without a consumer."""
        if consumer is None:
            return 0
        total = 0
        for topic in self.topics:
            partitions = consumer.partitions_for_topic(topic)
            total += len(partitions) if partitions else self.configured_partitions
        return total
