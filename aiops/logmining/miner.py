"""Online log template miner: one pass, bounded memory, no look-ahead.

Each line is sanitised (decoded, cut, control characters replaced), its variable tokens are masked by a
`VariableMasker`, and the masked token sequence is matched to a template cluster of the same length (two
bounded caches first, then the best-agreeing cluster with the same leading tokens as in Drain's
fixed-depth tree, else a new cluster; the steps: `TemplateMiner`). Template ids are derived from the
masked text of the line that created the cluster, so they are stable across restarts (and
`snapshot`/`restore` keeps the learned templates). When `max_clusters` is reached the least recently
matched cluster is evicted. This module mines templates only; it does not score anomalies.
"""

from __future__ import annotations

import hashlib
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from aiops.logmining.masking import DEFAULT_MASKS, WILDCARD, VariableMasker, sanitize_line

SNAPSHOT_VERSION = 1
_WILDCARD_SPLIT = re.compile(re.escape(WILDCARD))
_NOT_WILD = " "  # never a token (tokens are split on spaces), so it never equals one
_EQ = operator.eq

Change = Literal["new", "updated", "none"]


@dataclass(slots=True)
class LogCluster:
    """One learned template: its tokens (with ``<*>`` wildcards), size and recency.

    `wild` has ``<*>`` where the template has one and a non-token elsewhere, so that C-level
    ``map(operator.eq, ...)`` can count both kinds of agreement with a line without a Python loop.
    """

    template_id: str
    tokens: list[str]
    size: int = 0
    last_seen: int = 0
    template: str = ""
    wild: list[str] = field(default_factory=list)
    n_wild: int = 0
    fixed_get: Callable[[list[str]], Any] | None = None
    fixed: Any = None


    def __post_init__(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Recompute the derived fields after `tokens` changed."""
        self.template = " ".join(self.tokens)
        self.wild = [WILDCARD if token == WILDCARD else _NOT_WILD for token in self.tokens]
        self.n_wild = self.wild.count(WILDCARD)
        positions = [index for index, token in enumerate(self.tokens) if token != WILDCARD]
        self.fixed_get = operator.itemgetter(*positions) if positions else None  # C-level gather
        self.fixed = self.fixed_get(self.tokens) if self.fixed_get is not None else None


class MatchResult:
    """The miner's verdict on one line; `parameters` are extracted lazily on first access."""

    __slots__ = ("_parameters", "change", "cluster_size", "template", "template_id", "text")

    def __init__(self, template_id: str, template: str, change: Change, cluster_size: int, text: str) -> None:
        self.template_id = template_id
        self.template = template
        self.change: Change = change
        self.cluster_size = cluster_size
        self.text = text
        self._parameters: tuple[str, ...] | None = None

    @property
    def parameters(self) -> tuple[str, ...]:
        """Values of the ``<*>`` slots of the template in this line (empty when they do not align)."""
        if self._parameters is None:
            self._parameters = extract_parameters(self.template, self.text)
        return self._parameters

    def __repr__(self) -> str:
        return f"MatchResult({self.template_id!r}, {self.template!r}, change={self.change!r})"


@lru_cache(maxsize=4096)
def _parameter_regex(template: str) -> re.Pattern[str] | None:
    parts = _WILDCARD_SPLIT.split(template)
    if len(parts) == 1:
        return None
    return re.compile("(.*?)".join(re.escape(part) for part in parts), re.DOTALL)


def extract_parameters(template: str, text: str) -> tuple[str, ...]:
    """Values of the template's wildcards in a sanitised line; empty when the line does not align."""
    pattern = _parameter_regex(template)
    if pattern is None:
        return ()
    found = pattern.fullmatch(text)
    return found.groups() if found else ()


def _template_id(masked: str) -> str:
    return "t" + hashlib.blake2b(masked.encode("utf-8", "replace"), digest_size=6).hexdigest()


class TemplateMiner:
    """Single-pass template miner with bounded clusters and a bounded exact-match cache.

    A line's masked token sequence goes to, in this order:

    0. a hit in a bounded cache of line *shapes* (the line with its digits normalised, see `VariableMasker`;
       the masked tokens are a function of it) -> that cluster, without masking at all; this cache pauses
       itself for a while when fewer than 1 line in 10 hit it (high-cardinality streams);
    1. an exact hit in a bounded cache of masked lines already seen -> that cluster (one dict get);
    2. otherwise, among clusters with the same length and the same first `prefix_tokens` masked tokens (as
       in Drain's fixed-depth tree), the one that agrees best with the line: similarity = (equal positions +
       `wildcard_credit` x positions already generalised) / length; when it reaches `similarity_threshold`,
       the disagreeing positions become ``<*>``;
    3. otherwise a new cluster.
    """

    def __init__(
        self,
        *,
        masks: tuple[str, ...] = DEFAULT_MASKS,
        similarity_threshold: float = 0.8,
        max_clusters: int = 20_000,
        max_line_chars: int = 4096,
        max_tokens: int = 256,
        cache_size: int = 100_000,
        wildcard_credit: float = 0.5,
        prefix_tokens: int = 2,
    ) -> None:
        self.prefix_tokens = prefix_tokens
        self.wildcard_credit = wildcard_credit
        if not 0.0 < similarity_threshold <= 1.0:
            raise ValueError("similarity_threshold must be in (0, 1]")
        self.masker = VariableMasker(masks)
        self._shape = self.masker.shape
        self._mask_shaped = self.masker.mask_shaped
        self.similarity_threshold = similarity_threshold
        self.max_clusters = max(1, max_clusters)
        self.max_line_chars = max(16, max_line_chars)
        self.max_tokens = max(1, max_tokens)
        self.cache_size = max(1, cache_size)
        self._shapes_size = max(1, cache_size // 4)
        self.clusters: dict[str, LogCluster] = {}
        self._by_length: dict[tuple[int | str, ...], list[LogCluster]] = {}
        self._cache: dict[str, LogCluster] = {}
        self._shapes: dict[str, LogCluster] = {}  # line shape -> cluster: skips masking on a hit
        self._shape_hits = 0
        self._shapes_resume = 0  # tick from which shapes are remembered again
        self._tick = 0

    def add(self, line: str | bytes) -> MatchResult:
        """Learn from one line and return its template, parameters and what changed."""
        if isinstance(line, str) and len(line) <= self.max_line_chars and line.isprintable():
            text = " ".join(line.split())  # the common case of `sanitize_line`, without a call
        else:
            text = sanitize_line(line, self.max_line_chars)
        shaped = self._shape(text)
        self._tick += 1
        change: Change = "none"
        cluster = self._shapes.get(shaped)
        if cluster is not None:
            self._shape_hits += 1
        else:
            tokens = self._mask_shaped(text, shaped)
            masked = " ".join(tokens)
            cluster = self._cache.get(masked)
            if cluster is None:
                cluster, change = self._learn(masked, tokens if len(tokens) <= self.max_tokens else self._limit(tokens))
            if self.masker.exact and self._tick >= self._shapes_resume:
                self._remember_shape(shaped, cluster)
        cluster.size += 1
        cluster.last_seen = self._tick
        return MatchResult(cluster.template_id, cluster.template, change, cluster.size, text)

    def match(self, line: str | bytes) -> MatchResult | None:
        """Return the template a line belongs to without learning anything (None when unknown)."""
        text = sanitize_line(line, self.max_line_chars)
        tokens = self.masker.mask_tokens(text)
        cluster = self._cache.get(" ".join(tokens)) or self._best_cluster(self._limit(tokens))[0]
        if cluster is None:
            return None
        return MatchResult(cluster.template_id, cluster.template, "none", cluster.size, text)

    def _limit(self, tokens: list[str]) -> list[str]:
        if len(tokens) > self.max_tokens:
            tokens = [*tokens[: self.max_tokens - 1], WILDCARD]
        return tokens

    def _key(self, tokens: list[str]) -> tuple[int | str, ...]:
        if self.prefix_tokens == 2 and len(tokens) >= 2:  # the default, spelt out: no list unpacking
            return (len(tokens), tokens[0], tokens[1])
        return (len(tokens), *tokens[: self.prefix_tokens])

    def _learn(self, masked: str, tokens: list[str]) -> tuple[LogCluster, Change]:
        """Cache miss: join the most similar cluster (generalising it if needed) or start a new one."""
        cluster, covered = self._best_cluster(tokens)
        change: Change = "none"
        if cluster is None:
            cluster = self._create(masked, tokens)
            change = "new"
        elif not covered:
            self._merge(cluster, tokens)
            change = "updated"
        self._remember(masked, cluster)
        return cluster, change

    def _best_cluster(self, tokens: list[str]) -> tuple[LogCluster | None, bool]:
        """The most similar cluster above the threshold, and whether its template already covers the line.

        Similarity = (equal positions + `wildcard_credit` x template wildcards facing a non-wildcard) / length;
        the counts come from C-level ``map(operator.eq, ...)`` over the tokens and the wildcard mask.
        """
        best: LogCluster | None = None
        best_score = -1.0
        best_covered = False
        credit = self.wildcard_credit
        line_wild = WILDCARD in tokens
        for cluster in self._by_length.get(self._key(tokens), ()):
            generalised = cluster.n_wild
            both = list(map(_EQ, cluster.wild, tokens)).count(True) if generalised and line_wild else 0
            generalised -= both
            if cluster.fixed_get is None or cluster.fixed_get(tokens) == cluster.fixed:
                equal = len(tokens) - cluster.n_wild + both  # every non-wildcard position agrees
            else:
                equal = list(map(_EQ, cluster.tokens, tokens)).count(True)
            score = equal + credit * generalised
            if score > best_score:
                best, best_score, best_covered = cluster, score, equal + generalised == len(tokens)
        if best is not None and best_score / len(tokens) >= self.similarity_threshold:
            return best, best_covered
        return None, False

    def _merge(self, cluster: LogCluster, tokens: list[str]) -> bool:
        changed = False
        for index, (mine, theirs) in enumerate(zip(cluster.tokens, tokens, strict=True)):
            if mine not in (theirs, WILDCARD):
                cluster.tokens[index] = WILDCARD
                changed = True
        if changed:
            cluster.refresh()
        return changed

    def _create(self, masked: str, tokens: list[str]) -> LogCluster:
        if len(self.clusters) >= self.max_clusters:
            self._evict_least_recent()
        template_id = _template_id(masked)
        while template_id in self.clusters:
            template_id = _template_id(template_id + masked)
        cluster = LogCluster(template_id, list(tokens))
        self.clusters[template_id] = cluster
        self._by_length.setdefault(self._key(tokens), []).append(cluster)
        return cluster

    def _evict_least_recent(self) -> None:
        victim = min(self.clusters.values(), key=lambda cluster: cluster.last_seen)
        del self.clusters[victim.template_id]
        self._by_length[self._key(victim.tokens)].remove(victim)
        self._cache.clear()
        self._shapes.clear()

    def _remember(self, masked: str, cluster: LogCluster) -> None:
        if len(self._cache) >= self.cache_size:
            self._cache.clear()
            self._shapes.clear()  # a shape hit must imply that its masked line is still cached
        self._cache[masked] = cluster

    def _remember_shape(self, shaped: str, cluster: LogCluster) -> None:
        """Bounded shape cache; when under 1 line in 10 hit it before it filled up, pause it for a while."""
        if len(self._shapes) >= self._shapes_size:
            useful = self._shape_hits * 10 >= len(self._shapes)
            self._shapes.clear()
            self._shape_hits = 0
            if not useful:  # high-cardinality stream: inserting would cost more than the hits save
                self._shapes_resume = self._tick + 4 * self._shapes_size
                return
        self._shapes[shaped] = cluster

    def snapshot(self) -> dict[str, Any]:
        """JSON-serialisable state: the learned clusters (the exact-match cache is rebuilt lazily)."""
        return {
            "version": SNAPSHOT_VERSION,
            "tick": self._tick,
            "clusters": [
                {"id": c.template_id, "tokens": list(c.tokens), "size": c.size, "last_seen": c.last_seen}
                for c in self.clusters.values()
            ],
        }

    @classmethod
    def restore(cls, state: dict[str, Any], **settings: Any) -> TemplateMiner:
        """Rebuild a miner from `snapshot()` output; `settings` are the constructor parameters."""
        if state.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"unsupported miner snapshot version {state.get('version')!r}")
        miner = cls(**settings)
        miner._tick = int(state["tick"])
        for item in state["clusters"]:
            cluster = LogCluster(str(item["id"]), [str(t) for t in item["tokens"]], int(item["size"]),
                                 int(item["last_seen"]))
            miner.clusters[cluster.template_id] = cluster
            miner._by_length.setdefault(miner._key(cluster.tokens), []).append(cluster)
        return miner
