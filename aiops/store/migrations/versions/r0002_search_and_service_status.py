"""Incident store: a substring index for free-text search; status and priority on incident_services.

Search: on SQLite (3.34+ with FTS5) `incident_search_rows` (a stable integer key per incident and its search
text) and the external-content FTS5 table `incident_search` over it (trigram tokenizer, case-sensitive: the
text is lower-cased already), both kept by triggers on `incidents`; on PostgreSQL a GIN ``gin_trgm_ops``
index on ``incidents.search_text`` (extension pg_trgm). Where neither is available nothing is created and
search stays a LIKE scan. Service rows get the incident's status and priority, and an index on (service,
status, priority, last_seen, incident_id).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_SEARCH = (
    "CREATE TABLE incident_search_rows (row_id INTEGER PRIMARY KEY, incident_id TEXT NOT NULL UNIQUE, "
    "search_text TEXT NOT NULL)",
    "CREATE VIRTUAL TABLE incident_search USING fts5(search_text, content='incident_search_rows', "
    "content_rowid='row_id', tokenize='trigram case_sensitive 1')",
    "CREATE TRIGGER incident_search_insert AFTER INSERT ON incidents BEGIN "
    "INSERT INTO incident_search_rows (incident_id, search_text) VALUES (new.id, new.search_text); "
    "INSERT INTO incident_search (rowid, search_text) SELECT row_id, search_text "
    "FROM incident_search_rows WHERE incident_id = new.id; END",
    "CREATE TRIGGER incident_search_update AFTER UPDATE OF search_text ON incidents "
    "WHEN old.search_text IS NOT new.search_text BEGIN "
    "INSERT INTO incident_search (incident_search, rowid, search_text) SELECT 'delete', row_id, search_text "
    "FROM incident_search_rows WHERE incident_id = old.id; "
    "UPDATE incident_search_rows SET search_text = new.search_text WHERE incident_id = old.id; "
    "INSERT INTO incident_search (rowid, search_text) SELECT row_id, search_text "
    "FROM incident_search_rows WHERE incident_id = old.id; END",
    "CREATE TRIGGER incident_search_delete AFTER DELETE ON incidents BEGIN "
    "INSERT INTO incident_search (incident_search, rowid, search_text) SELECT 'delete', row_id, search_text "
    "FROM incident_search_rows WHERE incident_id = old.id; "
    "DELETE FROM incident_search_rows WHERE incident_id = old.id; END",
    "INSERT INTO incident_search_rows (incident_id, search_text) SELECT id, search_text FROM incidents",
    "INSERT INTO incident_search (incident_search) VALUES ('rebuild')",
)


def _sqlite_has_trigram_fts(connection: sa.Connection) -> bool:
    found = str(connection.exec_driver_sql("SELECT sqlite_version()").scalar())
    version = tuple(int(part) for part in found.split("."))
    options = {str(row[0]) for row in connection.exec_driver_sql("PRAGMA compile_options")}
    return version >= (3, 34) and "ENABLE_FTS5" in options


def _postgresql_has_trigram(connection: sa.Connection) -> bool:
    available = connection.exec_driver_sql("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'").first()
    if available is None:
        return False
    try:
        with connection.begin_nested():  # a refused CREATE EXTENSION (privileges) must not abort the migration
            connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except sa.exc.DBAPIError:
        return False
    return True


def _create_search_index(connection: sa.Connection) -> None:
    if connection.dialect.name == "sqlite" and _sqlite_has_trigram_fts(connection):
        for statement in _SQLITE_SEARCH:
            connection.exec_driver_sql(statement)
    elif connection.dialect.name == "postgresql" and _postgresql_has_trigram(connection):
        connection.exec_driver_sql(
            "CREATE INDEX ix_incidents_search_trgm ON incidents USING gin (search_text gin_trgm_ops) "
            "WITH (gin_pending_list_limit = 1024)")  # 1 MB: bounds the pending list each search reads


def upgrade() -> None:
    op.add_column("incident_services", sa.Column("status", sa.String()))
    op.add_column("incident_services", sa.Column("priority", sa.String()))
    op.execute("DELETE FROM incident_services WHERE incident_id NOT IN (SELECT id FROM incidents)")
    op.execute("UPDATE incident_services SET "
               "status = (SELECT i.status FROM incidents i WHERE i.id = incident_services.incident_id), "
               "priority = (SELECT i.priority FROM incidents i WHERE i.id = incident_services.incident_id)")
    with op.batch_alter_table("incident_services") as batch:
        batch.alter_column("status", existing_type=sa.String(), nullable=False)
        batch.alter_column("priority", existing_type=sa.String(), nullable=False)
    op.create_index("ix_incident_services_service_status", "incident_services",
                    ["service", "status", "priority", "last_seen", "incident_id"])
    _create_search_index(op.get_bind())


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("incident_search_insert", "incident_search_update", "incident_search_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS incident_search")
        op.execute("DROP TABLE IF EXISTS incident_search_rows")
    else:
        op.execute("DROP INDEX IF EXISTS ix_incidents_search_trgm")
    op.drop_index("ix_incident_services_service_status", "incident_services")
    with op.batch_alter_table("incident_services") as batch:
        batch.drop_column("priority")
        batch.drop_column("status")
