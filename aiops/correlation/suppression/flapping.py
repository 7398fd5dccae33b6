"""Flapping members: a member that keeps switching between firing and resolved has its changes held.

A member is flapping once more than ``max_transitions`` status changes fall within ``window_seconds`` of
event time (`record_transition`, called by the engine on each change of a member's status); it stays
flapping while it keeps changing and stops once ``calm_seconds`` pass without a change (`settle_flapping`,
on event-time advance), when its current status is reported once. The history lives on the member itself
(`MemberState.transitions`, at most ``max_transitions + 1`` times, gone with its incident), so a signal
writes only its own member's state and a restart restores it with the member. A signal older than what the
member reflects never changes its status (the engine's idempotency rule), so it is never a transition.

Pure: no I/O, no clock. What a flapping member does to notifications is the lifecycle's decision.
"""

from __future__ import annotations

from aiops.correlation.incident_state import MemberState
from aiops.correlation.suppression.config import FlappingConfig


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
