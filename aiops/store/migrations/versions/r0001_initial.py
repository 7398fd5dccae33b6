"""Incident store, first schema.

Tables incidents, incident_services, incident_versions, decisions, notifications and audit.

Revision ID: 0001
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)
_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("scope", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("priority", sa.String(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("services", sa.Text(), nullable=False),
        sa.Column("owner", sa.String()),
        sa.Column("team", sa.String()),
        sa.Column("first_seen", _TIME, nullable=False),
        sa.Column("last_seen", _TIME, nullable=False),
        sa.Column("resolved_at", _TIME),
        sa.Column("merged_into", sa.String()),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("document", _DOCUMENT, nullable=False),
    )
    op.create_index("ix_incidents_last_seen", "incidents", ["last_seen", "id"])
    op.create_index("ix_incidents_status_last_seen", "incidents", ["status", "last_seen", "id"])
    op.create_index("ix_incidents_priority_last_seen", "incidents", ["priority", "last_seen", "id"])
    op.create_index("ix_incidents_team_last_seen", "incidents", ["team", "last_seen"])
    op.create_index("ix_incidents_owner_last_seen", "incidents", ["owner", "last_seen"])
    op.create_index("ix_incidents_resolved_at", "incidents", ["resolved_at"])
    op.create_table(
        "incident_services",
        sa.Column("service", sa.String(), primary_key=True),
        sa.Column("incident_id", sa.String(), primary_key=True),
        sa.Column("last_seen", _TIME, nullable=False),
    )
    op.create_index("ix_incident_services_service_last_seen", "incident_services",
                    ["service", "last_seen", "incident_id"])
    op.create_index("ix_incident_services_incident", "incident_services", ["incident_id"])
    op.create_table(
        "incident_versions",
        sa.Column("incident_id", sa.String(), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("priority", sa.String(), nullable=False),
        sa.Column("last_seen", _TIME, nullable=False),
        sa.Column("resolved_at", _TIME),
        sa.Column("published_at", _TIME),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("change", _DOCUMENT, nullable=False),
        sa.Column("document", _DOCUMENT, nullable=False),
    )
    _create_records()


def _create_records() -> None:
    op.create_table(
        "decisions",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("incident_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("ts", _TIME, nullable=False),
        sa.Column("document", _DOCUMENT, nullable=False),
    )
    op.create_index("ix_decisions_incident_ts", "decisions", ["incident_id", "ts"])
    op.create_index("ix_decisions_ts", "decisions", ["ts"])
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("incident_id", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("receiver", sa.String(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("document", _DOCUMENT, nullable=False),
    )
    op.create_index("ix_notifications_incident_at", "notifications", ["incident_id", "at"])
    op.create_index("ix_notifications_at", "notifications", ["at"])
    op.create_table(
        "audit",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("remote", sa.String(), nullable=False),
        sa.Column("method", sa.String(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("action_id", sa.String(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
    )
    op.create_index("ix_audit_at", "audit", ["at"])
    op.create_index("ix_audit_target_at", "audit", ["target", "at"])

def downgrade() -> None:
    for table in ("audit", "notifications", "decisions", "incident_versions", "incident_services", "incidents"):
        op.drop_table(table)
