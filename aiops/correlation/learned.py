"""Adapter to the learned co-occurrence model (`aiops.correlation.cooccurrence.RelationModel`).

Declares the interface correlation relies on (`RelationLearner`, `RelationEdgeLike`), builds a model per
scope from `correlation.learned`, restores it from / snapshots it into the scope state, and exports the
learned graph. The model itself (statistics, significance, precedence) is not here. When the co-occurrence
module is not installed, learned correlation is simply off.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any, Protocol, cast

from aiops.correlation.attrs import fallback_member_type
from aiops.correlation.config import LearnedConfig
from aiops.correlation.state import MemberState, ScopeState
from aiops.signals import Signal

MODULE = "aiops.correlation.cooccurrence"


class RelationEdgeLike(Protocol):
    @property
    def confidence(self) -> float: ...
    @property
    def support(self) -> float: ...
    @property
    def precedence(self) -> float: ...


class RelationLearner(Protocol):
    def observe(self, member_type: str, ts: float) -> Any: ...
    def related(self, a: str, b: str) -> RelationEdgeLike | None: ...
    def edges(self, min_confidence: float = ...) -> Sequence[Any]: ...
    def snapshot(self) -> Any: ...
    def restore(self, snapshot: Any) -> Any: ...


ModelFactory = Callable[[], RelationLearner]
TypeFn = Callable[[Signal | MemberState], str]


def default_factory(config: LearnedConfig) -> tuple[ModelFactory | None, TypeFn]:
    """(model factory, member-type function) from the co-occurrence module, if it is there and enabled."""
    try:
        module = importlib.import_module(MODULE)
    except ModuleNotFoundError:
        return None, fallback_member_type
    type_fn = cast(TypeFn, getattr(module, "member_type", fallback_member_type))
    if not config.enabled:
        return None, type_fn
    model_cls = module.RelationModel

    def factory() -> RelationLearner:
        return cast(RelationLearner, model_cls(
            window_seconds=config.window_seconds, half_life_seconds=config.half_life_seconds,
            min_support=config.min_support, significance=config.significance, max_types=config.max_types,
        ))

    return factory, type_fn


def model_of(state: ScopeState, factory: ModelFactory | None) -> RelationLearner | None:
    """The scope's live model (restored from its snapshot on first use after a load)."""
    if factory is None:
        return None
    model = cast(RelationLearner | None, state._model)
    if model is None:
        model = factory()
        if state.relations is not None:
            restored = model.restore(state.relations.get("snapshot", state.relations))
            if restored is not None and restored is not model and hasattr(restored, "related"):
                model = cast(RelationLearner, restored)
        state._model = model
    return model


def observed(state: ScopeState) -> None:
    """The live model learned something since its last snapshot."""
    state._learn_pending = True


def persist(state: ScopeState) -> None:
    """Copy the live model's snapshot into the state, only when it learned something since the last copy.

    Done on event-time advance, not per signal. The model changes only when it observes a new member, so
    skipping unchanged snapshots stores exactly what copying on every advance stored."""
    model = cast(RelationLearner | None, state._model)
    if model is not None and state._learn_pending:
        state._learn_pending = False
        snap = model.snapshot()
        state.relations = snap if isinstance(snap, dict) else {"snapshot": snap}
        state.dirty.relations = True


def export_edges(state: ScopeState, factory: ModelFactory | None, min_confidence: float) -> list[dict[str, Any]]:
    """The learned graph of one scope as plain dicts (for `aiops relations export`)."""
    model = model_of(state, factory)
    if model is None:
        return []
    out: list[dict[str, Any]] = []
    for edge in model.edges(min_confidence):
        dump = getattr(edge, "model_dump", None)
        row = dump() if callable(dump) else dict(getattr(edge, "__dict__", {}))
        row["scope"] = state.scope
        out.append(row)
    return out
