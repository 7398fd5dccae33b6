"""The batched (numpy) Alertmanager fingerprint equals the scalar one for any label sets; the cache is bounded."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from aiops.ingest import fingerprint

label_sets = st.lists(st.dictionaries(st.text(max_size=12), st.text(max_size=40), max_size=6), min_size=1,
                      max_size=80)


@settings(max_examples=60, deadline=None)
@given(label_sets)
def test_batched_fingerprints_equal_the_scalar_ones(sets: list[dict[str, str]]) -> None:
    fingerprint._cache.clear()
    batched = fingerprint.label_fingerprints(sets)
    fingerprint._cache.clear()
    assert batched == [fingerprint.label_fingerprint(one) for one in sets]


def test_the_vector_path_runs_and_matches_known_values() -> None:
    fingerprint._cache.clear()
    sets = [{"alertname": f"A{i}", "zone": "zürich"} for i in range(fingerprint.VECTOR_MIN_SETS * 2)]
    sets.append({})
    got = fingerprint.label_fingerprints(sets)
    assert got[-1] == f"{fingerprint.FNV64_OFFSET:016x}"  # the empty set: FNV's offset basis
    fingerprint._cache.clear()
    assert got == [fingerprint.label_fingerprint(one) for one in sets]


def test_the_cache_is_bounded() -> None:
    fingerprint._cache.clear()
    for i in range(fingerprint.CACHE_SIZE + 10):
        fingerprint.label_fingerprint({"n": str(i)})
    assert len(fingerprint._cache) == fingerprint.CACHE_SIZE
