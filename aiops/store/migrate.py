"""Run the incident store's Alembic migrations from code: no alembic.ini, the scripts ship in the package.

`migrate` brings a database to the latest revision (``head``) and `drop_all` takes it back to nothing
(every migration's downgrade, then the version table), both in one transaction on the given engine, so a
process killed mid-migration leaves the schema as it was. On PostgreSQL a transaction-scoped advisory lock
serialises workers that start together, so only one creates the tables. On SQLite the driver would commit
each DDL statement on its own (pysqlite opens a transaction only before DML), so the migration takes the
database's write lock first (``BEGIN IMMEDIATE`` on a connection the driver leaves alone): a second worker
waits for it (busy timeout), then finds the schema at ``head``. Developers add a revision with the template
in ``migrations/script.py.mako`` (``alembic -x`` is not needed: write the file by hand, next revision id, and
extend `aiops.store.schema` to match).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

SCRIPT_LOCATION = Path(__file__).resolve().parent / "migrations"
_ADVISORY_LOCK = 7_263_511_013  # any constant: "aiops store migration"


def alembic_config(connection: Connection) -> Config:
    """An in-memory Alembic config over the packaged scripts, migrating `connection`."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.attributes["connection"] = connection
    return config


def _lock(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK})


def _upgrade(connection: Connection) -> None:
    _lock(connection)
    command.upgrade(alembic_config(connection), "head")


def _drop(connection: Connection) -> None:
    _lock(connection)
    command.downgrade(alembic_config(connection), "base")
    connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _in_write_transaction(change: Callable[[Connection], None]) -> Callable[[Connection], None]:
    """SQLite: run `change` inside ``BEGIN IMMEDIATE`` ... ``COMMIT`` on a driver-autocommit connection."""
    def run(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            change(connection)
        except BaseException:
            connection.exec_driver_sql("ROLLBACK")
            raise
        connection.exec_driver_sql("COMMIT")
    return run


async def _run_schema_change(engine: AsyncEngine, change: Callable[[Connection], None]) -> None:
    """`change` in one transaction: the schema moves entirely or not at all."""
    if engine.dialect.name == "sqlite":
        async with engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.run_sync(_in_write_transaction(change))
        return
    async with engine.begin() as connection:
        await connection.run_sync(change)


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the latest revision."""
    await _run_schema_change(engine, _upgrade)


async def drop_all(engine: AsyncEngine) -> None:
    """Remove every table of the store (downgrade to nothing)."""
    await _run_schema_change(engine, _drop)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at (None: not migrated)."""
    async with engine.connect() as connection:
        return await connection.run_sync(_revision)
