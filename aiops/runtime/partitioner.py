"""Kafka's default partition of many record keys at once: murmur2 as the Java client and aiokafka compute it.

`KeyPartitioner.partitions` gives each key the partition aiokafka's `DefaultPartitioner` would (murmur2 of the
key, sign bit cleared, modulo the partition count), so a key lands where any Kafka client would put it. The
hash runs over all uncached keys of a call together with numpy (uint32 arithmetic wraps like the Java code),
because aiokafka's murmur2 is a pure-Python byte loop and HTTP ingest sees mostly new keys under a storm;
remembered keys cost a dict lookup. Property-tested equal to aiokafka's function. Keys only, never `None`.
"""

from __future__ import annotations

import numpy as np
from aiokafka.partitioner import murmur2

SEED = 0x9747B28C
M = np.uint32(0x5BD1E995)
VECTOR_MIN_KEYS = 16
"""Below this many uncached keys, aiokafka's scalar function is faster than numpy's per-call overhead."""
MAX_REMEMBERED_KEYS = 100_000


def murmur2_many(keys: list[bytes]) -> list[int]:
    """aiokafka's `murmur2` of each key: word columns hashed for every key still that long, then the tails."""
    if not keys:
        return []
    lengths = np.array([len(key) for key in keys], dtype=np.int64)
    width = int(-(-lengths.max() // 4) * 4) if keys else 0
    padded = np.frombuffer(b"".join(key.ljust(width, b"\0") for key in keys), dtype="<u4").reshape(len(keys), -1)
    h = (np.uint32(SEED) ^ lengths.astype(np.uint32)).astype(np.uint32)
    words = lengths // 4
    for column in range(width // 4):
        rows = words > column
        k = padded[rows, column] * M
        k ^= k >> np.uint32(24)
        k *= M
        h[rows] = (h[rows] * M) ^ k
    tail = padded[np.arange(len(keys)), np.minimum(words, max(width // 4 - 1, 0))] if width else h * 0
    extra = lengths % 4
    tail &= np.where(extra == 3, 0xFFFFFF, np.where(extra == 2, 0xFFFF, 0xFF)).astype(np.uint32)
    has_tail = extra > 0
    h[has_tail] = (h[has_tail] ^ tail[has_tail]) * M
    h ^= h >> np.uint32(13)
    h *= M
    h ^= h >> np.uint32(15)
    return [int(value) for value in h.tolist()]


class KeyPartitioner:
    """Partitions of record keys for a topic of a given partition count, remembering the keys it has seen."""

    def __init__(self, max_remembered: int = MAX_REMEMBERED_KEYS) -> None:
        self.max_remembered = max_remembered
        self._known: dict[bytes, int] = {}
        """Key -> murmur2 & 0x7fffffff (independent of the partition count)."""

    def partitions(self, keys: list[bytes], partitions: list[int]) -> list[int]:
        """The partition (from `partitions`, sorted by id) of each key, as aiokafka's default partitioner."""
        known = self._known
        if len(known) > self.max_remembered:
            known.clear()
        misses = [key for key in dict.fromkeys(keys) if key not in known]
        if len(misses) >= VECTOR_MIN_KEYS:
            known.update(zip(misses, (value & 0x7FFFFFFF for value in murmur2_many(misses)), strict=True))
        else:
            known.update((key, murmur2(key) & 0x7FFFFFFF) for key in misses)
        count = len(partitions)
        return [partitions[known[key] % count] for key in keys]
