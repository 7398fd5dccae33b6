"""The translator protocol, what a translation returns, and the rejection every translator raises.

A `Translator` turns one request's decoded JSON body into events of the contract. `Translation.reply` holds
what the caller's protocol answers besides the status (PagerDuty's `dedup_key`, for instance). Translators
build events through `build_event`, which turns a contract violation into a `PayloadRejectedError` naming
the field, so a bad payload is a 400 with its reason and never an exception escaping the HTTP front.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, Protocol

from pydantic import ValidationError

from aiops.errors import PayloadRejectedError
from aiops.events import EVENT_ADAPTER, InboundEvent
from aiops.ingest.config import IntegrationConfig


@dataclass(frozen=True)
class Received:
    """Where and when a payload arrived: the receive time is the front's wall clock, passed in."""

    integration: str
    now: float
    """Epoch seconds at receipt (the default event time of payloads that carry none)."""
    path: str = ""
    """The route's own path (e.g. ``/v2/change/enqueue``), for translators serving several."""

    @cached_property
    def moment(self) -> datetime:
        """`now` as an aware UTC datetime: what translators put in events (the contract validates a datetime
        about three times faster than epoch seconds, which it must convert)."""
        return datetime.fromtimestamp(self.now, UTC)


@dataclass(frozen=True)
class Translation:
    events: list[InboundEvent]
    reply: dict[str, Any] = field(default_factory=dict)
    """Extra fields of the success answer (e.g. PagerDuty's ``dedup_key``); empty for most protocols."""
    problems: list[str] = field(default_factory=list)
    """Parts of the body left out, each ``where: what`` (Alertmanager's API stores a request's valid alerts
    and answers 400 naming the invalid ones): publish `events`, then answer 400 with these. Empty for most."""


class Translator(Protocol):
    """One payload format. `kind` names it in config (``integrations.<name>.kind``)."""

    kind: str

    def translate(self, body: Any, received: Received) -> Translation:
        """Events for one decoded JSON body; `PayloadRejectedError` when the body is not this format."""
        ...


class IntegrationTranslator:
    """What most translators keep of their integration: its name, settings and the events' `source`."""

    def __init__(self, name: str, config: IntegrationConfig) -> None:
        self.name = name
        self.config = config
        self.source = config.source or name


def build_event(data: dict[str, Any], where: str) -> InboundEvent:
    """Validate `data` against the contract; a violation is a `PayloadRejectedError` (reason ``schema``)
    naming the fields, prefixed by `where` (e.g. ``alerts[3]``)."""
    try:
        return EVENT_ADAPTER.validate_python(data)
    except ValidationError as error:
        problems = []
        for item in error.errors()[:3]:
            loc = ".".join(str(p) for p in item["loc"]) or "<root>"
            problems.append(f"{loc}: {item['msg']}")
        raise PayloadRejectedError("schema", f"{where}: {'; '.join(problems)}") from None


def reject(where: str, problem: str, reason: str = "schema") -> PayloadRejectedError:
    """A rejection for `where` (a JSON path such as ``alerts[2].labels``)."""
    return PayloadRejectedError(reason, f"{where}: {problem}")


def string_map(value: Any, where: str) -> dict[str, str]:
    """A JSON object of strings (labels, annotations); other values are a rejection."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise reject(where, f"must be an object of strings, not {type(value).__name__}")
    for key, item in value.items():
        if not isinstance(item, str):
            raise reject(f"{where}.{key}", f"must be a string, not {type(item).__name__}")
    return value


GO_ZERO_TIME = -62135596800.0
"""0001-01-01T00:00:00Z in epoch seconds: Go's zero `time.Time`, what Go clients send for an unset time."""


def parse_time(value: Any, where: str) -> datetime | None:
    """An ISO 8601 time string (RFC 3339, or a variant Go's strfmt also reads; no offset means UTC) as an aware
    datetime; None for null, ``""`` and Go's zero time. Anything else is a rejection naming `where`."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise reject(where, f"must be an RFC 3339 time string, not {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise reject(where, f"{value[:64]!r} is not an RFC 3339 time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return None if parsed.timestamp() == GO_ZERO_TIME else parsed
