"""Contextual Anomaly Detector, Open Source Edition (CAD OSE), ported as a streaming `SeriesDetector`.

A published baseline for `aiops eval nab`, not a detector the service can select. Algorithm by Mikhail
Smirnov and Yuriy Yatsyshin (https://github.com/smirmik/CAD, as run in numenta/NAB
`nab/detectors/context_ose/`; AGPL-3.0 there); this is a re-implementation from the algorithm's description
in our own structure, not a copy of their code. Each value is quantised into `num_norm_value_bits` bits over
the value range; each bit position/value is a "fact", and contexts pair the previous step's facts (plus
the contexts that fired) with the current ones. The raw anomaly is 0 when every current fact was
predicted, else (1 - active/selected + new/candidate) / 2; after a raw score >= `base_threshold` the
output is 0 for `rest_period` points. Parameters are the published ones. What is kept from the Python 2
original and what differs by design (no look-ahead range, bounded contexts, non-finite values ignored):
`CadOseDetector`. No I/O, no clock.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiops.detectors.base import PointScore, non_finite_point
from aiops.detectors.metric.tail import score_to_surprise, surprise_to_score

SENSOR_BASE = 65536
NEURON_BASE = 2**31
_MASK64 = (1 << 64) - 1
Facts = tuple[int, ...]
Pair = tuple[Facts, Facts]


def _signed64(value: int) -> int:
    value &= _MASK64
    return value - (1 << 64) if value >> 63 else value


def py2_tuple_hash(items: Facts) -> int:
    """Python 2.7's 64-bit hash of a tuple of small positive ints (their own hash is the value)."""
    acc, mult, remaining = 0x345678, 1000003, len(items)
    for item in items:
        remaining -= 1
        acc = _signed64((acc ^ item) * mult)
        mult = _signed64(mult + 82520 + remaining + remaining)
    acc = _signed64(acc + 97531)
    return -2 if acc == -1 else acc


class _Semi:
    """A left or right semi-context: its facts, hash, matches of the last crossing, and contexts by right id."""

    __slots__ = ("contexts", "facts", "hash", "index", "matched")

    def __init__(self, index: int, facts: Facts) -> None:
        self.index = index
        self.facts = facts
        self.hash = py2_tuple_hash(facts)
        self.matched: list[int] = []
        self.contexts: dict[int, int] = {}


@dataclass(slots=True)
class _Context:
    left: int
    right: int
    zero_level: bool
    selected: int = 0
    predicted: int = 0
    activated: int = 0


@dataclass(slots=True)
class _Plan:
    """Everything one step decides before any state changes."""

    key: tuple[float, float]
    value_range: tuple[float, float]
    sensors: Facts
    zero_pair: Pair | None
    zero_new: bool
    updates: list[tuple[_Context, int, int, bool]] = field(default_factory=list)
    active: list[tuple[int, int, int, int, int]] = field(default_factory=list)
    candidates: list[Pair] = field(default_factory=list)
    raw: float = 0.0
    reported: float = 0.0


class ContextMemory:
    """The semi-context and context store with fact indexes; bounded by `max_contexts`."""

    def __init__(self, max_contexts: int) -> None:
        self.max_contexts = max_contexts
        self.sides: tuple[list[_Semi], list[_Semi]] = ([], [])
        self.by_facts: tuple[dict[Facts, _Semi], dict[Facts, _Semi]] = ({}, {})
        self.by_fact: tuple[dict[int, list[_Semi]], dict[int, list[_Semi]]] = ({}, {})
        self.contexts: list[_Context] = []
        self.crossed_left: list[_Semi] = []

    def find(self, pair: Pair) -> _Context | None:
        left, right = self.by_facts[0].get(pair[0]), self.by_facts[1].get(pair[1])
        if left is None or right is None or right.index not in left.contexts:
            return None
        return self.contexts[left.contexts[right.index]]

    def _semi(self, side: int, facts: Facts) -> _Semi:
        semi = self.by_facts[side].get(facts)
        if semi is None:
            semi = _Semi(len(self.sides[side]), facts)
            self.sides[side].append(semi)
            self.by_facts[side][facts] = semi
            for fact in facts:
                self.by_fact[side].setdefault(fact, []).append(semi)
        return semi

    def add(self, pair: Pair, zero_level: bool) -> bool:
        """Store `pair` unless known or full; True when a context was created."""
        known = self.find(pair)
        if known is not None:
            known.zero_level = known.zero_level or zero_level
            return False
        if len(self.contexts) >= self.max_contexts:
            return False
        left, right = self._semi(0, pair[0]), self._semi(1, pair[1])
        left.contexts[right.index] = len(self.contexts)
        self.contexts.append(_Context(left.index, right.index, zero_level))
        return True

    def match_right(self, facts: Facts) -> dict[int, list[int]]:
        """Right semi-context index -> its facts present in `facts` (pure)."""
        matched: dict[int, list[int]] = {}
        for fact in facts:
            for semi in self.by_fact[1].get(fact, ()):
                matched.setdefault(semi.index, []).append(fact)
        return matched

    def cross_left(self, facts: Facts) -> set[int]:
        """Match left semi-contexts against `facts`; return the facts predicted by the best contexts."""
        for semi in self.crossed_left:
            semi.matched = []
        touched: dict[int, _Semi] = {}
        for fact in facts:
            for semi in self.by_fact[0].get(fact, ()):
                semi.matched.append(fact)
                touched[semi.index] = semi
        self.crossed_left = [touched[index] for index in sorted(touched)]
        best, chosen = 0.0, list[_Context]()
        for semi in self.crossed_left:
            if len(semi.matched) != len(semi.facts):
                continue
            for context_id in semi.contexts.values():
                context = self.contexts[context_id]
                weight = context.predicted / context.selected if context.selected > 0 else 0.0
                if weight > best:
                    best, chosen = weight, [context]
                elif weight == best:
                    chosen.append(context)
        return {fact for context in chosen for fact in self.sides[1][context.right].facts}


class CadOseDetector:
    """CAD OSE over one series.

    A context is a pair (left facts = the previous step's facts plus the ids of the contexts that fired,
    right facts = the current facts). Per step the detector (1) remembers the zero-level context (previous
    facts, current facts), (2) counts, over the contexts whose left part fully matched last step, how many
    also had their right part fully matched ("active") and how many new contexts the step creates, (3)
    predicts the next facts from the best-weighted contexts. Published parameters: 0.75, 7, 15, 3 bits;
    NAB's rest period is probation/5.

    Faithfulness notes. Python 2 details that decide the outcome are kept: the fact weights use integer
    division, ties among active contexts are broken by Python 2's 64-bit tuple hash, and context id 0 is
    skipped in the update whenever no zero-level context was created (the original compares the id against
    `False`). Dictionary iteration uses insertion order instead of Python 2's hash order, so ids of contexts
    created in the same step may be numbered differently. Differences by design: (a) NAB passes the whole
    file's min/max (look-ahead); here, unless `value_range` is given, the first `probation_points` values
    are buffered, their range is fixed and they are replayed, after which the range grows to include each
    new value (re-quantising later points); (b) at most `max_contexts` contexts are stored (the original
    grows without bound), after which no new context or semi-context is created; (c) non-finite values are
    ignored.

    `score` is pure: it computes a plan of the step (right-side matching, counter updates, active contexts,
    candidate contexts) without mutating anything and caches it keyed by (ts, value); `learn` applies the
    cached plan of the same point (or computes it) and then does the left-side matching that prepares the
    next prediction. The reported score maps the raw score monotonically onto the service's scale so that
    raw = `alert_level` lands exactly on `threshold` (it is not a tail probability).
    """

    name = "cad_ose"

    def __init__(
        self,
        value_range: tuple[float, float] | None = None,
        probation_points: int = 750,
        rest_period: int = 150,
        base_threshold: float = 0.75,
        max_left_semi_contexts_length: int = 7,
        max_active_neurons: int = 15,
        num_norm_value_bits: int = 3,
        max_contexts: int = 200_000,
        threshold: float = 0.9999,
        alert_level: float = 0.75,
    ) -> None:
        self.base_threshold = base_threshold
        self.max_left = max_left_semi_contexts_length
        self.max_active = max_active_neurons
        self.bits = num_norm_value_bits
        self.max_bin = 2.0**num_norm_value_bits - 1.0
        self.scale = score_to_surprise(threshold) / alert_level
        self.probation_points = 0 if value_range is not None else probation_points
        self.range: tuple[float, float] | None = value_range
        self.fixed_range = value_range is not None
        self.buffer: list[tuple[float, float]] = []
        self.memory = ContextMemory(max_contexts)
        self.left_group: Facts = ()
        self.predicted: set[int] = set()
        self.history: deque[float] = deque([1.0], maxlen=max(int(rest_period), 1))
        self.count = 0
        self._plan: _Plan | None = None

    @property
    def warm(self) -> bool:
        return self.range is not None and not self.buffer

    def sensor_facts(self, value: float, value_range: tuple[float, float]) -> Facts:
        """The facts of `value`: one per bit of its bin index, bit position i -> SENSOR_BASE + 2i + bit."""
        low, high = value_range
        full = high - low if high - low != 0.0 else self.max_bin
        position = (value - low) / (full / self.max_bin)
        if not math.isfinite(position):  # ranges spanning more than the float range (|values| near 1e308)
            position = self.max_bin if position > 0 else 0.0
        index = max(int(position), 0)
        digits = format(index, "b").rjust(self.bits, "0")
        return tuple(sorted({SENSOR_BASE + 2 * position + int(bit) for position, bit in enumerate(reversed(digits))}))

    def _range_with(self, value: float) -> tuple[float, float]:
        if self.range is None or self.fixed_range:
            return self.range if self.range is not None else (value, value)
        return min(self.range[0], value), max(self.range[1], value)

    def plan(self, ts: float, value: float) -> _Plan:
        """The step for (ts, value), computed without changing state; cached for `learn`."""
        if self._plan is not None and self._plan.key == (ts, value):
            return self._plan
        value_range = self._range_with(value)
        sensors = self.sensor_facts(value, value_range)
        zero_pair = (self.left_group, sensors) if self.left_group else None
        zero_new = zero_pair is not None and self.memory.find(zero_pair) is None
        zero_new = zero_new and len(self.memory.contexts) < self.memory.max_contexts
        step = _Plan((ts, value), value_range, sensors, zero_pair, zero_new)
        selected = self._collect(step)
        self._finish_score(step, selected)
        self._plan = step
        return step

    def _collect(self, step: _Plan) -> int:
        """Counter updates, active contexts and candidate contexts of the step; returns the selected count."""
        memory, right_matched = self.memory, self.memory.match_right(step.sensors)
        selected = 0
        for left in memory.crossed_left:
            full = len(left.matched) == len(left.facts)
            for right_index, context_id in left.contexts.items():
                if context_id == 0 and not step.zero_new:
                    continue  # the original skips id 0 because it compares ids with `False`
                context, matched = memory.contexts[context_id], right_matched.get(right_index, [])
                size = len(memory.sides[1][right_index].facts)
                if full:
                    selected += 1
                    done = len(matched) == size
                    step.updates.append((context, size, len(matched), done))
                    if done:
                        rank = (context.activated + 1, left.hash, memory.sides[1][right_index].hash)
                        step.active.append((*rank, len(step.active), context_id))
                        continue
                if matched and context.zero_level and step.zero_new and len(left.matched) <= self.max_left:
                    step.candidates.append((tuple(left.matched), tuple(matched)))
        return selected

    def _finish_score(self, step: _Plan, selected: int) -> None:
        unique = set(step.candidates)
        if step.zero_pair is not None:
            unique.add(step.zero_pair)
        room = self.memory.max_contexts - len(self.memory.contexts) - int(step.zero_new)
        fresh = {pair for pair in unique if pair != step.zero_pair and self.memory.find(pair) is None}
        added = min(len(fresh), max(room, 0)) + int(step.zero_new)
        share_active = len(step.active) / selected if selected > 0 else 0.0
        share_added = added / len(unique) if step.zero_new and unique else 0.0
        surprised = any(fact not in self.predicted for fact in step.sensors)
        step.raw = (1.0 - share_active + share_added) / 2.0 if surprised else 0.0
        step.reported = step.raw if max(self.history) < self.base_threshold else 0.0

    def _apply(self, step: _Plan) -> None:
        memory = self.memory
        for context, size, matched, done in step.updates:
            context.selected += size
            context.predicted += matched
            context.activated += int(done)
        if step.zero_pair is not None:
            memory.add(step.zero_pair, zero_level=True)
        neurons = [entry[-1] for entry in sorted(step.active)[-self.max_active :]]
        self.left_group = tuple(sorted(set(step.sensors) | {NEURON_BASE + neuron for neuron in neurons}))
        for pair in step.candidates:
            memory.add(pair, zero_level=False)
        self.predicted = memory.cross_left(self.left_group)
        self.history.append(step.raw)
        self.range = step.value_range

    def score(self, ts: float, value: float) -> PointScore:
        if not math.isfinite(value):
            return non_finite_point(self.warm)
        if not self.warm:
            return PointScore(score=0.0, warm=self.warm, detail="cad_ose probation")
        step = self.plan(ts, value)
        calibrated = surprise_to_score(self.scale * step.reported)
        return PointScore(score=calibrated, warm=True, detail=f"cad_ose raw={step.raw:.3f}")

    def raw_score(self, ts: float, value: float) -> float:
        """CAD's own output in [0, 1] for the point (0 during probation), without changing state."""
        if not math.isfinite(value) or not self.warm:
            return 0.0
        return self.plan(ts, value).reported

    def learn(self, ts: float, value: float) -> None:
        if not math.isfinite(value):
            return
        self.count += 1
        if not self.warm:
            self.buffer.append((ts, value))
            if len(self.buffer) >= self.probation_points:
                self._end_probation()
            return
        self._apply(self.plan(ts, value))
        self._plan = None

    def _end_probation(self) -> None:
        values = [value for _, value in self.buffer]
        self.range = (min(values), max(values))
        replay, self.buffer = self.buffer, []
        for ts, value in replay:
            self._apply(self.plan(ts, value))
            self._plan = None

    def snapshot(self) -> dict[str, Any]:
        memory = self.memory
        return {
            "range": list(self.range) if self.range is not None else None,
            "buffer": [list(point) for point in self.buffer],
            "left": [[list(semi.facts), semi.matched] for semi in memory.sides[0]],
            "right": [list(semi.facts) for semi in memory.sides[1]],
            "contexts": [
                [c.left, c.right, int(c.zero_level), c.selected, c.predicted, c.activated] for c in memory.contexts
            ],
            "crossed_left": [semi.index for semi in memory.crossed_left],
            "left_group": list(self.left_group),
            "predicted": sorted(self.predicted),
            "history": list(self.history),
            "count": self.count,
        }

    def load(self, state: dict[str, Any]) -> None:
        """Overwrite the learnt state from `snapshot()` output; parameters stay as constructed."""
        memory = ContextMemory(self.memory.max_contexts)
        for facts, matched in state["left"]:
            memory._semi(0, tuple(facts)).matched = [int(fact) for fact in matched]
        for facts in state["right"]:
            memory._semi(1, tuple(facts))
        for left, right, zero_level, selected, predicted, activated in state["contexts"]:
            memory.sides[0][left].contexts[right] = len(memory.contexts)
            memory.contexts.append(_Context(left, right, bool(zero_level), selected, predicted, activated))
        memory.crossed_left = [memory.sides[0][index] for index in state["crossed_left"]]
        self.memory = memory
        self.range = (float(state["range"][0]), float(state["range"][1])) if state["range"] is not None else None
        self.buffer = [(float(ts), float(value)) for ts, value in state["buffer"]]
        self.left_group = tuple(int(fact) for fact in state["left_group"])
        self.predicted = {int(fact) for fact in state["predicted"]}
        self.history = deque((float(v) for v in state["history"]), maxlen=self.history.maxlen)
        self.count = int(state["count"])
        self._plan = None

    @classmethod
    def restore(cls, state: dict[str, Any], **params: Any) -> CadOseDetector:
        """A detector built with `params` whose learnt state is `state` (from `snapshot`)."""
        detector = cls(**params)
        detector.load(state)
        return detector


def cad_ose_detector(threshold: float = 0.9999) -> CadOseDetector:
    """Streaming CAD OSE with the published parameters (factory for one series)."""
    return CadOseDetector(threshold=threshold)
