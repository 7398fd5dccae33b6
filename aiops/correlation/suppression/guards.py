"""The storm guard on a scope's state: count new members, say when a storm starts and when it is over.

The scope's `StormGuard` (`storm`) is restored from and snapshotted into the scope state
(`ScopeState.storm`); a storm stays on until a whole bucket passes without one. The other guards act on one
member or incident and live beside their rules: flapping in `flapping`, suppression verdicts
(`rules.SuppressionPolicy`) asked by the lifecycle for each firing member of an incident whose notification
is due. Pure functions over the state; deciding what to emit is the lifecycle's job.
"""

from __future__ import annotations

from aiops.correlation.state import ScopeState, storm_guard
from aiops.correlation.suppression.config import StormConfig


def count_new_member(state: ScopeState, at: float, config: StormConfig) -> bool:
    """Count one new member of the scope; True when that starts a storm."""
    guard = storm_guard(state, config)
    if guard is None:
        return False
    verdict = guard.observe_new_member("scope", at)
    storm = state.storm
    storm.snapshot = guard.snapshot()
    storm.rate, storm.baseline = verdict.rate, verdict.baseline
    if verdict.active:
        storm.last_active = at
        if not storm.active:
            storm.active, storm.since = True, at
            return True
    return False


def storm_over(state: ScopeState, now: float, config: StormConfig) -> bool:
    """End a storm once a whole bucket passed without one; True when it ended now."""
    guard = storm_guard(state, config)
    if guard is None or not state.storm.active:
        return False
    if guard.state("scope", now).active or now < state.storm.last_active + config.bucket_seconds:
        return False
    state.storm.active = False
    return True
