"""Guards on notifications: suppression verdicts, flapping members and storm detection (integration).

- Suppression: the engine asks the `SuppressionPolicy` (`rules`: silences,
  maintenance windows, inhibition) about each firing member of an incident whose notification is due; an
  incident whose firing members are all suppressed is held.
- Flapping (`suppression.flapping`): same rule as `FlapDetector` (more than `max_transitions` status
  changes within `window_seconds`; over after `calm_seconds` without one), but kept on the member itself
  so a signal writes only its own member's state; its changes are held until it calms down.
- Storm (`suppression.storm`): the scope's `StormGuard`, restored from and snapshotted into the scope
  state; a storm stays on until a whole bucket passes without one.
Pure functions over the state; deciding what to emit is the lifecycle's job.
"""

from __future__ import annotations

from aiops.correlation.incident_state import MemberState
from aiops.correlation.state import ScopeState, storm_guard
from aiops.correlation.suppression.config import FlappingConfig, StormConfig


def record_transition(member: MemberState, at: float, config: FlappingConfig) -> bool:
    """Note a status change; True when this change made the member flapping."""
    if not config.enabled:
        return False
    member.transitions = [t for t in member.transitions if t > at - config.window_seconds][-config.max_transitions:]
    member.transitions.append(at)
    if not member.flapping and len(member.transitions) > config.max_transitions:
        member.flapping = True
        return True
    return False


def settle_flapping(member: MemberState, now: float, config: FlappingConfig) -> bool:
    """True when a flapping member has been calm for `calm_seconds` and is no longer flapping."""
    if member.flapping and (not member.transitions or member.transitions[-1] <= now - config.calm_seconds):
        member.flapping = False
        member.transitions.clear()
        return True
    return False


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
