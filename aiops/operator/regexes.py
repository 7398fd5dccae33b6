"""Regexes from API callers, checked for the forms that make Python's backtracking `re` take minutes. Pure.

aiops matches with Python's `re` (Alertmanager uses RE2, which cannot backtrack), so a pattern such as
``(.*)*x`` run on a 30-character label value (on every signal, for a silence) can hang a worker. Every API
entry point that takes a regex (``filter=`` and ``receiver=`` of ``GET /api/v2/alerts``, ``filter=`` of
``GET /api/v2/silences``, the ``=~``/``!~`` matchers of silences created over v1 or v2) calls
`check_api_regex`, which refuses (`MatcherSyntaxError`, a `ValueError`): a pattern over `MAX_PATTERN_CHARS`;
backreferences and conditional groups; a group repeated more than once (``*``, ``+``, ``{2,}``...) that
contains a quantifier or an alternation (``(a+)+``, ``(.*)*``, ``(a|ab)*``: exponential); more than
`MAX_UNBOUNDED` quantifiers allowing over 10 repeats (``.*a.*a.*a.*x``: polynomial of that degree). Config
files and the CLI are trusted and not checked. A scanner over the pattern text (it compiles first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aiops.correlation.suppression.matchers import Matcher, MatcherSyntaxError

MAX_PATTERN_CHARS = 256
MAX_UNBOUNDED = 3
_MANY = 10
"""A quantifier allowing more than this many repeats counts towards `MAX_UNBOUNDED`."""
_BRACES = re.compile(r"\{(\d*)(,(\d*))?\}")
_NESTED = ("a group repeated more than once contains a quantifier or an alternation (nested quantifiers "
           "backtrack exponentially; use a character class or drop the inner quantifier)")


@dataclass
class _Group:
    repeats: bool = False
    alternates: bool = False


class _Scanner:
    """One pass over a valid pattern: groups on a stack, what each contains, the atom a quantifier follows."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.at = 0
        self.stack = [_Group()]
        self.closed: _Group | None = None  # the group just closed: what a quantifier here would repeat
        self.unbounded = 0

    def refusal(self) -> str | None:
        while self.at < len(self.pattern):
            reason = self._step()
            if reason is not None:
                return reason
        if self.unbounded > MAX_UNBOUNDED:
            return (f"more than {MAX_UNBOUNDED} unbounded quantifiers (backtracking grows with the value's length "
                    f"to that power; split it into several matchers)")
        return None

    def _step(self) -> str | None:
        char = self.pattern[self.at]
        if char == "\\":
            if self.pattern[self.at + 1] in "123456789":
                return "backreferences are not allowed"
            self._atom(2)
        elif char == "[":
            self._skip_class()
        elif char == "(":
            return self._open()
        elif char == ")":
            child = self.stack.pop()
            self.stack[-1].repeats |= child.repeats
            self.stack[-1].alternates |= child.alternates
            self.at += 1
            self.closed = child
        elif char == "|":
            self.stack[-1].alternates = True
            self._atom(1)
        else:
            return self._quantifier_or_atom()
        return None

    def _atom(self, length: int) -> None:
        self.at += length
        self.closed = None

    def _skip_class(self) -> None:
        end = self.at + 1
        end += self.pattern[end] == "^"
        end += self.pattern[end] == "]"
        while self.pattern[end] != "]":
            end += 2 if self.pattern[end] == "\\" else 1
        self._atom(end + 1 - self.at)

    def _open(self) -> str | None:
        rest = self.pattern[self.at + 1:]
        if rest.startswith(("?P=", "?(")):
            return "backreferences and conditional groups are not allowed"
        if rest.startswith("?#"):
            self._atom(self.pattern.index(")", self.at) + 1 - self.at)
            return None
        prefix = 1  # what opens the group: "(", "(?:", "(?<=", "(?P<name>", "(?i:"...
        if rest.startswith(("?:", "?=", "?!", "?>")):
            prefix = 3
        elif rest.startswith(("?<=", "?<!")):
            prefix = 4
        elif rest.startswith("?P<"):
            prefix = self.pattern.index(">", self.at) + 1 - self.at
        elif rest.startswith("?"):  # flags: (?i) sets them globally, (?i:...) is a group
            end = min(i for i in (self.pattern.find(":", self.at), self.pattern.find(")", self.at)) if i >= 0)
            if self.pattern[end] == ")":
                self._atom(end + 1 - self.at)
                return None
            prefix = end + 1 - self.at
        self.stack.append(_Group())
        self._atom(prefix)
        return None

    def _quantifier_or_atom(self) -> str | None:
        char = self.pattern[self.at]
        braces = _BRACES.match(self.pattern, self.at) if char == "{" else None
        if char in "*+?":
            most, length = (1 if char == "?" else None), 1
        elif braces is not None and braces.group(0) != "{}":
            low, comma, high = braces.group(1), braces.group(2), braces.group(3)
            bound = high if comma else low
            most, length = (int(bound) if bound else None), len(braces.group(0))
        else:
            self._atom(1)
            return None
        if (most is None or most > 1) and self.closed is not None and (self.closed.repeats or
                                                                        self.closed.alternates):
            return _NESTED
        self.unbounded += most is None or most > _MANY
        self.stack[-1].repeats = True
        self._atom(length)
        if self.at < len(self.pattern) and self.pattern[self.at] in "?+":  # lazy or possessive
            self.at += 1
        return None


def regex_refusal(pattern: str) -> str | None:
    """Why `pattern` is refused from an API caller (see the module docstring), or None."""
    if len(pattern) > MAX_PATTERN_CHARS:
        return f"longer than {MAX_PATTERN_CHARS} characters"
    try:
        re.compile(pattern)
    except re.error as error:
        return f"not a valid regex: {error}"
    return _Scanner(pattern).refusal()


def check_api_regex(pattern: str) -> str:
    """`pattern` when an API caller may use it; `MatcherSyntaxError` saying why not."""
    reason = regex_refusal(pattern)
    if reason is not None:
        raise MatcherSyntaxError(f"regex {pattern[:80]!r} refused: {reason}")
    return pattern


def check_api_matchers(matchers: list[Matcher]) -> list[Matcher]:
    """`matchers` when every regex among them passes `check_api_regex`."""
    for matcher in matchers:
        if matcher.op in ("=~", "!~"):
            check_api_regex(matcher.value)
    return matchers
