"""Audit entries written to the incident store in batches, off the request path.

`BatchedAuditWriter` is the `AuditSink` the operator API's gate hands entries to when the store is there:
`record` only queues the entry; a task writes what is queued in one transaction (`record_audits`) every
`flush_seconds`, or as soon as `batch_size` wait. A write that fails keeps its entries queued for the next
attempt; beyond `max_pending` the oldest are dropped, counted and logged (the store is down that long).
`stop` lets a write in flight finish, then writes everything still queued, retrying for up to
`stop_seconds`, so a clean shutdown loses no entry. The queue bound and the gate's `UnauthenticatedFlood`
keep a 401 flood from growing memory or rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from sqlalchemy.exc import SQLAlchemyError

from aiops.errors import StoreUnavailableError
from aiops.operator.audit import AuditEntry

log = logging.getLogger("aiops.audit")
STOP_RETRY_SECONDS = 0.2


@runtime_checkable
class AuditBatchStore(Protocol):
    async def record_audits(self, entries: Sequence[AuditEntry]) -> None: ...


class BatchedAuditWriter:
    """Queues audit entries and writes them in batches (see the module docstring)."""

    def __init__(self, store: AuditBatchStore, *, batch_size: int = 200, flush_seconds: float = 0.5,
                 max_pending: int = 10_000, stop_seconds: float = 10.0) -> None:
        self.store = store
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.max_pending = max_pending
        self.stop_seconds = stop_seconds
        self.pending: deque[AuditEntry] = deque()
        self.written = 0
        self.dropped = 0
        self._due = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    async def record(self, entry: AuditEntry) -> None:
        """Queue `entry` (never waits for the database)."""
        self.pending.append(entry)
        if len(self.pending) > self.max_pending:
            self.pending.popleft()
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.error("audit: %d entries dropped so far: the store has not taken them (queue of %d full)",
                          self.dropped, self.max_pending)
        if len(self.pending) >= self.batch_size:
            self._due.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="aiops-audit-writer")

    async def stop(self) -> None:
        """Stop the task, then write what is queued (retrying up to `stop_seconds`)."""
        self._stopping = True
        self._due.set()
        if self._task is not None:  # let a write in flight finish (cancelled, its batch could be lost)
            try:
                await asyncio.wait_for(self._task, self.stop_seconds)
            except TimeoutError:
                log.error("audit: a write did not finish in %.0f s; stopping anyway", self.stop_seconds)
            self._task = None
        for _ in range(max(1, int(self.stop_seconds / STOP_RETRY_SECONDS))):
            if await self.flush():
                break
            await asyncio.sleep(STOP_RETRY_SECONDS)
        if self.pending:
            log.error("audit: %d entries could not be written before stopping", len(self.pending))

    async def flush(self) -> bool:
        """Write the queued entries, a batch at a time; False when the store refused (they stay queued)."""
        while self.pending:
            batch = [self.pending.popleft() for _ in range(min(self.batch_size, len(self.pending)))]
            try:
                await self.store.record_audits(batch)
            except (SQLAlchemyError, StoreUnavailableError, OSError) as error:  # kept for the next attempt
                self.pending.extendleft(reversed(batch))
                log.warning("audit: writing %d entries failed (%s); retrying", len(batch), error)
                return False
            self.written += len(batch)
        return True

    async def _run(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._due.wait(), self.flush_seconds)
            self._due.clear()
            if not self._stopping:
                await self.flush()
