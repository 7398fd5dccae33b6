"""Configuration of suppression (`suppression:`): static silences, maintenance windows, inhibition rules,
flapping, storm detection and the dynamic silences topic. Models and builders only.

Example (every key, with comments: config/aiops.example.yaml)::

    suppression:
      silences:
        - {id: db-migration, matchers: ['service=~"db-.*"'], starts_at: 2024-06-01T22:00:00Z,
           ends_at: 2024-06-02T02:00:00Z, author: ops, comment: planned migration}
      inhibitions:
        - {name: node-down, source_matchers: ['name=NodeDown'], target_matchers: ['severity!=critical'],
           equal: [host]}

Matchers are strings (see `matchers`) or ``{name, op, value}`` mappings. This module does not apply any of
it (see `rules`, `flapping`, `storm`, `guards`) and does not read the silences topic.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field

from aiops.config_base import StrictModel
from aiops.correlation.suppression.rules import InhibitionRule, MaintenanceWindow, Silence, SuppressionPolicy
from aiops.correlation.suppression.storm import StormGuard

DEFAULT_SILENCES_TOPIC = "aiops.silences"


class FlappingConfig(StrictModel):
    enabled: bool = True
    window_seconds: float = Field(600.0, gt=0, description="Transitions are counted over this much event time.")
    max_transitions: int = Field(4, ge=1, description="More transitions than this within the window = flapping.")
    calm_seconds: float = Field(900.0, gt=0, description="Flapping ends after this long without a transition.")


class StormConfig(StrictModel):
    enabled: bool = True
    bucket_seconds: float = Field(60.0, gt=0, description="Event-time bucket the new-member rate is counted in.")
    ratio: float = Field(10.0, gt=0, description="Storm when the bucket's count exceeds ratio x baseline ...")
    min_rate: float = Field(100.0, ge=0, description="... and exceeds this many new members per bucket.")
    baseline_half_life_seconds: float = Field(3600.0, gt=0, description="Half-life of the baseline mean.")
    max_groups: int = Field(10_000, ge=1, description="Groups tracked at most (least recent evicted).")

    def build(self) -> StormGuard | None:
        if not self.enabled:
            return None
        return StormGuard(self.bucket_seconds, self.ratio, self.min_rate, self.baseline_half_life_seconds,
                          self.max_groups)


class SuppressionConfig(StrictModel):
    enabled: bool = Field(True, description="False: no silences, maintenance or inhibition are applied.")
    silences: list[Silence] = Field(default_factory=list, description="Static silences.")
    maintenance: list[MaintenanceWindow] = Field(default_factory=list)
    inhibitions: list[InhibitionRule] = Field(default_factory=list)
    flapping: FlappingConfig = FlappingConfig()
    storm: StormConfig = StormConfig()
    silences_topic: str = Field(
        DEFAULT_SILENCES_TOPIC, min_length=1,
        description="Compacted topic of dynamic silences (key = silence id), written by `aiops silence`.",
    )

    def policy(self, dynamic_silences: Iterable[Silence] = ()) -> SuppressionPolicy:
        """The policy of this config plus the given dynamic silences (one that suppresses nothing when disabled)."""
        return SuppressionPolicy(
            disabled=not self.enabled,
            static_silences=tuple(self.silences),
            maintenance=tuple(self.maintenance),
            inhibitions=tuple(self.inhibitions),
            silences=tuple(dynamic_silences),
        )
