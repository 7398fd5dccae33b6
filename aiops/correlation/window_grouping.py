"""Compatibility name for the correlation engine (the vertical slice's `WindowGroupingCorrelator`).

The rules live in `aiops.correlation.engine`; this module only keeps the old import path working.
"""

from __future__ import annotations

from aiops.correlation.engine import CorrelationEngine

WindowGroupingCorrelator = CorrelationEngine

__all__ = ["WindowGroupingCorrelator"]
