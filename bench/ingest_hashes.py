"""HTTP ingest's two hashes, ours beside the library or scalar loop they replace, per key at several batch sizes.

- Kafka partition of a record key: `aiops.runtime.partitioner.murmur2_many` (numpy, all keys of a flush
  at once) against aiokafka's `murmur2` (a pure-Python loop), on keys shaped like the front's
  (``service|alert:<fingerprint>``).
- Alertmanager fingerprint of a label set: `aiops.ingest.fingerprint._vector_digests` (numpy, a request's
  uncached sets at once) against the scalar FNV-1a loop (no 64-bit FNV-1a in C is on PyPI).

Both are property-tested equal to what they replace (tests/unit/test_partitioner.py,
tests/unit/test_ingest_fingerprint.py). Best of 5 repeats; CPU time of this process.

    python bench/ingest_hashes.py [--sizes 10,32,100,2000]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from aiokafka.partitioner import murmur2

from aiops.ingest.fingerprint import _encoded, _joined, _scalar_digest, _vector_digests
from aiops.runtime.partitioner import murmur2_many


def per_item_us(work: Callable[[], object], items: int, repeats: int = 5) -> float:
    """Best CPU microseconds per item of `work` over `repeats` runs of enough calls to last ~0.1 s."""
    calls = max(1, 20_000 // items)
    best = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        for _ in range(calls):
            work()
        best = min(best, (time.process_time() - started) / calls / items * 1e6)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[10, 32, 100, 2000])
    args = parser.parse_args()
    print("| keys per call | murmur2: aiokafka us/key | murmur2: numpy us/key | FNV-1a: scalar us/set "
          "| FNV-1a: numpy us/set |\n| --- | --- | --- | --- | --- |")
    for size in args.sizes:
        keys = [f"svc-{n % 200}|alert:{n * 2654435761 % 2**64:016x}".encode() for n in range(size)]
        label_sets = [_encoded(_joined({"alertname": f"Alert{n % 50}", "instance": f"10.0.{n % 250}.1:9100",
                                        "n": str(n), "service": f"svc-{n % 200}", "severity": "warning"}))
                      for n in range(size)]
        row = [per_item_us(lambda keys=keys: [murmur2(key) for key in keys], size),
               per_item_us(lambda keys=keys: murmur2_many(keys), size),
               per_item_us(lambda sets=label_sets: [_scalar_digest(data) for data in sets], size),
               per_item_us(lambda sets=label_sets: _vector_digests(sets), size)]
        print(f"| {size} | " + " | ".join(f"{value:.2f}" for value in row) + " |", flush=True)


if __name__ == "__main__":
    main()
