"""Incident store: the list row carries the probable root cause and who acknowledged (the console's list).

Adds ``incidents.root_cause`` (the top candidate as ``service`` or ``service/host``) and
``incidents.acknowledged_by``, both nullable, filled for existing rows from each incident's document.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _root_cause(document: dict[str, Any]) -> str | None:
    candidates = document.get("root_cause") or []
    if not candidates:
        return None
    top = candidates[0]
    return f"{top['service']}/{top['host']}" if top.get("host") else str(top["service"])


def upgrade() -> None:
    op.add_column("incidents", sa.Column("root_cause", sa.String()))
    op.add_column("incidents", sa.Column("acknowledged_by", sa.String()))
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, document FROM incidents")).all()
    for incident_id, raw in rows:
        document = json.loads(raw) if isinstance(raw, str | bytes) else raw
        connection.execute(sa.text("UPDATE incidents SET root_cause = :root_cause, acknowledged_by = :acknowledged_by "
                                   "WHERE id = :id"),
                           {"id": incident_id, "root_cause": _root_cause(document),
                            "acknowledged_by": document.get("acknowledged_by")})


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("acknowledged_by")
        batch.drop_column("root_cause")
