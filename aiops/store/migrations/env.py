"""Alembic environment of the incident store: migrate the connection `aiops.store.migrate` hands in.

Run only through `aiops.store.migrate` (no alembic.ini, no URL here): it puts an open synchronous
connection in ``config.attributes["connection"]``; offline (SQL script) mode is not supported.
"""

from __future__ import annotations

from alembic import context

from aiops.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("the incident store migrates only through aiops.store.migrate (no connection given)")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
