"""Masking of variable tokens in log lines, and of secrets in sample lines.

`VariableMasker` rewrites the variable parts of a log message (numbers, hex, IPs, paths, UUIDs,
timestamps, identifiers that contain digits) to the wildcard ``<*>`` before template mining: token by
token through a bounded cache, with class fast paths (letters, decimal digits) and one combined regular
expression for the rest. Which rules are active is
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
    bounded cache of every token already masked, so a line of known tokens costs one C-level
    ``map(dict.get, ...)``. An unseen token takes a fast path when its class decides the result
    (plain letters stay, decimal digits become ``<*>``) and one combined regex otherwise. Only the
    ``quoted`` rule, whose values may contain spaces, runs on the whole line (and only when it contains
    a quote). A size unit right after a masked number (``16.0 MB``) is folded into the wildcard.
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
        # Fast paths must give exactly what the regex gives; extra patterns may match anything.
        self._alpha_fast = not self.extra_patterns
        self._decimal_fast = not self.extra_patterns and not {"number", "digit_word"}.isdisjoint(self.masks)
        self._cache: dict[str, str] = {}
        self.cache_size = max(1, cache_size)

    def mask_tokens(self, text: str) -> list[str]:
        """Masked tokens of a sanitised line (single spaces, no control characters)."""
        return self.mask_split(text, text.split(" "))

    def mask_split(self, text: str, raw: list[str]) -> list[str]:
        """Masked tokens of a sanitised line `text` whose tokens `raw` the caller has already split."""
        if self._quoted is not None and '"' in text:
            raw = self._quoted.sub(WILDCARD, text).split(" ")
        tokens: list[str | None] = list(map(self._cache.get, raw))
        if None in tokens:
            self._fill(raw, tokens)
        masked: list[str] = tokens  # type: ignore[assignment]  # no None left after _fill
        if self._fold_units and not _UNITS.isdisjoint(masked):
            masked = _fold_units(masked)
        return masked

    def mask(self, text: str) -> str:
        """Return a sanitised `text` with every variable token replaced by the wildcard."""
        return " ".join(self.mask_tokens(text))

    def mask_token(self, token: str) -> str:
        """Masked form of one token (no spaces), without the cache."""
        if self._alpha_fast and token.isalpha() and (len(token) > 5 or token.lower() not in self._alpha_variables):
            return token  # plain words never match a digit/path rule
        if self._decimal_fast and token.isdecimal():
            return WILDCARD  # `number` and `digit_word` both take the whole token
        return self._regex.sub(WILDCARD, token) if self._regex is not None else token

    def _fill(self, raw: list[str], tokens: list[str | None]) -> None:
        """Mask the tokens the cache did not know (None in `tokens`) and remember them.

        Same decisions as `mask_token`, inlined: this loop runs for every unseen token.
        """
        cache = self._cache
        if len(cache) + len(tokens) > self.cache_size:
            cache.clear()  # bounded: start over rather than track recency
        alpha_fast, alpha_variables, decimal_fast = self._alpha_fast, self._alpha_variables, self._decimal_fast
        sub = self._regex.sub if self._regex is not None else None
        for index, token in enumerate(raw):
            if tokens[index] is not None:
                continue
            if alpha_fast and token.isalpha() and (len(token) > 5 or token.lower() not in alpha_variables):
                masked = token
            elif decimal_fast and token.isdecimal():
                masked = WILDCARD
            else:
                masked = sub(WILDCARD, token) if sub is not None else token
            tokens[index] = cache[token] = masked


_LINE_RULES = frozenset({"quoted", "size"})
_BOOLS = frozenset({"true", "false", "null", "none", "nil"})


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
