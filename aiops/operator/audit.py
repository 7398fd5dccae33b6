"""The audit trail of the operator API: one `AuditEntry` per mutating request, whatever its outcome.

An entry says who (the token's name and role, ``anonymous`` without one), when (wall time, passed in),
from where (the remote address), what (method, path, and the action or silence id it produced) and how it
ended (HTTP status and a word). `AuditSink` is where entries go: the HTTP adapter logs each one and hands
it to a sink (the incident store, through the batching writer of `aiops.runtime.api_audit`);
`MemoryAuditSink` keeps entries in a list (tests, no store). `UnauthenticatedFlood` bounds the entries of
requests refused for want of a valid token (401): the first ones of a window one by one, the rest counted
and summarised per remote address. No tokens are ever part of an entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from aiops.events import UtcDatetime


class AuditEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: UtcDatetime
    actor: str = Field(description="The token's name; `anonymous` without a token; empty when refused (401).")
    role: str = Field(description="The token's role; empty when unauthenticated.")
    remote: str = Field(description="The client's address as the listener saw it.")
    method: str
    path: str
    status: int = Field(description="The HTTP status answered.")
    outcome: str = Field(description="accepted, refused, invalid, not_found, unauthorized, forbidden, unavailable.")
    target: str = Field("", description="The incident id or silence id the request was about.")
    action_id: str = Field("", description="The action's or silence's id, once one was made.")
    detail: str = ""


class AuditSink(Protocol):
    """Where audit entries go (the incident store implements it; `record` must not raise for one entry)."""

    async def record(self, entry: AuditEntry) -> None: ...


class MemoryAuditSink:
    """Entries kept in memory, newest last (bounded: the oldest are dropped beyond `limit`)."""

    def __init__(self, limit: int = 10_000) -> None:
        self.limit = limit
        self.entries: list[AuditEntry] = []

    async def record(self, entry: AuditEntry) -> None:
        self.entries.append(entry)
        if len(self.entries) > self.limit:
            del self.entries[: len(self.entries) - self.limit]


@dataclass
class _Counted:
    first: datetime
    last: AuditEntry
    count: int = 0


@dataclass
class UnauthenticatedFlood:
    """Audit of 401s, bounded: per `window_seconds`, the first `per_window` entries are kept; later ones are
    counted per remote address (at most `max_remotes`, the rest under ``*``) and each remote's count becomes
    one summary entry (method ``*``, outcome ``unauthorized``) when the window closes. Times are the
    entries' own (`at`) and the caller's `now`: no clock here."""

    per_window: int = 20
    window_seconds: float = 60.0
    max_remotes: int = 100
    started: datetime | None = None
    kept: int = 0
    counted: dict[str, _Counted] = field(default_factory=dict)

    def admit(self, entry: AuditEntry) -> tuple[bool, list[AuditEntry]]:
        """Whether to record `entry` itself (always, but for a 401 beyond the window's quota), and the
        summaries of a window that closed before it."""
        if entry.status != 401:
            return True, []
        summaries = self.close(entry.at)
        if self.started is None:
            self.started = entry.at
        if self.kept < self.per_window:
            self.kept += 1
            return True, summaries
        remote = entry.remote if entry.remote in self.counted or len(self.counted) < self.max_remotes else "*"
        counted = self.counted.setdefault(remote, _Counted(first=entry.at, last=entry))
        counted.count += 1
        counted.last = entry
        return False, summaries

    def close(self, now: datetime, *, force: bool = False) -> list[AuditEntry]:
        """The summaries of the current window if it ended by `now` (or `force`: the service stops); the
        next 401 starts a new window."""
        if self.started is None or (not force and now - self.started < timedelta(seconds=self.window_seconds)):
            return []
        summaries = [_summary(remote, counted, self.window_seconds) for remote, counted in self.counted.items()]
        self.started, self.kept, self.counted = None, 0, {}
        return summaries


def _summary(remote: str, counted: _Counted, window_seconds: float) -> AuditEntry:
    last = counted.last
    return AuditEntry(at=last.at, actor="", role="", remote=remote, method="*", path="*", status=401,
                      outcome="unauthorized",
                      detail=f"{counted.count} more requests without a valid token from {remote} between "
                             f"{counted.first.isoformat()} and {last.at.isoformat()} (window {window_seconds:g} s), "
                             f"not audited one by one; the last: {last.method} {last.path[:200]}")
