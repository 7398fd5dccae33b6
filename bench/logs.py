"""Template-miner throughput and memory on a 1-million-line synthetic stream.

The stream mixes 40 templates with high-cardinality parameters (UUIDs, IPs, ports, numbers, hex, paths,
and random alphabetic user/host names that no masking rule catches, so they reach the similarity search
and the caches). Lines are generated in chunks with a seeded RNG; only `miner.add` is timed. At every
checkpoint it prints lines/s, clusters, cache sizes and resident memory (RSS from /proc/self/statm, and
tracemalloc-traced memory in a separate shorter pass) so that bounded memory can be checked.

With --drain3 stock drain3 mines the same stream; --repeats N alternates the two N times and the summary
reports the best lines/s of each (the machine may be shared: compare within one run).

Usage: python bench/logs.py [--lines 1000000] [--seed 7] [--drain3] [--repeats 3] [--clock cpu]
"""

from __future__ import annotations

import argparse
import os
import random
import string
import time
import tracemalloc
from collections.abc import Callable, Iterator

from aiops.logmining.miner import TemplateMiner
from aiops_eval.baselines.drain_adapter import Drain3Miner

_VERBS = ["opened", "closed", "reset", "refused", "accepted", "timed out", "retried", "dropped"]


def _word(rng: random.Random, low: int = 4, high: int = 10) -> str:
    return "".join(rng.choices(string.ascii_lowercase, k=rng.randint(low, high)))


def _templates() -> list[Callable[[random.Random], str]]:
    def ip(r: random.Random) -> str:
        return ".".join(str(r.randint(0, 255)) for _ in range(4))

    def uuid(r: random.Random) -> str:
        return f"{r.getrandbits(32):08x}-{r.getrandbits(16):04x}-{r.getrandbits(16):04x}-" \
               f"{r.getrandbits(16):04x}-{r.getrandbits(48):012x}"

    makers: list[Callable[..., str]] = []
    for index, verb in enumerate(_VERBS):
        makers += [
            lambda r, v=verb, i=index: f"conn{i} {v} from {ip(r)}:{r.randint(1024, 65535)} user {_word(r)}",
            lambda r, v=verb: f"request {uuid(r)} {v} after {r.randint(1, 99999)} ms on /srv/{_word(r)}/x",
            lambda r, v=verb, i=index: f"worker-{i} job {r.getrandbits(40):#x} {v} status={r.choice(['ok', 'fail'])}",
            lambda r, v=verb, i=index: f"Session {r.randint(1, 10**9)} of host {_word(r)}.example.com {v} code {i}",
            lambda r, v=verb: f"cache {v} key={_word(r, 8, 16)} size {r.random() * 1000:.1f} MB",
        ]
    return makers


def generate(count: int, seed: int, chunk: int = 100_000) -> Iterator[list[str]]:
    """Yield the stream in chunks of generated lines (deterministic for a seed)."""
    rng = random.Random(seed)
    makers = _templates()
    made = 0
    while made < count:
        size = min(chunk, count - made)
        yield [rng.choice(makers)(rng) for _ in range(size)]
        made += size


def rss_mib() -> float:
    with open("/proc/self/statm", encoding="ascii") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def run(miner: TemplateMiner | Drain3Miner, lines: int, seed: int, label: str,
        clock: Callable[[], float] = time.perf_counter) -> float:
    seconds = 0.0
    done = 0
    for block in generate(lines, seed):
        started = clock()
        for line in block:
            miner.add(line)
        seconds += clock() - started
        done += len(block)
        if done % 200_000 == 0 or done == lines:
            extra = ""
            if isinstance(miner, TemplateMiner):
                extra = (f" clusters={len(miner.clusters)} line_cache={len(miner._cache)}"
                         f" shape_cache={len(miner._shapes)} token_cache={len(miner.masker._cache)}")
            print(f"{label}: {done:>9,} lines {done / seconds:>10,.0f} lines/s rss={rss_mib():7.1f} MiB{extra}")
    return done / seconds


def traced_memory(lines: int, seed: int) -> None:
    tracemalloc.start()
    miner = TemplateMiner()
    done = 0
    for block in generate(lines, seed, chunk=50_000):
        for line in block:
            miner.add(line)
        done += len(block)
        del block
        current, peak = tracemalloc.get_traced_memory()
        if done % 100_000 == 0:
            print(f"tracemalloc: {done:>9,} lines current={current / 2**20:6.1f} MiB peak={peak / 2**20:6.1f} MiB")
    tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--drain3", action="store_true", help="also run stock drain3 on the same stream")
    parser.add_argument("--traced-lines", type=int, default=300_000, help="lines of the tracemalloc pass")
    parser.add_argument("--repeats", type=int, default=1, help="alternate runs; report the best of each")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="cpu: process CPU time, steadier when the machine is shared")
    args = parser.parse_args()
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    ours = theirs = 0.0
    for attempt in range(1, max(1, args.repeats) + 1):
        ours = max(ours, run(TemplateMiner(), args.lines, args.seed, f"aiops#{attempt}", clock))
        if args.drain3:
            theirs = max(theirs, run(Drain3Miner(), args.lines, args.seed, f"drain3#{attempt}", clock))
    summary = f"best of {max(1, args.repeats)}: aiops {ours:,.0f} lines/s"
    if args.drain3:
        summary += f", drain3 {theirs:,.0f} lines/s, speed-up vs drain3: {ours / theirs:.2f}x"
    print(summary)
    traced_memory(args.traced_lines, args.seed)


if __name__ == "__main__":
    main()
