"""The general rules that tell a variable token from a constant one, before any template is learnt.

Token rules (`MASK_RULES`) are regular expressions for one token's variable parts: numbers (also with a
comparison sign or a unit glued on), hex, UUIDs, IPv4/IPv6 (with a port), URLs, paths (ids and query
strings inside), dotted host names and `host:port`, padded base64, timestamps, identifiers containing
digits. `random_letters` catches digit-free blobs (request ids, unpadded base64) by their case changes.
Line rewrites (`rewrite_line`) run on the whole line first: the values of ``"key": value`` (JSON) and
``key=value`` pairs (unless a plain word), one-word quoted strings, empty brackets or quotes (a value
too), textual dates (``Mon Jan 2 2024 03:04:05``, ``12/Mar/2024:…``).
A unit word after a masked number (``3.5 KB``, ``<1 sec``) is folded into the wildcard (`fold_units`).
Every rule treats all digits alike except ``0`` in ``0x``, which keeps `VariableMasker`'s shape cache exact.
None is keyed to a data set. This module holds rules only; applying them with caches is `masking.py`.
"""

from __future__ import annotations

import itertools
import re

WILDCARD = "<*>"

_HEX4 = r"[0-9a-fA-F]{1,4}"
_LABEL = r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?"
_COMMON_TLDS = r"(?:com|net|org|io|edu|gov|local|internal|lan|corp|cloud|dev|app|svc|cluster)"
_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?"
          r"|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
_WEEKDAY = r"(?:Mon|Tues?|Wed(?:nes)?|Thu(?:rs)?|Fri|Sat(?:ur)?|Sun)(?:day)?"

MASK_RULES: dict[str, str] = {
    "uuid": r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
    "url": r"[a-zA-Z][a-zA-Z0-9+.\-]*://\S+",
    "timestamp": r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?",
    "ipv6": rf"(?=[0-9a-fA-F:]*\d)(?:(?:{_HEX4}:){{7}}{_HEX4}|(?:{_HEX4}(?::{_HEX4}){{0,6}})?::"
            rf"(?:{_HEX4}(?::{_HEX4}){{0,6}})?)(?:%\w+)?",
    "ip": r"(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?",
    "hex": r"0[xX][0-9a-fA-F]+",
    "path": r"(?:[A-Za-z]:)?(?:[\\/][\w.\-$@~+%]+){2,}[\\/]?(?:\?[\w.\-$@~+%=&;,/]*)?",
    "host": rf"(?<![\w.\-])(?:(?:{_LABEL}\.){{2,}}[a-z]{{2,24}}|{_LABEL}\.{_COMMON_TLDS})(?::\d{{1,5}})?(?![\w.\-])",
    "bool": r"(?i:true|false|null|none|nil)",
    "quoted": r'(?<![\w"])"[^"\s]{1,200}"(?![\w":])',
    "number": r"[<>~]?[-+]?\d+(?:[.,:]\d+)*",
    "size": r"[-+]?\d+(?:\.\d+)?\s?(?:[KMGTP]i?B|B|bytes)",
    "base64": r"(?:[A-Za-z0-9+/]{4}){3,}(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)",
    "digit_word": r"(?<![\w\-/:@#$+.])(?:[\w\-/:@#$+]+\.)*[\w\-/:@#$+]*\d[\w\-/:@#$+]*(?:\.[\w\-/:@#$+]+)*",
}
"""Named masking rules; order matters (earlier, more specific rules win at the same position).
`quoted` and `size` act on the whole line (`LINE_RULES`), the others token by token."""

DEFAULT_MASKS: tuple[str, ...] = (
    "uuid", "url", "timestamp", "ipv6", "host", "ip", "hex", "path", "bool", "quoted", "size", "number",
    "base64", "digit_word",
)
LINE_RULES = frozenset({"quoted", "size"})
LINE_REWRITES = ("json", "keyvalue", "date")
"""Whole-line rewrites besides `quoted`, on by default; `VariableMasker(rewrites=())` turns them off."""

_JSON_VALUE = re.compile(r'("[\w.\-@$ ]{1,64}"\s?:\s?)(?:"(?:[^"\\]|\\.)*"|[^\s,{}\[\]"]+)')
_KEY_VALUE = re.compile(  # a plain-word value (user=root) is left to the miner's many-values rule
    r"(?<![\w.\-?&/;:=+])([A-Za-z_][\w.\-]{0,63})=(?!=)(?:\"[^\"]*\"|'[^']*'"
    r"|(?![A-Za-z]+(?:[\s,;&)\]}\"'<]|$))[^\s,;&)\]}\"'<]+)")
_DATE = re.compile(
    rf"(?<!\w)(?:(?:{_WEEKDAY},?\s)?{_MONTH}\.?\s{{1,2}}\d{{1,2}}(?:,?\s\d{{4}})?(?:\s\d{{1,2}}:\d{{2}}(?::\d{{2}}"
    rf"(?:[.,]\d+)?)?)?(?:\s\d{{4}})?|\d{{1,2}}[/\-\s]{_MONTH}[/\-\s]\d{{4}}(?:[:\s]\d{{2}}:\d{{2}}:\d{{2}})?"
    rf"(?:\s[+-]\d{{4}})?)(?!\w)"
)
_EMPTY = re.compile(r"(?<![\w\"'])(\(\)|\[\]|\{\}|\"\"|'')(?![\w\"'])")
_EMPTY_FILLED = {"()": "(<*>)", "[]": "[<*>]", "{}": "{<*>}", '""': '"<*>"', "''": "'<*>'"}
_QUOTED = re.compile(MASK_RULES["quoted"])
_SINGLE_QUOTED = re.compile(r"(?<![\w'])'[^'\s]{1,200}'(?![\w':])")


def rewrite_line(text: str, rewrites: tuple[str, ...], quoted: bool) -> str:
    """`text` with the whole-line rules applied (values of JSON and key=value pairs, quoted words, dates).

    Digit-agnostic: the same spans are rewritten in a line and in its digit shape.
    """
    if "json" in rewrites and ('":' in text or '" :' in text):
        text = _JSON_VALUE.sub(rf"\1{WILDCARD}", text)
    if "keyvalue" in rewrites and "=" in text and _KEY_VALUE_HINT(text) is not None:
        text = _KEY_VALUE.sub(rf"\1={WILDCARD}", text)
    if quoted:
        if "()" in text or "[]" in text or "{}" in text or '""' in text or "''" in text:
            text = _EMPTY.sub(lambda found: _EMPTY_FILLED[found.group(1)], text)  # an empty value is a value
        if '"' in text:
            text = _QUOTED.sub(f'"{WILDCARD}"', text)
        if "'" in text:
            text = _SINGLE_QUOTED.sub(f"'{WILDCARD}'", text)
    if "date" in rewrites and _may_hold_date(text):
        text = _DATE.sub(WILDCARD, text)
    return text


_MONTH_HINT = re.compile(r"Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec").search
_KV_VALUE_START = r"""(?![A-Za-z]+(?:[\s,;&)\]}"'<]|$))[^\s,;&)\]}"'<=]"""  # a value `_KEY_VALUE` rewrites
_KEY_VALUE_HINT = re.compile(rf"""=(?:["']|{_KV_VALUE_START})""").search
"""Matches from the ``=`` of every `_KEY_VALUE` match: ``status=ok`` (a plain word) skips the full regex."""
may_rewrite = re.compile(
    rf""""|'|\(\)|\[\]|\{{\}}|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec|={_KV_VALUE_START}""").search
"""Necessary condition for `rewrite_line` to change a line (None: it cannot): a quote (JSON, quoted words,
empty quotes), empty brackets, a month name or a key=value value; every alternative starts with a literal,
so the regex engine skips to those characters in C."""


def _may_hold_date(text: str) -> bool:
    return _MONTH_HINT(text) is not None


def random_letters(token: str) -> bool:
    """True for a token with a digit-free part (between ``-``/``_``) of 16+ ASCII letters whose case changes
    at 40% or more of its neighbouring pairs (a random id or blob; CamelCase changes case at about a quarter)."""
    if len(token) < 16 or not token.isascii():
        return False
    if token.isalpha():
        return _random_part(token)
    if "-" not in token and "_" not in token:
        return False
    parts = _PARTS(token)
    return max(map(len, parts)) >= 16 and any(_random_part(part) for part in parts)  # C-level length test first


_PARTS = re.compile(r"[-_]").split


def _random_part(token: str) -> bool:
    if len(token) < 16 or not token.isalpha():
        return False
    upper = [char.isupper() for char in token]
    changes = sum(1 for left, right in itertools.pairwise(upper) if left != right)
    return changes >= 0.4 * (len(token) - 1)


UNITS = frozenset({
    "B", "KB", "kB", "MB", "GB", "TB", "PB", "KiB", "MiB", "GiB", "TiB", "bytes", "byte",
    "ms", "us", "µs", "ns", "s", "sec", "secs", "second", "seconds", "min", "mins", "minute", "minutes",
    "h", "hr", "hrs", "hour", "hours", "day", "days", "%",
})
"""Unit words folded into a masked number before them (``3.5 KB`` and ``<1 sec`` become one ``<*>``)."""
_UNIT_TOKENS = UNITS | {unit + tail for unit in UNITS for tail in ",);."}


def has_unit(tokens: list[str]) -> bool:
    """Cheap test: may `fold_units` change these tokens?"""
    return not _UNIT_TOKENS.isdisjoint(tokens)


has_no_unit = _UNIT_TOKENS.isdisjoint
"""`not has_unit(tokens)` without a Python call (a bound C method)."""


def fold_units(tokens: list[str]) -> list[str]:
    """Fold a unit token into the wildcard before it, keeping trailing punctuation (``<*>,``)."""
    folded: list[str] = []
    for token in tokens:
        if folded and folded[-1] == WILDCARD and token in _UNIT_TOKENS:
            folded[-1] = WILDCARD + token[-1] if token[-1] in ",);." and token not in UNITS else WILDCARD
        else:
            folded.append(token)
    return folded
