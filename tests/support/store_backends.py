"""The incident store on each backend for tests: a SQLite file in the test's temp dir, or a fresh database on
the session's PostgreSQL server (the `postgres_server` fixture, which skips when PostgreSQL is absent)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from aiops.store.sql import SqlIncidentStore

BACKENDS = ["sqlite", "postgresql"]
"""Parameters of a store fixture: ``@pytest.fixture(params=BACKENDS)``."""


def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The database URL for the fixture's backend parameter."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    server = request.getfixturevalue("postgres_server")
    url: str = server.create_database()
    return url


@asynccontextmanager
async def opened_store(url: str, **settings: Any) -> AsyncIterator[SqlIncidentStore]:
    """A store opened (migrated) on `url` with `settings`, closed afterwards."""
    opened = SqlIncidentStore(url, **settings)
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()
