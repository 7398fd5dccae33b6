"""Request and answer bodies of the /api/v1 routes, and how a request becomes an action or a silence.

`ActionRequest` is the body of ``POST /api/v1/incidents/{id}/actions``; `build_action` makes the
`aiops.actions.Action` the API publishes (the per-kind argument rules are the contract's). `SilenceRequest`
is the body of ``POST /api/v1/silences``; `build_silence` makes the `Silence` published on the silences
topic (the same model ``aiops silence add`` publishes; its regexes must pass `aiops.operator.regexes`).
`SilenceView` is how a silence is answered. Pure: ids and times are passed in; validation errors are
pydantic's (the adapter answers 422 listing them).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from aiops.actions import Action, ActionKind
from aiops.correlation.suppression.matchers import Matcher
from aiops.correlation.suppression.rules import Silence
from aiops.events import UtcDatetime
from aiops.operator.regexes import check_api_matchers


class ActionRequest(BaseModel):
    """What an operator asks for; who and when come from the request (token, wall clock)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ActionKind
    comment: str = Field("", max_length=4000, description="Why (the note itself for `note`).")
    owner: str | None = Field(None, description="assign: the new owner.")
    team: str | None = Field(None, description="assign: the new team.")
    until: UtcDatetime | None = Field(None, description="snooze: notifications held until then (RFC 3339).")
    into: str | None = Field(None, description="merge: the incident this one is merged into.")
    member: str | None = Field(None, description="split / unlink: the member's fingerprint.")


class ActionAccepted(BaseModel):
    """202: the action is on the actions topic; its effect shows in the incident's next version."""

    id: str
    status: Literal["accepted"] = "accepted"


def build_action(request: ActionRequest, *, action_id: str, incident_id: str, scope: str, actor: str,
                 requested_at: datetime, origin: str = "api") -> Action:
    """The action to publish (`ValidationError` when the kind's arguments are missing)."""
    return Action(id=action_id, kind=request.kind, incident_id=incident_id, scope=scope, actor=actor,
                  comment=request.comment, requested_at=requested_at, origin=origin, owner=request.owner,
                  team=request.team, until=request.until, into=request.into, member=request.member)


class SilenceRequest(BaseModel):
    """A new silence: matchers (``service=checkout``, ``name=~"Disk.*"`` or {name, op, value}) and how long."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    matchers: list[Matcher] = Field(min_length=1, description="All must match for a member to be silenced.")
    comment: str = Field(min_length=1, max_length=4000)
    starts_at: UtcDatetime | None = Field(None, description="Default: now.")
    ends_at: UtcDatetime | None = Field(None, description="End (exclusive); or give duration_seconds.")
    duration_seconds: float | None = Field(None, gt=0, description="How long from starts_at; or give ends_at.")
    author: str | None = Field(None, description="Default: the token's name.")

    @field_validator("matchers")
    @classmethod
    def _safe_regexes(cls, matchers: list[Matcher]) -> list[Matcher]:
        return check_api_matchers(matchers)

    @model_validator(mode="after")
    def _one_end(self) -> SilenceRequest:
        if (self.ends_at is None) == (self.duration_seconds is None):
            raise ValueError("give exactly one of ends_at and duration_seconds")
        return self


def build_silence(request: SilenceRequest, *, silence_id: str, actor: str, now: datetime) -> Silence:
    """The silence to publish; `ValueError` when it would end before it starts or is already over."""
    starts_at = request.starts_at or now
    ends_at = request.ends_at or starts_at + timedelta(seconds=request.duration_seconds or 0)
    if ends_at <= starts_at:
        raise ValueError("the silence would end before it starts")
    if ends_at <= now:
        raise ValueError("the silence would already be over")
    return Silence(id=silence_id, matchers=request.matchers, starts_at=starts_at, ends_at=ends_at,
                   author=request.author or actor, comment=request.comment, created_at=now)


class SilenceView(BaseModel):
    """A silence as the API answers it: the stored silence, its state now and its last change."""

    id: str
    matchers: list[Matcher]
    starts_at: datetime
    ends_at: datetime
    author: str
    comment: str
    created_at: datetime
    updated_at: datetime = Field(description="When its latest version was written.")
    state: Literal["pending", "active", "expired"]

    @classmethod
    def of(cls, silence: Silence, updated_at: datetime, now: datetime) -> SilenceView:
        return cls(**silence.model_dump(), updated_at=updated_at, state=silence.state(now.timestamp()))
