"""Online log template miner: one pass, bounded memory, no look-ahead.

Each line is sanitised (decoded, cut, control characters replaced), its variable tokens are masked by a
`VariableMasker`, and the masked token sequence is matched to a template cluster of the same length (two
bounded caches first, then the best-agreeing cluster with the same leading tokens as in Drain's
fixed-depth tree, then the many-values rule across all clusters of that length, else a new cluster; the
steps: `TemplateMiner`). Template ids are derived from the masked text of the line that created the
cluster, so they are stable across restarts (and `snapshot`/`restore` keeps the learned templates and
which ids were merged into which). When `max_clusters` is reached the least recently matched cluster is
evicted. This module mines templates only; it does not score anomalies.
"""

from __future__ import annotations

import hashlib
import operator
from typing import Any

from aiops.logmining.clusters import NOT_WILD, Change, LogCluster, MatchResult, extract_parameters
from aiops.logmining.masking import DEFAULT_MASKS, WILDCARD, VariableMasker, sanitize_line

__all__ = ["NOT_WILD", "Change", "LogCluster", "MatchResult", "TemplateMiner", "extract_parameters"]

SNAPSHOT_VERSION = 2
_READABLE_VERSIONS = (1, 2)
_EQ = operator.eq
SIBLING_SCAN = 1_000
"""Clusters of one length that the many-values rule compares a new line with (the most recent ones)."""


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
       in Drain's fixed-depth tree; a cluster generalised there is also found), the one that agrees best with
       the line: similarity = (equal positions + `wildcard_credit` x positions where one side has ``<*>`` and
       the other a token) / length (a masked variable in the line facing a word of the template is evidence
       that the word is a parameter, as is the reverse); when it reaches `similarity_threshold`, the
       disagreeing positions become ``<*>``;
    3. otherwise the many-values rule, over the same-length clusters whose templates would keep at least 2
       constant tokens and no more wildcards than constants with one more wildcard: a cluster whose template
       covers the line takes it; a cluster that differs from the line at exactly one position is its sibling, and the
       distinct tokens seen there are counted (shared by all the siblings); when they reach
       `parameter_values`, the position is a parameter: the oldest sibling gets ``<*>`` there and absorbs
       every cluster its template now covers (their ids resolve to it, see `resolve`); 0 turns this off;
    4. otherwise a new cluster.
    """

    def __init__(
        self,
        *,
        masks: tuple[str, ...] = DEFAULT_MASKS,
        similarity_threshold: float = 0.85,
        parameter_values: int = 6,
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
        if parameter_values == 1 or parameter_values < 0:
            raise ValueError("parameter_values must be 0 (off) or at least 2")
        self.parameter_values = parameter_values
        self.masker = VariableMasker(masks)
        self._shape = self.masker.shape_function()
        self._mask_shaped = self.masker.mask_shaped
        self.similarity_threshold = similarity_threshold
        self.max_clusters = max(1, max_clusters)
        self.max_line_chars = max(16, max_line_chars)
        self.max_tokens = max(1, max_tokens)
        self.cache_size = max(1, cache_size)
        self._shapes_size = max(1, cache_size // 4)
        self.clusters: dict[str, LogCluster] = {}
        self.aliases: dict[str, str] = {}
        """Absorbed template id -> the id that absorbed it (bounded to `max_clusters` entries)."""
        self._by_length: dict[tuple[int | str, ...], list[LogCluster]] = {}
        self._by_size: dict[int, list[LogCluster]] = {}
        self._cache: dict[str, LogCluster] = {}
        self._shapes: dict[str, LogCluster] = {}  # line shape -> cluster: skips masking on a hit
        self._shape_hits = 0
        self._shapes_resume = 0  # tick from which shapes are remembered again
        self._tick = 0
        self._absorbed: tuple[str, ...] = ()
        self._leading_parameters = False  # whether the many-values rule made a leading position a parameter

    def add(self, line: str | bytes) -> MatchResult:
        """Learn from one line and return its template, parameters and what changed."""
        if isinstance(line, str) and len(line) <= self.max_line_chars and line.isprintable():
            # the common case of `sanitize_line`, without a call; a printable line's only whitespace is " "
            text = line if "  " not in line and line[:1] != " " and line[-1:] != " " else " ".join(line.split())
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
                if self._absorbed:
                    absorbed, self._absorbed = self._absorbed, ()
                    cluster.size += 1
                    cluster.last_seen = self._tick
                    return MatchResult(cluster.template_id, cluster.template, change, cluster.size, text, absorbed)
            if self.masker.exact and self._tick >= self._shapes_resume:
                self._remember_shape(shaped, cluster)
        cluster.size += 1
        cluster.last_seen = self._tick
        return MatchResult(cluster.template_id, cluster.template, change, cluster.size, text)

    def match(self, line: str | bytes) -> MatchResult | None:
        """Return the template a line belongs to without learning anything (None when unknown)."""
        text = sanitize_line(line, self.max_line_chars)
        tokens = self._limit(self.masker.mask_tokens(text))
        cluster = self._cache.get(" ".join(tokens)) or self._best_cluster(tokens)[0]
        if cluster is None:
            cluster = next((c for c in self._by_size.get(len(tokens), ()) if c.covers(tokens)), None)
        if cluster is None:
            return None
        return MatchResult(cluster.template_id, cluster.template, "none", cluster.size, text)

    def resolve(self, template_id: str) -> LogCluster | None:
        """The cluster a template id stands for now, following merges; None when unknown or evicted."""
        for _ in range(64):  # alias chains are short; the bound only guards against a corrupt snapshot
            cluster = self.clusters.get(template_id)
            if cluster is not None or template_id not in self.aliases:
                return cluster
            template_id = self.aliases[template_id]
        return None

    def _limit(self, tokens: list[str]) -> list[str]:
        if len(tokens) > self.max_tokens:
            tokens = [*tokens[: self.max_tokens - 1], WILDCARD]
        return tokens

    def _key(self, tokens: list[str]) -> tuple[int | str, ...]:
        if self.prefix_tokens == 2 and len(tokens) >= 2:  # the default, spelt out: no list unpacking
            return (len(tokens), tokens[0], tokens[1])
        return (len(tokens), *tokens[: self.prefix_tokens])

    def _keys(self, tokens: list[str]) -> list[tuple[int | str, ...]]:
        """The line's own bucket, then those of clusters generalised at a leading position it could fill."""
        key = self._key(tokens)
        keys = [key]
        if not self._leading_parameters:
            return keys
        for index in range(1, len(key)):
            keys += [(*other[:index], WILDCARD, *other[index + 1:]) for other in keys if other[index] != WILDCARD]
        return keys

    def _learn(self, masked: str, tokens: list[str]) -> tuple[LogCluster, Change]:
        """Cache miss: join the most similar cluster (generalising it if needed), a cluster that the
        many-values rule picks, or start a new one."""
        cluster, covered = self._best_cluster(tokens)
        change: Change = "none"
        if cluster is None:
            cluster, change = self._by_many_values(masked, tokens)
        elif not covered:
            self._merge(cluster, tokens)
            change = "updated"
        self._remember(masked, cluster)
        return cluster, change

    def _best_cluster(self, tokens: list[str]) -> tuple[LogCluster | None, bool]:
        """The most similar cluster above the threshold, and whether its template already covers the line.

        Similarity = (equal positions + `wildcard_credit` x positions with ``<*>`` on one side only) / length;
        the counts come from C-level ``map(operator.eq, ...)`` over the tokens and the wildcard mask.
        """
        best: LogCluster | None = None
        best_score = -1.0
        best_covered = False
        credit = self.wildcard_credit
        line_wilds = tokens.count(WILDCARD)
        buckets = self._by_length
        for key in self._keys(tokens):
            for cluster in buckets.get(key, ()):
                generalised = cluster.n_wild
                both = list(map(_EQ, cluster.wild, tokens)).count(True) if generalised and line_wilds else 0
                generalised -= both
                if cluster.fixed_get is None or cluster.fixed_get(tokens) == cluster.fixed:
                    equal = len(tokens) - cluster.n_wild + both  # every non-wildcard position agrees
                else:
                    equal = list(map(_EQ, cluster.tokens, tokens)).count(True)
                score = equal + credit * (generalised + line_wilds - both)
                if score > best_score:
                    best, best_score, best_covered = cluster, score, equal + generalised == len(tokens)
        if best is not None and best_score / len(tokens) >= self.similarity_threshold:
            return best, best_covered
        return None, False

    def _by_many_values(self, masked: str, tokens: list[str]) -> tuple[LogCluster, Change]:
        """Step 3 and 4 of the class docstring: a covering cluster, a sibling made general, or a new cluster."""
        siblings: list[tuple[LogCluster, int]] = []
        if self.parameter_values:
            for cluster in self._by_size.get(len(tokens), [])[-SIBLING_SCAN:]:
                if not _mostly_constant(cluster.constants - 1, len(tokens)):  # with one more parameter
                    continue
                if cluster.covers(tokens):
                    return cluster, "none"
                position = _single_difference(cluster, tokens)
                if position is not None:
                    siblings.append((cluster, position))
        shared: list[tuple[int, set[str]]] = []
        for cluster, position in siblings:
            values = cluster.variants.setdefault(position, {cluster.tokens[position]})
            values.add(tokens[position])
            if len(values) >= self.parameter_values:
                self._make_parameter(cluster, position)
                return cluster, "updated"
            shared.append((position, values))
        cluster = self._create(masked, tokens)
        for position, values in shared:
            cluster.variants.setdefault(position, values)
        return cluster, "new"

    def _make_parameter(self, cluster: LogCluster, position: int) -> None:
        """Turn `position` of `cluster` into ``<*>`` and absorb the same-length clusters it now covers."""
        moves = position < self.prefix_tokens
        if moves:
            self._by_length[self._key(cluster.tokens)].remove(cluster)
        cluster.tokens[position] = WILDCARD
        cluster.variants.pop(position, None)
        cluster.refresh()
        if moves:
            self._by_length.setdefault(self._key(cluster.tokens), []).append(cluster)
            self._leading_parameters = True
        self._absorb_covered(cluster)

    def _absorb_covered(self, cluster: LogCluster) -> None:
        """Fold the same-length clusters that `cluster`'s template covers into it (their ids become aliases)."""
        absorbed = [other for other in self._by_size[len(cluster.tokens)][-SIBLING_SCAN:]
                    if other is not cluster and cluster.covers(other.tokens)]
        for other in absorbed:
            self._drop(other)
            cluster.size += other.size
            cluster.last_seen = max(cluster.last_seen, other.last_seen)
            self._alias(other.template_id, cluster.template_id)
        if absorbed:
            self._cache.clear()  # cached lines may point at an absorbed cluster
            self._shapes.clear()
        self._absorbed = tuple(other.template_id for other in absorbed)

    def _alias(self, absorbed_id: str, survivor_id: str) -> None:
        if len(self.aliases) >= self.max_clusters:
            del self.aliases[next(iter(self.aliases))]  # bounded: forget the oldest merge
        self.aliases[absorbed_id] = survivor_id

    def _merge(self, cluster: LogCluster, tokens: list[str]) -> None:
        """Generalise `cluster` where the line differs, then absorb the clusters it now covers."""
        for index, (mine, theirs) in enumerate(zip(cluster.tokens, tokens, strict=True)):
            if mine not in (theirs, WILDCARD):
                cluster.tokens[index] = WILDCARD
                cluster.variants.pop(index, None)
        cluster.refresh()
        if self.parameter_values:
            self._absorb_covered(cluster)

    def _create(self, masked: str, tokens: list[str]) -> LogCluster:
        if len(self.clusters) >= self.max_clusters:
            self._evict_least_recent()
        template_id = _template_id(masked)
        while template_id in self.clusters or template_id in self.aliases:
            template_id = _template_id(template_id + masked)
        cluster = LogCluster(template_id, list(tokens))
        self._add(cluster)
        return cluster

    def _add(self, cluster: LogCluster) -> None:
        self.clusters[cluster.template_id] = cluster
        self._by_length.setdefault(self._key(cluster.tokens), []).append(cluster)
        self._by_size.setdefault(len(cluster.tokens), []).append(cluster)

    def _drop(self, cluster: LogCluster) -> None:
        del self.clusters[cluster.template_id]
        self._by_length[self._key(cluster.tokens)].remove(cluster)
        self._by_size[len(cluster.tokens)].remove(cluster)

    def _evict_least_recent(self) -> None:
        self._drop(min(self.clusters.values(), key=lambda cluster: cluster.last_seen))
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
        """JSON-serialisable state: the learned clusters and merges (caches and value counts start afresh)."""
        return {
            "version": SNAPSHOT_VERSION,
            "tick": self._tick,
            "clusters": [
                {"id": c.template_id, "tokens": list(c.tokens), "size": c.size, "last_seen": c.last_seen}
                for c in self.clusters.values()
            ],
            "aliases": [[absorbed, survivor] for absorbed, survivor in self.aliases.items()],
        }

    @classmethod
    def restore(cls, state: dict[str, Any], **settings: Any) -> TemplateMiner:
        """Rebuild a miner from `snapshot()` output (this version or 1); `settings` are the constructor
        parameters."""
        if state.get("version") not in _READABLE_VERSIONS:
            raise ValueError(f"unsupported miner snapshot version {state.get('version')!r}")
        miner = cls(**settings)
        miner._tick = int(state["tick"])
        for item in state["clusters"]:
            miner._add(LogCluster(str(item["id"]), [str(t) for t in item["tokens"]], int(item["size"]),
                                  int(item["last_seen"])))
        for absorbed, survivor in state.get("aliases", ()):
            miner.aliases[str(absorbed)] = str(survivor)
        miner._leading_parameters = bool(miner.parameter_values) and any(
            WILDCARD in cluster.tokens[: miner.prefix_tokens] for cluster in miner.clusters.values())
        return miner


def _mostly_constant(constants: int, length: int) -> bool:
    """The many-values rule keeps templates of at least 2 constant tokens and no more wildcards than constants."""
    return constants >= 2 and 2 * constants >= length


def _single_difference(cluster: LogCluster, tokens: list[str]) -> int | None:
    """The one position where the template has a token that the line does not, or None (0 or 2+ such)."""
    equal = list(map(_EQ, cluster.tokens, tokens)).count(True)
    both = list(map(_EQ, cluster.wild, tokens)).count(True) if cluster.n_wild else 0
    if len(tokens) - equal - (cluster.n_wild - both) != 1:
        return None
    return next(index for index, (mine, theirs) in enumerate(zip(cluster.tokens, tokens, strict=True))
                if mine not in (theirs, WILDCARD))
