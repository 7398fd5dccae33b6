"""`KeyPartitioner` puts every key where aiokafka's (and the Java client's) default partitioner puts it."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner, murmur2
from hypothesis import given, settings
from hypothesis import strategies as st

from aiops.runtime.partitioner import VECTOR_MIN_KEYS, KeyPartitioner, murmur2_many

KEYS = st.lists(st.binary(max_size=70), max_size=3 * VECTOR_MIN_KEYS)


@settings(max_examples=200, deadline=None)
@given(KEYS)
def test_vector_murmur2_equals_aiokafka(keys: list[bytes]) -> None:
    assert murmur2_many(keys) == [murmur2(key) for key in keys]


@settings(max_examples=100, deadline=None)
@given(keys=KEYS, count=st.integers(1, 64))
def test_partitions_equal_the_default_partitioner(keys: list[bytes], count: int) -> None:
    partitions = list(range(count))
    partitioner = KeyPartitioner()
    expected = [DefaultPartitioner()(key, partitions, partitions) for key in keys]
    assert partitioner.partitions(keys, partitions) == expected
    assert partitioner.partitions(keys, partitions) == expected  # remembered keys: the same answer


def test_known_keys_and_lengths_of_every_tail() -> None:
    keys = [b"", b"a", b"ab", b"abc", b"abcd", b"payments|alert:0123456789abcdef", "zürich|h".encode()] * 3
    assert murmur2_many(keys) == [murmur2(key) for key in keys]
    assert murmur2(b"") == murmur2_many([b""])[0]


def test_memory_is_bounded() -> None:
    partitioner = KeyPartitioner(max_remembered=10)
    for start in range(0, 100, 20):
        partitioner.partitions([str(n).encode() for n in range(start, start + 20)], [0, 1, 2])
    assert len(partitioner._known) <= 30
