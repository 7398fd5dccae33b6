"""Learned co-occurrence in correlation: the model factory from `correlation.learned` and its exported graph.

Builds the `RelationModel` (`cooccurrence`) each scope learns with, names the member-type function the
engine feeds it, and exports a scope's learned graph as plain rows (`aiops relations export`). The model's
statistics live in `cooccurrence`; a scope's live model, its restore and its snapshot live with the scope's
derived state (`state.model_of`, `state.persist`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from aiops.correlation.config import LearnedConfig
from aiops.correlation.cooccurrence import RelationModel, member_type
from aiops.signals import Signal

ModelFactory = Callable[[], RelationModel]
TypeFn = Callable[[Signal], str]


def default_factory(config: LearnedConfig) -> tuple[ModelFactory | None, TypeFn]:
    """(model factory, member-type function); no factory when `correlation.learned` is disabled."""
    if not config.enabled:
        return None, member_type

    def factory() -> RelationModel:
        return RelationModel(
            window_seconds=config.window_seconds, half_life_seconds=config.half_life_seconds,
            min_support=config.min_support, significance=config.significance, max_types=config.max_types,
        )

    return factory, member_type


def export_edges(model: RelationModel | None, scope: str, min_confidence: float) -> list[dict[str, Any]]:
    """The learned graph of one scope as plain dicts (for `aiops relations export`)."""
    if model is None:
        return []
    return [{**asdict(edge), "scope": scope} for edge in model.edges(min_confidence)]
