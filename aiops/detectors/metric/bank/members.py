"""Vectorised ensemble members: level, variance, drift and flat-line detectors over a block (seasonal: `seasonal.py`).

Each `*Columns` class mirrors one `CalibratedDetector` subclass of the default ensemble (`mirrors`) on a
`[fields, m]` block of series (see `layout.py`): `ready`, `judge` (statistic, centre, spread of every
column against the current state, pure) and `update` (the state part of `absorb`; the caller feeds the
tail). The formulas, their operation order and every ``max``/``min`` written as a comparison are the
scalar detectors', so results agree with them to the last bits (exactly where numpy's transcendental
functions round like `math`; see ensemble_bank.py). `export`/`load` move one series' state to and from a
scalar detector (the snapshot path); `unsupported` says why a member cannot be mirrored. Hyper-parameters
come from the prototype detector. It does not fit tails (see `TailColumns`) nor combine members (see
`ensemble_bank.py`).
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

import numpy as np

from aiops.detectors.metric.bank.held import HeldColumns
from aiops.detectors.metric.bank.layout import Array, Index, Layout, Mask, TailColumns, where
from aiops.detectors.metric.calibrated import CalibratedDetector
from aiops.detectors.metric.confirm import HeldStatistic
from aiops.detectors.metric.drift import DriftDetector
from aiops.detectors.metric.flatline import REPEAT_TOLERANCE, FlatLineDetector
from aiops.detectors.metric.level import ABS_SCALE_FLOOR, BAND, REL_SCALE_FLOOR, LevelDetector
from aiops.detectors.metric.variance import VarianceDetector

Judged = tuple[Array, Array | None, Array | None]
"""(statistic, centre or None when the member gives none, spread or None)."""
M = TypeVar("M", bound=CalibratedDetector)


def scale_floor(level: Array) -> Array:
    """`level.scale_floor` per column."""
    floor = np.abs(level) * REL_SCALE_FLOOR
    return where(floor < ABS_SCALE_FLOOR, ABS_SCALE_FLOOR, floor)


def at_least(rate: float, inverse: Array) -> Array:
    """``rate``, raised to ``inverse`` where that is larger (the scalar ``if 1.0 / n > rate``)."""
    return where(inverse > rate, inverse, rate)


class MemberColumns(Generic[M]):
    """One member's rows (count plus `fields`) and its tail's; subclasses add the statistic."""

    mirrors: ClassVar[type[CalibratedDetector]] = CalibratedDetector
    """The scalar member class whose state and formulas these columns hold (exactly that class)."""
    fields: ClassVar[tuple[str, ...]] = ()
    int_fields: ClassVar[frozenset[str]] = frozenset()
    outside_fields: ClassVar[frozenset[str]] = frozenset()
    """State fields kept in arrays outside the block (a subclass' own export/load)."""
    confirms: ClassVar[bool] = False
    """The subclass applies `confirmed`/`remember` of `held` (the scalar member's `HeldStatistic`)."""

    @classmethod
    def unsupported(cls, label: str, component: CalibratedDetector) -> str | None:
        """Why these columns cannot hold `component` (None: they can)."""
        if type(component) is not cls.mirrors:
            return f"ensemble member {label} is a {type(component)!r}, not a {cls.mirrors!r}"
        unknown = set(component.state_fields) - set(cls.fields) - cls.outside_fields
        if cls.confirms:
            unknown.discard("recent")
        if unknown:
            return f"ensemble member {label} has state the bank does not know: {sorted(unknown)}"
        if isinstance(component, HeldStatistic) and component.confirm_points > 1 and not cls.confirms:
            return f"ensemble member {label} confirms its statistic, which the bank does not do for it"
        return None

    def __init__(self, layout: Layout, label: str, component: M) -> None:
        reason = self.unsupported(label, component)
        if reason is not None:
            raise TypeError(reason)
        self.label = label
        self.describes_shape = component.describes_shape
        self.warmup = component.warmup_points
        self.count = layout.add(f"{label}.count", component.count)
        self.rows = {name: layout.add(f"{label}.{name}", getattr(component, name)) for name in self.fields}
        self.tail = TailColumns(layout, f"{label}.tail", component.tail) if component.uses_tail else None
        self._snapshot_plan = tuple(
            (name, self.rows.get(name, -1), name in self.int_fields) for name in component.state_fields
        )
        """(field, its row or -1 when kept outside the block, integer?) in the scalar snapshot's order."""
        self.idle_tail = None if component.uses_tail else component.tail.snapshot()
        """The unused tail of a member without one, as its snapshots show it (never learns)."""
        self.held = HeldColumns(layout, label, component)

    def grow(self, capacity: int) -> None:
        """Room for `capacity` series in arrays kept outside the block."""
        self.held.grow(capacity)

    def ready(self, block: Array) -> Mask:
        ready: Mask = block[self.count] >= self.warmup
        return ready

    def judge(self, block: Array, series: Index, ts: Array, seen: Array) -> Judged:
        raise NotImplementedError

    def update(self, block: Array, series: Index, ts: Array, seen: Array) -> None:
        raise NotImplementedError

    def export(self, series: int, column: Array, component: M) -> None:
        """Write one series' state (`column`) into a freshly built scalar `component`."""
        component.count = int(column[self.count])
        for name, row in self.rows.items():
            setattr(component, name, int(column[row]) if name in self.int_fields else float(column[row]))
        if self.tail is not None:
            component.tail.load(self.tail.state(column))
        self.held.export(series, column, component)
        component.refresh_derived()  # the scalar's own rules (`ready`, ...), as its `load` applies them

    def snapshot(self, series: int, column: list[float]) -> dict[str, Any]:
        """One series' `component.snapshot()`, straight from its state (`column`, as a list)."""
        state: dict[str, Any] = {}
        for name, row, integer in self._snapshot_plan:
            if row < 0:
                state[name] = self._outside(series, column, name)
            else:
                state[name] = int(column[row]) if integer else column[row]
        if self.tail is not None:
            tail = self.tail.state(column)
        else:
            idle = self.idle_tail or {}
            tail = {**idle, "batch": list(idle.get("batch", []))}
        return {"count": int(column[self.count]), "tail": tail, "state": state}

    def _outside(self, series: int, column: list[float], name: str) -> Any:
        """A state field kept outside the block (subclasses add theirs)."""
        if name == "recent":
            return self.held.recent_of(series, column)
        raise KeyError(name)

    def load(self, series: int, column: Array, component: M) -> None:
        """Overwrite one series' `column` with a scalar `component`'s state."""
        column[self.count] = component.count
        for name, row in self.rows.items():
            column[row] = getattr(component, name)
        if self.tail is not None:
            self.tail.load(column, component.tail)
        self.held.load(series, column, component)


class LevelColumns(MemberColumns[LevelDetector]):
    """`LevelDetector`: robust z against an EWMA level."""

    mirrors = LevelDetector
    fields = ("level", "scale")
    confirms = True

    def __init__(self, layout: Layout, label: str, component: LevelDetector) -> None:
        super().__init__(layout, label, component)
        self.alpha, self.scale_alpha, self.clip = component.alpha, component.scale_alpha, component.clip

    def judge(self, block: Array, series: Index, ts: Array, seen: Array) -> Judged:
        level, scale = block[self.rows["level"]], block[self.rows["scale"]]
        floor = scale_floor(level)
        scale = where(floor > scale, floor, scale)
        return self.held.confirmed(block, np.abs(seen - level) / scale), level, BAND * scale

    def update(self, block: Array, series: Index, ts: Array, seen: Array) -> None:
        count, level, old = block[self.count], block[self.rows["level"]], block[self.rows["scale"]]
        residual = seen - level
        floor = scale_floor(level)
        scale = where(floor > old, floor, old)
        self.held.remember(block, series, np.abs(residual) / scale, count > 0)
        clipped = np.abs(residual)
        cap = self.clip * scale
        clipped = where((count > self.warmup) & (cap < clipped), cap, clipped)
        scaled = old + at_least(self.scale_alpha, 1.0 / count) * (clipped - old)
        moved = level + at_least(self.alpha, 1.0 / (count + 1)) * residual
        first = count == 0
        block[self.rows["level"]] = where(first, seen, moved)
        block[self.rows["scale"]] = where(first, old, scaled)
        block[self.count] = count + 1


class VarianceColumns(MemberColumns[VarianceDetector]):
    """`VarianceDetector`: log ratio of short- to long-horizon mean absolute change."""

    mirrors = VarianceDetector
    fields = ("previous", "short", "long")

    def __init__(self, layout: Layout, label: str, component: VarianceDetector) -> None:
        super().__init__(layout, label, component)
        self.short_alpha, self.long_alpha, self.clip = component.short_alpha, component.long_alpha, component.clip

    def judge(self, block: Array, series: Index, ts: Array, seen: Array) -> Judged:
        previous, short = block[self.rows["previous"]], block[self.rows["short"]]
        short = short + self.short_alpha * (np.abs(seen - previous) - short)
        floor = scale_floor(previous)
        statistic = np.log((short + floor) / (block[self.rows["long"]] + floor))
        return where(statistic < 0.0, 0.0, statistic), None, None

    def update(self, block: Array, series: Index, ts: Array, seen: Array) -> None:
        count = block[self.count]
        previous, short, long = (block[self.rows[name]] for name in ("previous", "short", "long"))
        change = np.abs(seen - previous)
        cap = self.clip * long
        capped = where((count > self.warmup) & (cap < change), cap, change)
        later = count > 0
        block[self.rows["short"]] = where(later, short + self.short_alpha * (change - short), short)
        block[self.rows["long"]] = where(later, long + at_least(self.long_alpha, 1.0 / count) * (capped - long), long)
        block[self.rows["previous"]] = seen
        block[self.count] = count + 1


class DriftColumns(MemberColumns[DriftDetector]):
    """`DriftDetector`: standardised gap between a fast and a slow EWMA (confirmed over `confirm_points`)."""

    mirrors = DriftDetector
    fields = ("fast", "slow", "gap_centre", "gap_scale")
    confirms = True

    def __init__(self, layout: Layout, label: str, component: DriftDetector) -> None:
        super().__init__(layout, label, component)
        self.fast_alpha, self.slow_alpha = component.fast_alpha, component.slow_alpha
        self.gap_alpha, self.clip = component.gap_alpha, component.clip

    def _gap(self, block: Array, seen: Array) -> Array:
        fast, slow = block[self.rows["fast"]], block[self.rows["slow"]]
        gap: Array = (fast + self.fast_alpha * (seen - fast)) - (slow + self.slow_alpha * (seen - slow))
        return gap

    def _scale(self, block: Array, slow: Array) -> Array:
        floor, gap_scale = scale_floor(slow), block[self.rows["gap_scale"]]
        return where(~(gap_scale < floor), gap_scale, floor)

    def _standardised(self, block: Array, seen: Array) -> Array:
        scale = self._scale(block, block[self.rows["slow"]])
        gap: Array = np.abs(self._gap(block, seen) - block[self.rows["gap_centre"]]) / scale
        return gap

    def judge(self, block: Array, series: Index, ts: Array, seen: Array) -> Judged:
        return self.held.confirmed(block, self._standardised(block, seen)), block[self.rows["slow"]], None

    def update(self, block: Array, series: Index, ts: Array, seen: Array) -> None:
        count, fast, slow = block[self.count], block[self.rows["fast"]], block[self.rows["slow"]]
        centre, gap_scale = block[self.rows["gap_centre"]], block[self.rows["gap_scale"]]
        if self.held.kept:
            self.held.remember(block, series, self._standardised(block, seen), count > 0)
        gap = self._gap(block, seen)
        moved_fast = fast + self.fast_alpha * (seen - fast)
        moved_slow = slow + at_least(self.slow_alpha, 1.0 / (count + 1)) * (seen - slow)
        deviation = gap - centre
        bound = self.clip * self._scale(block, moved_slow)
        late = count > self.warmup
        deviation = where(late & (bound < deviation), bound, deviation)
        deviation = where(late & ~(deviation > -bound), -bound, deviation)
        rate = at_least(self.gap_alpha, 1.0 / count)
        first = count == 0
        block[self.rows["fast"]] = where(first, seen, moved_fast)
        block[self.rows["slow"]] = where(first, seen, moved_slow)
        block[self.rows["gap_centre"]] = where(first, centre, centre + rate * deviation)
        block[self.rows["gap_scale"]] = where(first, gap_scale, gap_scale + rate * (np.abs(deviation) - gap_scale))
        block[self.count] = count + 1


class FlatLineColumns(MemberColumns[FlatLineDetector]):
    """`FlatLineDetector`: geometric run-length surprise of repeated values (no tail)."""

    mirrors = FlatLineDetector
    fields = ("previous", "run", "longest_run", "repeat_rate")
    int_fields = frozenset({"run"})

    def __init__(self, layout: Layout, label: str, component: FlatLineDetector) -> None:
        super().__init__(layout, label, component)
        self.rate_alpha, self.longest_decay = component.rate_alpha, component.longest_decay
        self.min_rate, self.max_rate = component.min_repeat_rate, component.max_repeat_rate

    def _repeats(self, block: Array, seen: Array) -> Mask:
        previous = block[self.rows["previous"]]
        largest = np.abs(seen)
        largest = where(np.abs(previous) > largest, np.abs(previous), largest)
        largest = where(largest < 1.0, 1.0, largest)
        repeats: Mask = np.abs(seen - previous) <= REPEAT_TOLERANCE * largest
        return repeats

    def judge(self, block: Array, series: Index, ts: Array, seen: Array) -> Judged:
        rate = block[self.rows["repeat_rate"]]
        rate = where(self.min_rate > rate, self.min_rate, rate)
        rate = where(self.max_rate < rate, self.max_rate, rate)
        beyond = block[self.rows["run"]] + 1 - block[self.rows["longest_run"]]
        statistic = where(beyond < 0.0, 0.0, beyond) * -np.log10(rate)
        return where(self._repeats(block, seen), statistic, 0.0), block[self.rows["previous"]], None

    def update(self, block: Array, series: Index, ts: Array, seen: Array) -> None:
        count, run = block[self.count], block[self.rows["run"]]
        longest, rate = block[self.rows["longest_run"]], block[self.rows["repeat_rate"]]
        repeated = self._repeats(block, seen)
        decayed = longest * self.longest_decay
        step = at_least(self.rate_alpha, 1.0 / (count + 1))
        later = count > 0
        longest = where(later & ~repeated, where(run > decayed, run, decayed), longest)
        block[self.rows["run"]] = where(later, where(repeated, run + 1, 0.0), run)  # `run` is a view: write last
        block[self.rows["longest_run"]] = longest
        block[self.rows["repeat_rate"]] = where(later, rate + step * (where(repeated, 1.0, 0.0) - rate), rate)
        block[self.rows["previous"]] = seen
        block[self.count] = count + 1
