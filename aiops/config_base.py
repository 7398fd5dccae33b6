"""Shared base of every configuration section: frozen, unknown keys forbidden."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """A frozen config section whose unknown keys are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid")
