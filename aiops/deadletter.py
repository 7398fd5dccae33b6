"""Dead-letter records: what aiops could not process, with the original bytes and the reason.

A `DeadLetter` keeps the original message bytes (base64, so any bytes survive JSON), the reason class and
detail, where the message came from (topic/partition/offset, or file/line in replay) and which stage gave
up. An original larger than `MAX_ORIGINAL_BYTES` is cut to its first `MAX_ORIGINAL_BYTES` (its full size
and SHA-256 digest are kept), and a key to its first `MAX_KEY_BYTES`, so a dead letter always fits in one
Kafka request (about 350 KB at most). Models only; the runtime publishes them to the dead-letter topic.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from aiops.events import UtcDatetime

MAX_ORIGINAL_BYTES = 256 * 1024
"""The part of an original kept in its dead letter (base64 makes it a third larger)."""
MAX_KEY_BYTES = 4096
"""The part of an original key kept in its dead letter (and used as the dead letter's own key)."""


class DeadLetter(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = 1
    stage: str = Field(description="ingest | correlation | delivery:<receiver> | detection")
    reason: str = Field(description="empty, oversized, not_utf8, invalid_json, non_finite, schema, "
                                    "implausible_time, internal_error, publish_rejected, ...")
    detail: str
    source_topic: str | None = None
    source_partition: int | None = None
    source_offset: int | None = None
    source_key_b64: str | None = Field(None, description="The original key (its first 4096 bytes), base64.")
    original_b64: str = Field(description="The original message value (its first 262144 bytes), base64-encoded.")
    original_size: int | None = Field(None, description="Size of the original value in bytes (null: not recorded).")
    original_sha256: str | None = Field(None, description="SHA-256 of the whole original value, hex.")
    original_truncated: bool = Field(False, description="True when original_b64 holds only the first part.")
    failed_at: UtcDatetime

    @property
    def original(self) -> bytes:
        """The original value as kept: complete unless `original_truncated`."""
        return base64.b64decode(self.original_b64)


def letter_key(key: bytes | None) -> bytes | None:
    """The key a dead letter is published with: the original's, cut to `MAX_KEY_BYTES`."""
    return key[:MAX_KEY_BYTES] if key is not None else None


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
    keep_bytes: int = MAX_ORIGINAL_BYTES,
) -> DeadLetter:
    """A dead letter for `original`; `keep_bytes` bounds the part of it kept (0: only its size and digest)."""
    value = original or b""
    kept = value[:keep_bytes]
    return DeadLetter(
        stage=stage, reason=reason, detail=detail[:2000], source_topic=topic, source_partition=partition,
        source_offset=offset, source_key_b64=base64.b64encode(letter_key(key) or b"").decode() if key else None,
        original_b64=base64.b64encode(kept).decode(), original_size=len(value),
        original_sha256=hashlib.sha256(value).hexdigest(), original_truncated=len(kept) < len(value),
        failed_at=failed_at,
    )
