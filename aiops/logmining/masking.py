"""Masking of variable tokens in log lines, and of secrets in sample lines.

`VariableMasker` rewrites the variable parts of a log message (numbers, hex, IPs, paths, UUIDs,
timestamps, identifiers that contain digits) to the wildcard ``<*>`` before template mining, using one
combined regular expression so that the hot path is a single C-level `re.sub`. Which rules are active is
configurable by name. `sanitize_line` makes arbitrary input safe (cut to a length limit, control
characters and undecodable bytes replaced). `mask_secrets` hides passwords, bearer tokens, API keys and
similar values in lines kept as evidence samples.

This module only rewrites strings; it does not group lines into templates (see `miner.py`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

WILDCARD = "<*>"

_SEP = r"(?<!\w)"  # variables start and end at a boundary that is not a word character
_END = r"(?!\w)"

MASK_RULES: dict[str, str] = {
    "uuid": r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
    "timestamp": r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?",
    "ip": r"(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?",
    "hex": r"0[xX][0-9a-fA-F]+",
    "path": r"(?:[A-Za-z]:)?(?:[\\/][\w.\-$@~+]+){2,}[\\/]?",
    "url": r"[a-zA-Z][a-zA-Z0-9+.\-]*://\S+",
    "bool": r"(?i:true|false|null|none|nil)",
    "quoted": r'(?<=")[^"\n]{1,200}(?=")',
    "number": r"[-+]?\d+(?:[.,:]\d+)*",
    "size": r"[-+]?\d+(?:\.\d+)?\s?(?:[KMGTP]i?B|B|bytes)",
    "digit_word": r"(?<![\w\-/:@#$+.])(?:[\w\-/:@#$+]+\.)*[\w\-/:@#$+]*\d[\w\-/:@#$+]*(?:\.[\w\-/:@#$+]+)*",
}
"""Named masking rules; order matters (earlier, more specific rules win at the same position)."""

DEFAULT_MASKS: tuple[str, ...] = (
    "uuid", "url", "timestamp", "ip", "hex", "path", "bool", "quoted", "size", "number", "digit_word",
)

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ufffd]+")


class VariableMasker:
    """Replaces variable tokens with ``<*>`` according to the named rules in `masks`.

    Masking works token by token (tokens are separated by single spaces after `sanitize_line`) with a
    bounded cache of already masked tokens, so constant words cost one dict lookup; only the ``quoted``
    rule, whose values may contain spaces, runs on the whole line (and only when it contains a quote).
    A size unit right after a masked number (``16.0 MB``) is folded into the wildcard.
    """

    def __init__(
        self,
        masks: Iterable[str] = DEFAULT_MASKS,
        extra_patterns: Iterable[str] = (),
        cache_size: int = 50_000,
    ) -> None:
        self.masks = tuple(masks)
        unknown = [name for name in self.masks if name not in MASK_RULES]
        if unknown:
            raise ValueError(f"unknown mask rules {unknown}; known: {sorted(MASK_RULES)}")
        self.extra_patterns = tuple(extra_patterns)
        bodies = [f"(?:{pattern})" for pattern in self.extra_patterns]
        bodies += [f"(?:{MASK_RULES[name]})" for name in self.masks if name not in _LINE_RULES]
        self._regex = re.compile(f"{_SEP}(?:{'|'.join(bodies)}){_END}") if bodies else None
        self._quoted = re.compile(MASK_RULES["quoted"]) if "quoted" in self.masks else None
        self._fold_units = "size" in self.masks
        self._alpha_variables = _BOOLS if "bool" in self.masks else frozenset()
        if self.extra_patterns:
            self._alpha_variables = _ALWAYS_REGEX
        self._cache: dict[str, str] = {}
        self.cache_size = max(1, cache_size)

    def mask_tokens(self, text: str) -> list[str]:
        """Masked tokens of a sanitised line (single spaces, no control characters)."""
        if self._quoted is not None and '"' in text:
            text = self._quoted.sub(WILDCARD, text)
        cache = self._cache
        tokens = [cache.get(token) or self._mask_token(token) for token in text.split(" ")]
        if self._fold_units and not _UNITS.isdisjoint(tokens):
            tokens = _fold_units(tokens)
        return tokens

    def mask(self, text: str) -> str:
        """Return a sanitised `text` with every variable token replaced by the wildcard."""
        return " ".join(self.mask_tokens(text))

    def _mask_token(self, token: str) -> str:
        if token.isalpha() and token.lower() not in self._alpha_variables:
            return token  # plain words never match a digit/path rule: skip the regex, keep the cache small
        masked = self._regex.sub(WILDCARD, token) if self._regex is not None else token
        if len(self._cache) >= self.cache_size:
            self._cache.clear()
        self._cache[token] = masked
        return masked


_LINE_RULES = frozenset({"quoted", "size"})
_BOOLS = frozenset({"true", "false", "null", "none", "nil"})


class _Everything(frozenset[str]):
    """A set that contains every string: extra patterns may match plain words, so always run the regex."""

    def __contains__(self, item: object) -> bool:
        return True


_ALWAYS_REGEX: frozenset[str] = _Everything()
_UNITS = frozenset({"B", "KB", "MB", "GB", "TB", "PB", "KiB", "MiB", "GiB", "TiB", "bytes", "B,", "KB,",
                    "MB,", "GB,", "TB,", "B)", "KB)", "MB)", "GB)", "TB)"})


def _fold_units(tokens: list[str]) -> list[str]:
    folded: list[str] = []
    for token in tokens:
        if token in _UNITS and folded and folded[-1] == WILDCARD:
            folded[-1] = WILDCARD + token[-1] if token[-1] in ",)" else WILDCARD
        else:
            folded.append(token)
    return folded


def sanitize_line(line: str | bytes, max_chars: int) -> str:
    """Decode, cut at `max_chars`, replace control characters and collapse whitespace."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", errors="replace")
    if len(line) > max_chars:
        line = line[:max_chars]
    if not line.isprintable():
        line = _CONTROL.sub(" ", line)
    return " ".join(line.split())


_SECRET_KEYS = "|".join((  # key names to look for, not secrets
    r"password", r"passwd", r"pwd", r"pass", r"secret", r"token", r"access[_-]?token", r"refresh[_-]?token",
    r"api[_-]?key", r"apikey", r"client[_-]?secret", r"private[_-]?key", r"auth", r"authorization",
    r"session[_-]?id", r"cookie", r"credentials?",
))
_SECRET_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]+=*"), r"\1 ***"),
    (re.compile(rf"(?i)(\b(?:{_SECRET_KEYS})\b\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^\s,;&]+)"), r"\1***"),
    (re.compile(r"(?i)\b(AKIA|ASIA)[0-9A-Z]{16}\b"), "***"),
    (re.compile(r"\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+"), "***"),
    (re.compile(r"\b(?:sk|pk|rk|ghp|gho|xox[abpr])[-_][A-Za-z0-9\-_]{16,}"), "***"),
    (re.compile(r"(?i)(://[^:/\s]+:)[^@/\s]+@"), r"\1***@"),
)


def mask_secrets(text: str) -> str:
    """Hide secret values (passwords, bearer/basic credentials, API keys, JWTs, URL passwords)."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text
