"""Which vectorised columns hold which scalar ensemble member, and whether the bank can run an ensemble.

`MEMBER_COLUMNS` maps each scalar member class (exactly that class, not a subclass) to its columns;
`unsupported_members` lists why an ensemble's members cannot be vectorised (empty: `EnsembleBank` runs
it, same verdicts as the scalar ensemble), so a caller can choose the scalar path before building a bank.
It computes nothing itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiops.detectors.metric.bank.layout import Layout
from aiops.detectors.metric.bank.members import (
    DriftColumns,
    FlatLineColumns,
    LevelColumns,
    MemberColumns,
    VarianceColumns,
)
from aiops.detectors.metric.bank.seasonal import SeasonalColumns
from aiops.detectors.metric.calibrated import CalibratedDetector
from aiops.detectors.metric.ensemble import MetricEnsemble

MEMBER_COLUMNS: Mapping[type[CalibratedDetector], type[MemberColumns[Any]]] = {
    kind.mirrors: kind for kind in (LevelColumns, VarianceColumns, DriftColumns, SeasonalColumns, FlatLineColumns)
}
"""Vectorised counterpart of each scalar member class."""


def unsupported(label: str, component: CalibratedDetector) -> str | None:
    """Why ensemble member `label` cannot be vectorised (None: it can)."""
    kind = MEMBER_COLUMNS.get(type(component))
    if kind is None:
        return f"no vectorised counterpart of ensemble member {label}: {type(component)!r}"
    return kind.unsupported(label, component)


def unsupported_members(ensemble: MetricEnsemble) -> list[str]:
    """Why each of `ensemble`'s members the bank cannot vectorise cannot (empty: the bank can run it)."""
    reasons = (unsupported(label, component) for label, component in ensemble.components.items())
    return [reason for reason in reasons if reason is not None]


def member_columns(layout: Layout, label: str, component: CalibratedDetector) -> MemberColumns[Any]:
    """The columns of ensemble member `label` in `layout` (TypeError when it cannot be vectorised)."""
    reason = unsupported(label, component)
    if reason is not None:
        raise TypeError(reason)
    return MEMBER_COLUMNS[type(component)](layout, label, component)
