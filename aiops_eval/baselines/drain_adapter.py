"""drain3 behind the `TemplateMiner` interface, for side-by-side measurement (`aiops eval loghub`, bench/logs.py).

Wraps `drain3.TemplateMiner` with its default settings (no masking instructions, similarity 0.4,
depth 4) and returns the same `MatchResult` as `aiops.logmining.miner.TemplateMiner`. It does not add
masking or tuning of its own, so that the comparison in `aiops eval loghub` is against stock drain3.
"""

from __future__ import annotations

from typing import Any

from drain3 import TemplateMiner as _Drain3
from drain3.template_miner_config import TemplateMinerConfig

from aiops.logmining.masking import sanitize_line
from aiops.logmining.miner import Change, MatchResult

_CHANGES: dict[str, Change] = {"cluster_created": "new", "cluster_template_changed": "updated"}


class Drain3Miner:
    """Stock drain3 with the `add(line) -> MatchResult` interface of the project's miner."""

    def __init__(self, max_line_chars: int = 4096) -> None:
        config = TemplateMinerConfig()
        config.profiling_enabled = False
        self._drain: Any = _Drain3(persistence_handler=None, config=config)
        self.max_line_chars = max_line_chars

    def add(self, line: str | bytes) -> MatchResult:
        """Learn from one line (parameters are extracted lazily, as with the project's miner)."""
        text = sanitize_line(line, self.max_line_chars)
        result: dict[str, Any] = self._drain.add_log_message(text)
        return MatchResult(
            f"d{result['cluster_id']}",
            str(result["template_mined"]),
            _CHANGES.get(str(result["change_type"]), "none"),
            int(result["cluster_size"]),
            text,
        )

    def final_templates(self) -> dict[str, str]:
        """Current template of every cluster, by the ids `add` returned."""
        return {f"d{c.cluster_id}": c.get_template() for c in self._drain.drain.clusters}
