"""Configuration sections of delivery (`webhooks:`). Models only."""

from __future__ import annotations

from pydantic import Field

from aiops.config_base import StrictModel


class WebhookConfig(StrictModel):
    name: str = "webhook"
    url: str
    timeout_seconds: float = Field(5.0, gt=0)
    deadline_seconds: float = Field(60.0, gt=0, description="Give up (dead-letter) after this long.")
    initial_backoff_seconds: float = Field(0.2, gt=0)
    max_backoff_seconds: float = Field(10.0, gt=0)
    headers: dict[str, str] = Field(default_factory=dict)
