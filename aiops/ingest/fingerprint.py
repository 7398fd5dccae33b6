"""Alertmanager's fingerprint of a label set, one at a time or a request's worth at once.

The fingerprint is prometheus/common's `LabelSet.Fingerprint`: FNV-1a 64 over the label names in byte order,
each name and value followed by the byte 0xff, shown as 16 hex digits, so an alert keeps the identity
Alertmanager gives it. `label_fingerprint` hashes one set (cached: Prometheus re-sends every firing alert each
minute); `label_fingerprints` hashes many, the cache misses of a large request column by column with numpy
(uint64 arithmetic wraps exactly like the scalar loop: same digits, a few times faster per set). Pure.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence

import numpy as np

FNV64_OFFSET = 14695981039346656037
FNV64_PRIME = 1099511628211
_U64 = (1 << 64) - 1
VECTOR_MIN_SETS = 32
"""Below this many uncached sets in one call, the scalar loop is faster than numpy's per-column overhead."""
CACHE_SIZE = 16384
"""Label sets remembered (first in, first out): a Prometheus' firing alerts, re-sent every minute."""

SEPARATOR = "\udcff"
"""The byte 0xff as text: `surrogateescape` encodes this lone surrogate as 0xff, and no label can hold it (JSON
parsing refuses lone surrogates), so a label set joins into one string that is both its cache key (hashed in C)
and, encoded, the bytes to hash."""
_cache: OrderedDict[str, str] = OrderedDict()  # evicts the oldest in O(1) (a dict's first key is not)


def _joined(labels: Mapping[str, str]) -> str:
    """Names in byte order, each name and value followed by the separator (prometheus/common's layout)."""
    items = sorted(labels.items())
    return SEPARATOR.join([text for pair in items for text in pair]) + SEPARATOR if items else ""


def _encoded(joined: str) -> bytes:
    return joined.encode("utf-8", "surrogateescape")


def _scalar_digest(data: bytes, prime: int = FNV64_PRIME, mask: int = _U64) -> int:
    digest = FNV64_OFFSET  # (prime and mask are parameters: locals make this byte loop twice as fast)
    for byte in data:
        digest = ((digest ^ byte) * prime) & mask
    return digest


def _remember(joined: str, digest: int) -> str:
    if len(_cache) >= CACHE_SIZE:
        _cache.popitem(last=False)
    text = _cache[joined] = f"{digest:016x}"
    return text


def _fingerprint(joined: str) -> str:
    known = _cache.get(joined)
    return known if known is not None else _remember(joined, _scalar_digest(_encoded(joined)))


def label_fingerprint(labels: Mapping[str, str]) -> str:
    """Alertmanager's fingerprint of one label set."""
    return _fingerprint(_joined(labels))


def _vector_digests(encoded: list[bytes]) -> list[int]:
    """FNV-1a 64 of each byte string, all at once: rows sorted longest first, so the rows still hashing at
    column j are a prefix, and each column costs two in-place operations on that prefix."""
    order = sorted(range(len(encoded)), key=lambda i: -len(encoded[i]))
    lengths = np.array([len(encoded[i]) for i in order], dtype=np.int64)
    flat = np.frombuffer(b"".join(encoded[i] for i in order), dtype=np.uint8)
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    rows = np.repeat(np.arange(len(order)), lengths)
    columns = np.zeros((int(lengths[0]), len(order)), dtype=np.uint64)
    columns[np.arange(flat.size) - starts, rows] = flat
    active = np.searchsorted(-lengths, -np.arange(int(lengths[0])), side="left")  # rows longer than column j
    digests = np.full(len(order), FNV64_OFFSET, dtype=np.uint64)
    prime = np.uint64(FNV64_PRIME)
    for column, count in zip(columns, active.tolist(), strict=True):
        head = digests[:count]
        head ^= column[:count]
        head *= prime  # wraps modulo 2**64, as the scalar loop's mask does
    result = [0] * len(encoded)
    for row, value in enumerate(digests.tolist()):
        result[order[row]] = value
    return result


def label_fingerprints(label_sets: Sequence[Mapping[str, str]]) -> list[str]:
    """`label_fingerprint` of each set; uncached sets of a large call are hashed together with numpy."""
    joined = [_joined(labels) for labels in label_sets]
    misses = [one for one in dict.fromkeys(joined) if one not in _cache]
    if len(misses) >= VECTOR_MIN_SETS:
        fresh = dict(zip(misses, _vector_digests([_encoded(one) for one in misses]), strict=True))
        return [_cache.get(one) or _remember(one, fresh[one]) for one in joined]
    return [_fingerprint(one) for one in joined]
