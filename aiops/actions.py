"""Operator action contract: one command per message on `aiops.actions`, applied by correlation.

An on-call engineer's acknowledge, unacknowledge, resolve, reopen, assign, note, snooze, merge, split or
unlink is an `Action`: who (`actor`), what (`kind` and its arguments), on which incident, why (`comment`),
when it was asked (`requested_at`, wall time) and a unique `id` (the API answers 202 with it). The topic is
keyed by the incident's correlation `scope` and partitioned like the signals topic, so the correlation worker
owning the incident reads its actions in order beside its signals and stays the single writer of incident
state; the next incident version and the decision ledger record the effect. Models and the per-kind argument
rules only: publishing is the API's job, applying correlation's.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from aiops.events import UtcDatetime

ACTION_SCHEMA_VERSION = 1

ActionKind = Literal[
    "acknowledge", "unacknowledge", "resolve", "reopen", "assign", "note", "snooze", "merge", "split", "unlink",
]
REQUIRED_ARGUMENTS: dict[str, tuple[str, ...]] = {
    "assign": ("owner|team",), "snooze": ("until",), "merge": ("into",), "split": ("member",),
    "unlink": ("member",), "note": ("comment",),
}
"""Arguments each kind needs (``a|b``: at least one of them)."""


class Action(BaseModel):
    """One operator command about one incident."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["action"] = "action"
    schema_version: int = ACTION_SCHEMA_VERSION
    id: str = Field(min_length=1, max_length=64, description="Unique id (the API's 202 answer carries it).")
    kind: ActionKind
    incident_id: str = Field(min_length=1)
    scope: str = Field(description="The incident's correlation scope: the message key on `aiops.actions`.")
    actor: str = Field(min_length=1, description="Who asked (the API token's name, or the CLI user).")
    comment: str = Field("", max_length=4000, description="Why, in the operator's words (the note of `note`).")
    requested_at: UtcDatetime = Field(description="Wall time the action was asked for.")
    origin: str = Field("api", description="Where it came from: api, cli, replay, a receiver callback...")
    owner: str | None = Field(None, description="assign: the new owner.")
    team: str | None = Field(None, description="assign: the new team.")
    until: UtcDatetime | None = Field(None, description="snooze: notifications held until then (event time).")
    into: str | None = Field(None, description="merge: the incident this one is merged into.")
    member: str | None = Field(None, description="split / unlink: the member's fingerprint.")

    @model_validator(mode="after")
    def _arguments(self) -> Action:
        for required in REQUIRED_ARGUMENTS.get(self.kind, ()):
            names = required.split("|")
            if not any(getattr(self, name) for name in names):
                raise ValueError(f"{self.kind} needs {' or '.join(names)}")
        if self.kind == "merge" and self.into == self.incident_id:
            raise ValueError("an incident cannot be merged into itself")
        return self

    @property
    def key(self) -> bytes:
        """The message key on `aiops.actions`: the incident's scope, like the signals'."""
        return self.scope.encode()
