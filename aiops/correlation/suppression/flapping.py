"""Flap detection: members that keep switching between firing and resolved.

`FlapDetector.record(fingerprint, status, ts)` notes one status report of a member (event time `ts`,
epoch seconds) and answers whether the member is flapping now. A *transition* is a report whose status
differs from the member's previous one (the first report of a member is not a transition). A member
starts flapping when more than ``max_transitions`` transitions fall within the last ``window_seconds``,
stays flapping while it keeps changing, and stops once ``calm_seconds`` pass without a transition (the
report that observes the calm returns False and clears the history).

Event time only: ``now`` for a member is the newest ts it has reported, so a late (out-of-order) report
counts as a transition at its own ts but never moves the member's clock back.

Memory is bounded: at most ``max_tracked`` members (least recently reported evicted first) with at most
``max_transitions + 1`` timestamps each; `expire(now)` drops members idle for longer than
``max(window_seconds, calm_seconds)``. A dropped member loses its last status, so its next report is not
counted as a transition (at worst one transition short of flapping). `snapshot`/`restore` round-trip the
state through a JSON-friendly dict.

Pure: no I/O, no clock. It does not decide what a flapping member does to an incident (the correlator
does).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

SNAPSHOT_VERSION = 1


@dataclass
class _Member:
    status: str
    last_seen: float
    last_change: float
    flapping: bool = False
    transitions: deque[float] = field(default_factory=deque)


class _MemberSnapshot(BaseModel):
    status: str
    last_seen: float
    last_change: float
    flapping: bool = False
    transitions: list[float] = Field(default_factory=list)


class _FlapSnapshot(BaseModel):
    version: int = SNAPSHOT_VERSION
    members: dict[str, _MemberSnapshot] = Field(default_factory=dict)


class FlapDetector:
    """Per-fingerprint transition counting over a sliding event-time window."""

    def __init__(
        self,
        window_seconds: float = 600.0,
        max_transitions: int = 4,
        calm_seconds: float = 900.0,
        max_tracked: int = 100_000,
    ) -> None:
        if window_seconds <= 0 or calm_seconds <= 0 or max_transitions < 1 or max_tracked < 1:
            raise ValueError("FlapDetector: window_seconds > 0, calm_seconds > 0, max_transitions >= 1, "
                             "max_tracked >= 1")
        self.window_seconds = window_seconds
        self.max_transitions = max_transitions
        self.calm_seconds = calm_seconds
        self.max_tracked = max_tracked
        self._members: OrderedDict[str, _Member] = OrderedDict()

    def __len__(self) -> int:
        return len(self._members)

    def record(self, fingerprint: str, status: str, ts: float) -> bool:
        """Note a status report; True while the member is flapping."""
        member = self._members.get(fingerprint)
        if member is None:
            self._members[fingerprint] = _Member(status=status, last_seen=ts, last_change=ts)
            self._evict()
            return False
        self._members.move_to_end(fingerprint)
        now = max(ts, member.last_seen)
        member.last_seen = now
        if status != member.status:
            member.status = status
            member.last_change = max(member.last_change, ts)
            member.transitions.append(ts)
        self._prune(member, now)
        if len(member.transitions) > self.max_transitions:
            member.flapping = True
        if member.flapping and now - member.last_change >= self.calm_seconds:
            member.flapping = False
            member.transitions.clear()
        return member.flapping

    def is_flapping(self, fingerprint: str, at: float | None = None) -> bool:
        """Whether the member is flapping (as of `at`, if given: calm may have passed since its last report)."""
        member = self._members.get(fingerprint)
        if member is None or not member.flapping:
            return False
        return at is None or at - member.last_change < self.calm_seconds

    def forget(self, fingerprint: str) -> None:
        self._members.pop(fingerprint, None)

    def expire(self, now: float) -> int:
        """Drop members idle for longer than max(window, calm); return how many were dropped."""
        horizon = now - max(self.window_seconds, self.calm_seconds)
        idle = [fp for fp, member in self._members.items() if member.last_seen < horizon]
        for fingerprint in idle:
            del self._members[fingerprint]
        return len(idle)

    def _prune(self, member: _Member, now: float) -> None:
        cutoff = now - self.window_seconds
        transitions = member.transitions
        if any(stamp <= cutoff for stamp in transitions):
            member.transitions = deque(stamp for stamp in transitions if stamp > cutoff)
        while len(member.transitions) > self.max_transitions + 1:
            member.transitions.popleft()

    def _evict(self) -> None:
        while len(self._members) > self.max_tracked:
            self._members.popitem(last=False)

    def snapshot(self) -> dict[str, Any]:
        """JSON-friendly copy of the state (for a changelog table or a checkpoint)."""
        members = {
            fp: _MemberSnapshot(status=m.status, last_seen=m.last_seen, last_change=m.last_change,
                                flapping=m.flapping, transitions=list(m.transitions))
            for fp, m in self._members.items()
        }
        return _FlapSnapshot(members=members).model_dump()

    def restore(self, snapshot: Mapping[str, Any]) -> None:
        """Replace the state with a `snapshot()` result (validated; raises pydantic's ValidationError)."""
        parsed = _FlapSnapshot.model_validate(snapshot)
        self._members = OrderedDict(
            (fp, _Member(status=m.status, last_seen=m.last_seen, last_change=m.last_change,
                         flapping=m.flapping, transitions=deque(m.transitions)))
            for fp, m in parsed.members.items()
        )
        self._evict()
