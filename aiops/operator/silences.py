"""Alertmanager API v2 silences over aiops's: its postableSilence in, its gettableSilence out. Pure.

Matchers map both ways: ``{name, value, isRegex, isEqual}`` <-> aiops's ``=``, ``!=``, ``=~``, ``!~``
(both anchor regexes the same way; a regex must pass `aiops.operator.regexes`). A posted silence
starting in the past starts now, one ending before it starts or already over is refused, as Alertmanager
does; one with a known ``id`` replaces that silence's version in place (Alertmanager would expire it and
create a new id when matchers change).
``filter`` (``amtool silence query alertname=X``) keeps silences whose own equality labels satisfy every
filter matcher, as in Alertmanager. ``updatedAt`` is the time the latest version was written.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from aiops.correlation.suppression.matchers import Matcher, Op
from aiops.correlation.suppression.rules import Silence
from aiops.events import UtcDatetime
from aiops.operator.regexes import check_api_matchers, check_api_regex

_OPS: dict[tuple[bool, bool], Op] = {(False, True): "=", (False, False): "!=", (True, True): "=~",
                                     (True, False): "!~"}


class AmMatcher(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1)
    value: str
    isRegex: bool  # noqa: N815 - Alertmanager's field names
    isEqual: bool = True  # noqa: N815

    @model_validator(mode="after")
    def _safe_regex(self) -> AmMatcher:
        if self.isRegex:
            check_api_regex(self.value)
        return self


class PostableSilence(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str | None = None
    matchers: list[AmMatcher] = Field(min_length=1)
    startsAt: UtcDatetime  # noqa: N815
    endsAt: UtcDatetime  # noqa: N815
    createdBy: str  # noqa: N815
    comment: str


def to_matcher(matcher: AmMatcher) -> Matcher:
    return Matcher(name=matcher.name, op=_OPS[(matcher.isRegex, matcher.isEqual)], value=matcher.value)


def am_matcher(matcher: Matcher) -> dict[str, Any]:
    return {"name": matcher.name, "value": matcher.value, "isRegex": matcher.op in ("=~", "!~"),
            "isEqual": matcher.op in ("=", "=~")}


def silence_from_postable(posted: PostableSilence, *, silence_id: str, now: datetime,
                          created_at: datetime | None = None) -> Silence:
    """The aiops silence for `posted` (`ValueError` when it ends before it starts or is already over)."""
    starts_at = max(posted.startsAt, now)
    if posted.endsAt <= now:
        raise ValueError("end time can't be in the past")
    if posted.endsAt <= starts_at:
        raise ValueError("failed to create silence: start time must be before end time")
    return Silence(id=silence_id, matchers=[to_matcher(matcher) for matcher in posted.matchers],
                   starts_at=starts_at, ends_at=posted.endsAt, author=posted.createdBy, comment=posted.comment,
                   created_at=created_at or now)


def rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def gettable_silence(silence: Silence, updated_at: datetime, now: datetime) -> dict[str, Any]:
    """Alertmanager's gettableSilence of `silence`, its state as of `now`."""
    return {"id": silence.id, "status": {"state": silence.state(now.timestamp())},
            "updatedAt": rfc3339(updated_at), "matchers": [am_matcher(m) for m in silence.matchers],
            "startsAt": rfc3339(silence.starts_at), "endsAt": rfc3339(silence.ends_at),
            "createdBy": silence.author, "comment": silence.comment}


def parse_filter(texts: Iterable[str]) -> list[Matcher]:
    """``filter`` query values (``alertname="X"``, also ``{a="b", c=~"d"}``) as matchers (`ConfigError`, also
    for a regex `aiops.operator.regexes` refuses)."""
    found: list[Matcher] = []
    for text in texts:
        inner = text.strip().removeprefix("{").removesuffix("}")
        found.extend(Matcher.parse(part) for part in _split_matchers(inner) if part.strip())
    return check_api_matchers(found)


def _split_matchers(text: str) -> list[str]:
    """Split on commas outside double quotes."""
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in text:
        if char == "," and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
        if char == '"' and not escaped:
            quoted = not quoted
        escaped = char == "\\" and not escaped
    parts.append("".join(current))
    return parts


def matches_filter(silence: Silence, filters: Iterable[Matcher]) -> bool:
    """Alertmanager's rule (``matchFilterLabels``): the silence's matchers read as labels (name -> value as
    written) satisfy every filter matcher; an empty filter value skips a label the silence lacks (for ``=``
    and ``=~``) or has (for ``!=`` and ``!~``)."""
    labels = {matcher.name: matcher.value for matcher in silence.matchers}
    for wanted in filters:
        present = wanted.name in labels
        negative = wanted.op in ("!=", "!~")
        if wanted.value == "" and present == negative:
            continue
        if not wanted.matches(labels):
            return False
    return True
