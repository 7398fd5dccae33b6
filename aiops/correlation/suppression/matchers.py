"""Label matchers (Alertmanager style) and the attributes of a member they are matched against.

A `Matcher` is ``name op value`` with ``op`` one of ``=``, ``!=``, ``=~`` (regex), ``!~`` (negated regex).
Regexes are fully anchored (``=~"check.*"`` matches ``checkout``, not ``my-checkout``) and compiled once
per distinct pattern (process-wide cache). As in Alertmanager, an absent attribute matches as the empty
string, so ``team=""`` matches members without a ``team`` label and ``team!=""`` requires one.
`Matcher.parse` reads the text form; pydantic fields of type `Matcher` accept either that string or a
``{name, op, value}`` mapping. `member_attributes` flattens a signal (or a correlation member) into the
string mapping matchers see: its labels plus fixed keys, which win over labels of the same name.

Pure: no I/O, no clock. This module does not decide what to suppress (see `rules`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, Literal, Protocol

from pydantic import field_validator, model_validator

from aiops.config_base import StrictModel
from aiops.errors import ConfigError

Op = Literal["=", "!=", "=~", "!~"]
FIXED_KEYS = ("service", "host", "name", "alertname", "origin", "severity", "status")

_MATCHER_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.\-/]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$", re.DOTALL)
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n"}


class MatcherSyntaxError(ConfigError, ValueError):
    """A matcher's text or regex is malformed (a `ConfigError`; a `ValueError` inside pydantic validation)."""


@lru_cache(maxsize=4096)
def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as error:
        raise MatcherSyntaxError(f"invalid regex {pattern!r}: {error}") from error


def _unquote(text: str) -> str:
    """The value of a matcher: bare text as is, or a double-quoted string with minimal escapes."""
    if not text.startswith('"'):
        return text
    if len(text) < 2 or not text.endswith('"'):
        raise MatcherSyntaxError(f"unterminated quoted value {text!r}")
    out: list[str] = []
    body = text[1:-1]
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body):
            following = body[index + 1]
            out.append(_ESCAPES.get(following, "\\" + following))
            index += 2
            continue
        if char == '"':
            raise MatcherSyntaxError(f"unescaped quote inside value {text!r}")
        out.append(char)
        index += 1
    return "".join(out)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class Matcher(StrictModel):
    """One ``name op value`` condition on a member's attributes."""

    name: str
    op: Op
    value: str

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        if isinstance(data, str):
            name, op, value = _split(data)
            return {"name": name, "op": op, "value": value}
        return data

    @field_validator("name")
    @classmethod
    def _name_not_empty(cls, name: str) -> str:
        if not name:
            raise MatcherSyntaxError("matcher name must not be empty")
        return name

    @model_validator(mode="after")
    def _regex_compiles(self) -> Matcher:
        if self.op in ("=~", "!~"):
            _compile(self.value)
        return self

    @classmethod
    def parse(cls, text: str) -> Matcher:
        """``service=checkout`` / ``service = "checkout"`` / ``service=~"check.*"`` → Matcher; raises
        `MatcherSyntaxError`. A quoted value understands ``\\"``, ``\\\\`` and ``\\n``; any other backslash is
        kept as written, so regex escapes such as ``"a\\.b"`` need no doubling."""
        name, op, value = _split(text)
        if op in ("=~", "!~"):
            _compile(value)
        return cls(name=name, op=op, value=value)

    def matches(self, attrs: Mapping[str, str]) -> bool:
        actual = attrs.get(self.name, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        found = _compile(self.value).fullmatch(actual) is not None
        return found if self.op == "=~" else not found

    def __str__(self) -> str:
        return f"{self.name}{self.op}{_quote(self.value)}"


def _split(text: str) -> tuple[str, Op, str]:
    found = _MATCHER_RE.match(text)
    if found is None:
        raise MatcherSyntaxError(f"not a matcher: {text!r} (expected e.g. service=checkout or name=~\"Disk.*\")")
    name, op, raw = found.group(1), found.group(2), found.group(3)
    operator: Op = "=~" if op == "=~" else "!~" if op == "!~" else "!=" if op == "!=" else "="
    return name, operator, _unquote(raw)


def parse_matchers(texts: Iterable[str]) -> list[Matcher]:
    """Parse several matcher strings (e.g. repeated ``--matcher`` options)."""
    return [Matcher.parse(text) for text in texts]


def all_match(matchers: Iterable[Matcher], attrs: Mapping[str, str]) -> bool:
    """True when every matcher matches (an empty list matches everything)."""
    return all(matcher.matches(attrs) for matcher in matchers)


def format_matchers(matchers: Iterable[Matcher]) -> str:
    """``{service="checkout", name=~"Disk.*"}``: the human form used in reasons and the CLI."""
    return "{" + ", ".join(str(matcher) for matcher in matchers) + "}"


class MemberLike(Protocol):
    """What `member_attributes` reads: satisfied by `Signal` and by correlation's `MemberState`."""

    @property
    def origin(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def service(self) -> str: ...
    @property
    def host(self) -> str: ...
    @property
    def labels(self) -> Mapping[str, str]: ...
    @property
    def status(self) -> str: ...
    @property
    def severity(self) -> str: ...


def member_attributes(member: MemberLike) -> dict[str, str]:
    """The string mapping matchers see: the member's labels, then the fixed keys ``service``, ``host``,
    ``name``, ``alertname`` (same as ``name``), ``origin``, ``severity`` and ``status``. The fixed keys win:
    a label called ``service`` cannot hide the signal's real service."""
    attrs = dict(member.labels)
    attrs.update(
        service=member.service,
        host=member.host,
        name=member.name,
        alertname=member.name,
        origin=member.origin,
        severity=member.severity,
        status=member.status,
    )
    return attrs
