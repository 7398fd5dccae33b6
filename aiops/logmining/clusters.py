"""The miner's records: a learned template (`LogCluster`) and its verdict on one line (`MatchResult`).

`LogCluster` keeps the template tokens with precomputed helpers for C-level comparisons, and the distinct
values seen at a position whose other tokens agree (the evidence the miner's many-values rule counts).
`MatchResult` extracts a line's parameters lazily. No matching logic lives here (see `miner.py`).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from aiops.logmining.rules import WILDCARD

NOT_WILD = " "  # never a token (tokens are split on spaces), so it never equals one
_WILDCARD_SPLIT = re.compile(re.escape(WILDCARD))

Change = Literal["new", "updated", "none"]


@dataclass(slots=True)
class LogCluster:
    """One learned template: its tokens (with ``<*>`` wildcards), size and recency.

    `wild` has ``<*>`` where the template has one and a non-token elsewhere, so that C-level
    ``map(operator.eq, ...)`` can count both kinds of agreement with a line without a Python loop.
    `variants` maps a position to the distinct tokens seen there in lines that agreed everywhere else
    (a set shared with the sibling clusters those lines created; bounded by the miner's rule); `constants`
    counts the tokens without a wildcard (``<*>)`` is not constant).
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
    variants: dict[int, set[str]] = field(default_factory=dict)
    constants: int = 0

    def __post_init__(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Recompute the derived fields after `tokens` changed."""
        self.template = " ".join(self.tokens)
        self.wild = [WILDCARD if token == WILDCARD else NOT_WILD for token in self.tokens]
        self.n_wild = self.wild.count(WILDCARD)
        self.constants = sum(WILDCARD not in token for token in self.tokens)
        positions = [index for index, token in enumerate(self.tokens) if token != WILDCARD]
        self.fixed_get = operator.itemgetter(*positions) if positions else None  # C-level gather
        self.fixed = self.fixed_get(self.tokens) if self.fixed_get is not None else None

    def covers(self, tokens: list[str]) -> bool:
        """True when every non-wildcard token of the template equals the line's token there."""
        return len(tokens) == len(self.tokens) and (self.fixed_get is None or self.fixed_get(tokens) == self.fixed)


class MatchResult:
    """The miner's verdict on one line; `parameters` are extracted lazily on first access.

    `absorbed` names the template ids that this line's template took over (the many-values rule merged
    them into it); their earlier lines belong to `template_id` from now on.
    """

    __slots__ = ("_parameters", "absorbed", "change", "cluster_size", "template", "template_id", "text")

    def __init__(self, template_id: str, template: str, change: Change, cluster_size: int, text: str,
                 absorbed: tuple[str, ...] = ()) -> None:
        self.template_id = template_id
        self.template = template
        self.change: Change = change
        self.cluster_size = cluster_size
        self.text = text
        self.absorbed = absorbed
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
