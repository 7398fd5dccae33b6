"""The audit trail of the operator API: one `AuditEntry` per mutating request, whatever its outcome.

An entry says who (the token's name and role, ``anonymous`` without one), when (wall time, passed in),
from where (the remote address), what (method, path, and the action or silence id it produced) and how it
ended (HTTP status and a word). `AuditSink` is where entries go: the HTTP adapter logs each one and hands
it to a sink; the incident store will implement the sink durably. `MemoryAuditSink` keeps entries in a
list (tests, and the default until the store exists). No tokens are ever part of an entry.
"""

from __future__ import annotations

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
