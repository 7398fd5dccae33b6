"""Learned co-occurrence relations between member types, online, with a significance test and decay.

`RelationModel` watches the stream of member starts (`observe(type, ts)`) and learns which member types
fire together more often than chance, and which one usually comes first, so the correlation engine can
group members that have no topology path between them. It is pure (no I/O, no clock: time is the `ts`
given), deterministic, bounded in memory and JSON-snapshottable. Its test's null hypothesis is "type
labels are exchangeable", an empirical baseline that absorbs bursts, storms and busy contexts, which would
make a rate-based test flag everything; so it needs background traffic (with only two types in a stream
the null cannot tell them apart). Counting, the test, an edge's figures, decay and memory bounds:
`RelationModel`. Not done here: grouping decisions, topology, persistence.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiops.signals import Signal

_RENORMALISE_HALF_LIVES = 16.0
_RELATED_CACHE = 10_000
"""`related` answers are cached until the next observation (the model is unchanged between two), at most
this many."""


def member_type(signal: Signal) -> str:
    """Type of a member for relation learning: the alert name for alerts (e.g. ``HighErrorRate``, shared
    across services so that what is learned on one service applies to another), ``origin:name`` for anomalies
    (``metric_anomaly:latency_p99``, ``log_anomaly:error_rate``)."""
    return signal.name if signal.origin == "alert" else f"{signal.origin}:{signal.name}"


@dataclass(frozen=True)
class RelationEdge:
    """A significant learned relation; `precedence` = P(source starts before target | they co-occur)."""

    source: str
    target: str
    confidence: float
    support: float
    lift: float
    p_value: float
    precedence: float


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        even = m * (b - m) * x / ((a + m2 - 1) * (a + m2))
        odd = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1))
        for num in (even, odd):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-12:
            break
    return h


def binomial_upper_tail(k: float, n: float, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), continuous in k and n (= I_p(k, n - k + 1))."""
    if k <= 0.0:
        return 1.0
    if p <= 0.0 or k > n + 1e-9:
        return 0.0
    if p >= 1.0:
        return 1.0
    a, b = k, max(n - k, 0.0) + 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(p) + b * math.log1p(-p)
    if p < (a + 1.0) / (a + b + 2.0):
        return min(1.0, math.exp(log_front) * _betacf(a, b, p) / a)
    return max(0.0, 1.0 - math.exp(log_front) * _betacf(b, a, 1.0 - p) / b)


class RelationModel:
    """Online, decayed co-occurrence statistics between member types.

    Counting. Each observation x at `ts` is paired once with every *distinct* other type a whose latest
    start lies in ``[ts - window_seconds, ts]`` in the same context (or, optionally, in neighbouring
    contexts, e.g. adjacent devices): ``C(a before x) += 1`` (a tie at the same `ts` counts 1/2 each way).
    Per type we also keep ``N(a)`` (starts) and ``D(a)`` (starts of *other* types preceded by a), and the
    total ``N``. Cost is O(k) per observation, k = distinct types in the window (ordered dict per context).

    Significance test (why this one). The null hypothesis is "type labels are exchangeable": b's starts are a
    random subset of all starts, so the chance that a given b-start has an a in its window is the same as for
    any start of another type, ``p(a) = D(a) / (N - N(a))``. This empirical baseline needs no Poisson-rate
    assumption, so it absorbs bursts, storms and busy contexts that would make a rate-based test (or a 2x2
    Fisher table over arbitrary time bins) flag everything. Under the null ``C(a before b) ~ Binomial(N(b),
    p(a))``; we take the exact one-sided upper tail (regularised incomplete beta, valid for the non-integer
    counts decay produces) in both directions, keep the smaller, double it (two directions) and multiply by the
    number of tracked pairs (Bonferroni), so `significance` bounds the family-wise rate of false edges among
    independent types. An edge also needs ``support >= min_support`` co-occurrences.

    Figures of an edge a-b: ``support = C(a before b) + C(b before a)``; ``lift = support / expected``;
    ``precedence = C(source before target) / support``; ``confidence`` = the larger "causal power" of the two
    directions, ``(C(a before b)/N(b) - p(a)) / (1 - p(a))``: the share of b-starts explained by a beyond
    chance (0 = chance level, 1 = every b follows an a that would otherwise not be there).

    Decay: every count is weighted by ``2 ** ((ts - now) / half_life_seconds)`` (exact, lazy: counts are
    stored on a moving scale that is renormalised every 16 half-lives). Memory: at most `max_types` types (the
    least frequent are evicted with their pairs) and `max_pairs` pairs (the weakest 20 % are pruned when the
    cap is hit). Out of order: a start up to `window_seconds` late pairs exactly with earlier starts (windows
    keep 2 x `window_seconds`); a later one pairs only with what is still kept. Only each type's latest start per
    context is kept. Needs background traffic: with only two types in a stream, the exchangeable null cannot
    tell them apart (every start of the other type is the baseline).
    """

    def __init__(
        self,
        window_seconds: float = 300.0,
        half_life_seconds: float = 86400.0,
        min_support: float = 3,
        significance: float = 0.01,
        max_types: int = 5000,
        max_pairs: int | None = None,
    ) -> None:
        if window_seconds <= 0 or half_life_seconds <= 0 or max_types < 2:
            raise ValueError("window_seconds and half_life_seconds must be > 0, max_types >= 2")
        self.window_seconds = float(window_seconds)
        self.half_life_seconds = float(half_life_seconds)
        self.min_support = float(min_support)
        self.significance = float(significance)
        self.max_types = int(max_types)
        self.max_pairs = int(max_pairs) if max_pairs is not None else 20 * self.max_types
        self._now = -math.inf
        self._ref = 0.0
        self._total = 0.0
        self._n: dict[str, float] = {}
        self._d: dict[str, float] = {}
        self._pairs: dict[tuple[str, str], list[float]] = {}  # (lo, hi) -> [C(lo before hi), C(hi before lo)]
        self._partners: dict[str, set[str]] = {}
        self._windows: dict[str, OrderedDict[str, float]] = {}
        self._related: dict[tuple[str, str], RelationEdge | None] = {}  # read cache, cleared on observe
        self._swept = -math.inf

    # ---- learning -------------------------------------------------------------------------------------
    def observe(self, member_type: str, ts: float, context: str = "", neighbours: Iterable[str] = ()) -> None:
        """A member of `member_type` started at event time `ts` in `context` (default: one global context);
        it pairs with types started within `window_seconds` before it in `context` and in `neighbours`."""
        self._related.clear()
        if ts > self._now:
            self._advance(ts)
        weight = 2.0 ** ((ts - self._ref) / self.half_life_seconds)
        self._ensure_type(member_type)
        self._n[member_type] += weight
        self._total += weight
        for other, tie in self._window_types(member_type, ts, context, neighbours).items():
            share = 0.5 if tie else 1.0
            self._count(other, member_type, share * weight)
            if tie:
                self._count(member_type, other, share * weight)
        window = self._windows.setdefault(context, OrderedDict())
        if window.get(member_type, -math.inf) <= ts:
            window[member_type] = ts
            window.move_to_end(member_type)

    def _window_types(self, member_type: str, ts: float, context: str, neighbours: Iterable[str]) -> dict[str, bool]:
        """Distinct other types in the window before `ts` -> True when their latest start ties with `ts`."""
        found: dict[str, float] = {}
        for name in (context, *neighbours):
            window = self._windows.get(name)
            if window is None:
                continue
            horizon = max(window[next(reversed(window))], ts) - 2 * self.window_seconds if window else ts
            while window and window[next(iter(window))] < horizon:
                window.popitem(last=False)
            for other, seen in window.items():
                if other != member_type and ts - self.window_seconds <= seen <= ts and other in self._n:
                    found[other] = max(found.get(other, -math.inf), seen)
        return {other: seen == ts for other, seen in found.items()}

    def _count(self, before: str, after: str, amount: float) -> None:
        key = (before, after) if before < after else (after, before)
        counts = self._pairs.get(key)
        if counts is None:
            if len(self._pairs) >= self.max_pairs:
                self._prune_pairs(int(self.max_pairs * 0.8))
            counts = self._pairs[key] = [0.0, 0.0]
            self._partners[before].add(after)
            self._partners[after].add(before)
        counts[0 if before < after else 1] += amount
        self._d[before] += amount

    def _ensure_type(self, name: str) -> None:
        if name in self._n:
            return
        if len(self._n) >= self.max_types:
            weakest = sorted(self._n, key=lambda t: (self._n[t], t))[: max(1, self.max_types // 10)]
            for victim in weakest:
                self._evict(victim)
        self._n[name] = 0.0
        self._d[name] = 0.0
        self._partners[name] = set()

    def _evict(self, name: str) -> None:
        self._total -= self._n.pop(name)
        self._d.pop(name)
        for other in self._partners.pop(name):
            self._pairs.pop((name, other) if name < other else (other, name), None)
            self._partners[other].discard(name)

    def _prune_pairs(self, keep: int) -> None:
        ranked = sorted(self._pairs.items(), key=lambda item: (item[1][0] + item[1][1], item[0]), reverse=True)
        for (lo, hi), _ in ranked[keep:]:
            del self._pairs[(lo, hi)]
            self._partners[lo].discard(hi)
            self._partners[hi].discard(lo)

    def _advance(self, ts: float) -> None:
        self._now = ts
        if ts - self._ref > _RENORMALISE_HALF_LIVES * self.half_life_seconds:
            self._rescale(ts)
        if ts - self._swept > self.window_seconds:
            self._swept = ts
            horizon = ts - 2 * self.window_seconds
            for name in [c for c, w in self._windows.items() if not w or w[next(reversed(w))] < horizon]:
                del self._windows[name]

    def _rescale(self, ref: float) -> None:
        factor = 2.0 ** ((self._ref - ref) / self.half_life_seconds)
        self._ref = ref
        self._total *= factor
        for table in (self._n, self._d):
            for name in table:
                table[name] *= factor
        for counts in self._pairs.values():
            counts[0] *= factor
            counts[1] *= factor
        self._prune_pairs(sum(1 for c in self._pairs.values() if c[0] + c[1] >= 0.01))

    # ---- reading --------------------------------------------------------------------------------------
    def _scale(self) -> float:
        return 2.0 ** ((self._ref - self._now) / self.half_life_seconds) if self._now > -math.inf else 1.0

    def _baseline(self, name: str) -> float:
        others = self._total - self._n[name]
        return min(1.0, self._d[name] / others) if others > 0 else 0.0

    def _edge(self, a: str, b: str, counts: list[float], scale: float) -> RelationEdge | None:
        """Edge a -> b from the stored pair counts `counts` = [C(a before b), C(b before a)] (scaled)."""
        ab, ba = counts[0] * scale, counts[1] * scale
        support = ab + ba
        if support < self.min_support or support <= 0:
            return None
        n_a, n_b = self._n[a] * scale, self._n[b] * scale
        p_a, p_b = self._baseline(a), self._baseline(b)
        tail = min(binomial_upper_tail(ab, n_b, p_a), binomial_upper_tail(ba, n_a, p_b))
        p_value = min(1.0, tail * 2.0 * max(1, len(self._pairs)))
        if p_value > self.significance:
            return None
        expected = n_b * p_a + n_a * p_b
        power = max(_power(ab, n_b, p_a), _power(ba, n_a, p_b))
        lift = support / expected if expected > 0 else math.inf
        return RelationEdge(a, b, power, support, lift, p_value, ab / support)

    def related(self, a: str, b: str) -> RelationEdge | None:
        """The relation a -> b (precedence = P(a before b)) if significant, else None."""
        key = (a, b)
        if key in self._related:
            return self._related[key]
        if len(self._related) >= _RELATED_CACHE:
            self._related.clear()
        edge = self._related[key] = self._related_now(a, b)
        return edge

    def _related_now(self, a: str, b: str) -> RelationEdge | None:
        if a == b or a not in self._n or b not in self._n:
            return None
        counts = self._pairs.get((a, b) if a < b else (b, a))
        if counts is None:
            return None
        oriented = counts if a < b else [counts[1], counts[0]]
        return self._edge(a, b, oriented, self._scale())

    def edges(self, min_confidence: float = 0.0) -> list[RelationEdge]:
        """Every significant relation once, oriented so that precedence >= 0.5, strongest first."""
        scale = self._scale()
        out: list[RelationEdge] = []
        for (lo, hi), counts in self._pairs.items():
            edge = self._edge(lo, hi, counts, scale) if counts[0] >= counts[1] else self._edge(
                hi, lo, [counts[1], counts[0]], scale)
            if edge is not None and edge.confidence >= min_confidence:
                out.append(edge)
        out.sort(key=lambda e: (-e.confidence, e.p_value, e.source, e.target))
        return out

    def partners(self, name: str) -> set[str]:
        """The types `name` has pair counts with (the only ones `related` can relate it to)."""
        return self._partners.get(name, set())

    def count(self, name: str) -> float:
        """Decayed number of starts of `name` (0 when unknown)."""
        return self._n.get(name, 0.0) * self._scale()

    @property
    def type_count(self) -> int:
        return len(self._n)

    @property
    def pair_count(self) -> int:
        return len(self._pairs)

    # ---- state ----------------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """JSON-serialisable state (parameters, counts, open windows); `restore` rebuilds it exactly."""
        return {
            "params": {
                "window_seconds": self.window_seconds, "half_life_seconds": self.half_life_seconds,
                "min_support": self.min_support, "significance": self.significance,
                "max_types": self.max_types, "max_pairs": self.max_pairs,
            },
            "now": self._now if self._now > -math.inf else None,
            "ref": self._ref,
            "swept": self._swept if self._swept > -math.inf else None,
            "total": self._total,
            "types": [[name, self._n[name], self._d[name]] for name in self._n],
            "pairs": [[lo, hi, c[0], c[1]] for (lo, hi), c in self._pairs.items()],
            "windows": {ctx: [[name, ts] for name, ts in w.items()] for ctx, w in self._windows.items()},
        }

    @classmethod
    def restore(cls, state: dict[str, Any], **params: Any) -> RelationModel:
        """Rebuild from `snapshot()`; keyword `params` override the stored parameters."""
        model = cls(**{**state.get("params", {}), **params})
        model._now = -math.inf if state["now"] is None else float(state["now"])
        model._ref = float(state["ref"])
        model._swept = -math.inf if state.get("swept") is None else float(state["swept"])
        model._total = float(state["total"])
        for name, n, d in state["types"]:
            model._n[name], model._d[name], model._partners[name] = float(n), float(d), set()
        for lo, hi, ab, ba in state["pairs"]:
            model._pairs[(lo, hi)] = [float(ab), float(ba)]
            model._partners[lo].add(hi)
            model._partners[hi].add(lo)
        for ctx, items in state["windows"].items():
            model._windows[ctx] = OrderedDict((name, float(ts)) for name, ts in items)
        return model


def _power(count: float, n: float, baseline: float) -> float:
    """Causal power of a direction: share of the effect's starts explained beyond chance, in [0, 1]."""
    if n <= 0 or baseline >= 1.0:
        return 0.0
    return max(0.0, min(1.0, (count / n - baseline) / (1.0 - baseline)))
