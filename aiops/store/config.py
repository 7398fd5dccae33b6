"""The `store:` configuration section: where the incident store lives, its retention, its projector.

A pure model (no SQLAlchemy import), assembled into `aiops.config.AiopsConfig` as `store`. `url` is a
SQLAlchemy async URL (``sqlite+aiosqlite:///path`` or ``postgresql+psycopg://user:pass@host/db``) and, like
other secrets, may be ``${ENV:NAME}`` or ``file:/path`` (resolved at start-up by
`aiops.sinks.security.resolve_secret`; never logged with its password). Choosing the default location
(``null``) is the runtime's job: see `DEFAULT_STORE_FILE`.
"""

from __future__ import annotations

from pydantic import Field

from aiops.config_base import StrictModel

DEFAULT_STORE_FILE = "aiops-store.db"
"""With ``url: null``: this SQLite file in the working directory (a temporary one with the embedded broker)."""


class StoreConfig(StrictModel):
    """The incident store (read model) and its projector; see docs/ARCHITECTURE.md, "Incident store"."""

    enabled: bool = Field(True, description="Run the store projector in `aiops run` (and serve /healthz stage "
                          "`store`).")
    url: str | None = Field(
        None, description="SQLAlchemy async URL: sqlite+aiosqlite:///PATH or postgresql+psycopg://USER:PASS@HOST/DB; "
        "may be a secret reference (${ENV:NAME}, file:/path). null: aiops-store.db in the working directory, or a "
        "temporary file removed at exit when the embedded (in-memory) broker is used, whose topics die with it.")
    retention_days: float = Field(30.0, gt=0, description="Resolved incidents whose resolve is older than this "
                                  "are deleted with their versions, decisions and notifications.")
    audit_retention_days: float = Field(365.0, gt=0, description="Audit rows older than this are deleted.")
    retention_interval_seconds: float = Field(3600.0, gt=0, description="How often the projector applies the "
                                              "retention (wall time; also once at start).")
    consumer_group: str | None = Field(None, description="The projector's consumer group; null: "
                                       "<workers.app_id>-store.")
    batch_max_records: int = Field(1000, ge=1, description="Records per projector batch (one transaction).")
    batch_timeout_ms: int = Field(200, ge=1, description="How long a fetch waits for records.")

    def group_id(self, app_id: str) -> str:
        """The projector's consumer group."""
        return self.consumer_group or f"{app_id}-store"
