"""The incident store's schema moves entirely or not at all, and workers starting together migrate once.

On SQLite the driver commits each DDL statement on its own unless the migration holds the write lock in
one explicit transaction: a worker killed mid-migration left half a schema ("table incidents already
exists" for ever after), and two workers migrating one new file together made the loser fail (issue 18).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect

from aiops.store import migrate as migrate_module
from aiops.store.migrate import current_revision, migrate
from aiops.store.sql import SqlIncidentStore, create_engine


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def test_a_migration_that_fails_midway_leaves_no_table_behind(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    real_upgrade = migrate_module.command.upgrade

    def upgrade_then_die(config: Any, revision: str) -> None:
        real_upgrade(config, revision)  # every table created ...
        raise RuntimeError("killed before the commit")  # ... and the process dies before committing

    monkeypatch.setattr(migrate_module.command, "upgrade", upgrade_then_die)
    engine = create_engine(url)
    with pytest.raises(RuntimeError):
        await migrate(engine)
    await engine.dispose()
    assert await _tables(url) == set()

    monkeypatch.setattr(migrate_module.command, "upgrade", real_upgrade)
    store = SqlIncidentStore(url)
    await store.open()  # the next start migrates from scratch
    try:
        assert await current_revision(store.engine) is not None
        assert {"incidents", "alembic_version"} <= await _tables(url)
    finally:
        await store.close()


async def test_workers_opening_one_new_file_together_all_succeed(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    stores = [SqlIncidentStore(url) for _ in range(4)]
    try:
        await asyncio.wait_for(asyncio.gather(*(store.open() for store in stores)), 60)  # it hung before
        revisions = {await current_revision(store.engine) for store in stores}
        assert len(revisions) == 1
        assert None not in revisions
    finally:
        for store in stores:
            await store.close()
