"""Per-key window counts of the log anomaly detector: counts of still-open windows and EWMA baselines.

`Counter` holds one (service, template) key's counts per open event-time window, its EWMA baseline over
closed windows, and a normal baseline over only the windows its service had no open log episode in (what
a drop is judged against); `Closed` is one closed window's figures. `dump_counter`/`load_counter` carry a
counter through JSON snapshots. The rules that read them live in `logs.anomaly`; nothing here decides.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple


class Closed(NamedTuple):
    """Figures of one closed window of one key."""

    observed: int
    baseline: float
    samples: list[str]
    end: float


@dataclass(slots=True)
class Counter:
    """Counts of one key per still-open window (each line in its own window), with an EWMA baseline of
    the closed windows' counts and a normal baseline of only the windows its service had no log anomaly in."""

    counts: dict[int, int] = field(default_factory=dict)
    baseline: float = 0.0
    windows: int = 0
    last_window: int = 0
    last_seen: float = 0.0
    host: str = ""
    samples: dict[int, list[str]] = field(default_factory=dict)
    normal_baseline: float = 0.0
    """EWMA of the counts of windows closed while the service had no open log episode: what "normal" is."""
    normal_windows: int = 0
    top_level: int = 0
    """Highest level rank of the key's lines."""


def dump_counter(counter: Counter) -> dict[str, Any]:
    return {**asdict(counter), "counts": list(counter.counts.items()), "samples": list(counter.samples.items())}


def load_counter(item: dict[str, Any]) -> Counter:
    """A counter from `dump_counter` output; one from before the normal baseline takes its baseline as
    normal and no top level (as the detector judged it then)."""
    return Counter(
        counts={int(w): int(n) for w, n in item["counts"]}, baseline=float(item["baseline"]),
        windows=int(item["windows"]), last_window=int(item["last_window"]), last_seen=float(item["last_seen"]),
        host=str(item["host"]), samples={int(w): [str(x) for x in lines] for w, lines in item["samples"]},
        normal_baseline=float(item.get("normal_baseline", item["baseline"])),
        normal_windows=int(item.get("normal_windows", item["windows"])), top_level=int(item.get("top_level", 0)),
    )
