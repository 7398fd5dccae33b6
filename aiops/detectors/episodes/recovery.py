"""Recovery is not an anomaly: tell a series coming back to its normal level from one leaving it.

A detector's expected value follows the series, so after a spike, a dip or a long level shift it has
moved away from where the series normally sits, and the series coming back looks like a deviation of its
own (the fast level dragged up by a one-point spike makes the next, normal point "below baseline"; a
baseline adapted to an outage's level makes the return "above baseline"). `NormalLevel` remembers, per
series, the level it calmly held (`anchor`: the expected value at its last calm point, one within the
noise band of the expectation) and, once an episode fired, pins that level for `memory_seconds` after the
episode's last anomalous point. A flagged point is a recovery when it is back within the noise band of that
level and nearer to it than to the expectation, and the series recently left it (a departure, or a pin).
The episode tracker counts such a point as normal: it never opens or confirms an episode, and it helps
close one. Pure state, no I/O; it does not score anything itself.
"""

from __future__ import annotations

from dataclasses import dataclass

DEPARTURE_MEMORY_POINTS = 30
"""A departure from the calm level (without an episode) makes a return to it a recovery for this many points."""
DEPARTURE_BAND = 2.0
"""A point departs when it is this many noise bands (`sigmas` x noise sigma) from the calm level."""


@dataclass(slots=True)
class NormalLevel:
    """Where one series calmly was before it last left it (see the module docstring)."""

    anchor: float | None = None
    """Expected value at the series' last calm point (not updated while pinned)."""
    departed_at: int = -(1 << 30)
    """Point number of the last point far from `anchor`."""
    pinned: float | None = None
    """`anchor` when an episode fired: the level a return to counts as recovery, until `pinned_until`."""
    pinned_until: float = 0.0
    points: int = 0

    def reference(self, ts: float) -> float | None:
        """The normal level a return to is recovery, or None (the series has not recently left it)."""
        if self.pinned is not None and ts <= self.pinned_until:
            return self.pinned
        if self.anchor is not None and self.points - self.departed_at <= DEPARTURE_MEMORY_POINTS:
            return self.anchor
        return None

    def is_recovery(self, ts: float, value: float, expected: float, band: float) -> bool:
        """`value`, flagged against `expected`, is back within `band` of the normal level and nearer to it."""
        reference = self.reference(ts)
        if reference is None:
            return False
        back = abs(value - reference)
        return back <= band and back < abs(value - expected)

    def learn(self, ts: float, value: float, expected: float | None, band: float | None, anomalous: bool) -> None:
        """Fold one scored point in (`band`: the noise band, None while the noise scale warms up)."""
        self.points += 1
        if self.pinned is not None and ts > self.pinned_until:
            self.pinned = None
        if expected is None or band is None:
            return
        calm = not anomalous and abs(value - expected) <= band
        if self.pinned is not None:
            if calm and abs(value - self.pinned) <= band:  # back at the old level and calm there: recovered
                self.pinned = None
            else:
                return
        if calm:
            self.anchor = expected
        elif self.anchor is not None and abs(value - self.anchor) > DEPARTURE_BAND * band:
            self.departed_at = self.points

    def pin(self, ts: float, memory_seconds: float) -> None:
        """An episode is anomalous at `ts`: hold the calm level until `memory_seconds` after its last point."""
        if self.pinned is None:
            if self.anchor is None:
                return
            self.pinned = self.anchor
        self.pinned_until = ts + memory_seconds

    def dump(self) -> list[float | int | None]:
        return [self.anchor, self.departed_at, self.pinned, self.pinned_until, self.points]

    @classmethod
    def load(cls, state: list[float | int | None]) -> NormalLevel:
        anchor, departed_at, pinned, pinned_until, points = state
        return cls(
            None if anchor is None else float(anchor), int(departed_at or 0),
            None if pinned is None else float(pinned), float(pinned_until or 0.0), int(points or 0),
        )
