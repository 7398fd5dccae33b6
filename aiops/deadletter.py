"""Dead-letter records: what aiops could not process, with the original bytes and the reason.

A `DeadLetter` keeps the original message bytes (base64, so any bytes survive JSON), the reason class and
detail, where the message came from (topic/partition/offset, or file/line in replay) and which stage gave
up. Models only; the runtime publishes them to the dead-letter topic.
"""

from __future__ import annotations

import base64
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from aiops.events import UtcDatetime


class DeadLetter(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = 1
    stage: str = Field(description="ingest | correlation | delivery")
    reason: str = Field(description="empty, oversized, not_utf8, invalid_json, non_finite, schema, internal_error, ...")
    detail: str
    source_topic: str | None = None
    source_partition: int | None = None
    source_offset: int | None = None
    source_key_b64: str | None = None
    original_b64: str = Field(description="The original message value, base64-encoded.")
    failed_at: UtcDatetime

    @property
    def original(self) -> bytes:
        return base64.b64decode(self.original_b64)


def dead_letter(
    stage: str,
    reason: str,
    detail: str,
    original: bytes | None,
    failed_at: datetime,
    *,
    topic: str | None = None,
    partition: int | None = None,
    offset: int | None = None,
    key: bytes | None = None,
) -> DeadLetter:
    return DeadLetter(
        stage=stage, reason=reason, detail=detail[:2000], source_topic=topic, source_partition=partition,
        source_offset=offset, source_key_b64=base64.b64encode(key).decode() if key else None,
        original_b64=base64.b64encode(original or b"").decode(), failed_at=failed_at,
    )
