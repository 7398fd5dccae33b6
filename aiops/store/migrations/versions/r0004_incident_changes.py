"""Incident store: a change feed, so every API instance can follow what any projector committed.

Adds ``incident_changes``: one row per incident version newly written, numbered by ``seq`` in commit order
(SQLite: AUTOINCREMENT, never reused; PostgreSQL: an identity column taken under a transaction-level
advisory lock held to the commit, see `aiops.store.writes`). ``GET /api/v1/stream`` polls it. Existing
versions get no row: the stream is live only.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-09
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "incident_changes",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("incident_id", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("incident_changes")
