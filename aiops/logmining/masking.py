"""Masking of variable tokens in log lines, and of secrets in sample lines.

`VariableMasker` rewrites the variable parts of a log message to the wildcard ``<*>`` before template
mining, with the general rules of `rules.py` (numbers and units, hex, IPs, host names, paths, URLs, UUIDs,
blobs, timestamps, key=value and JSON values, quoted words): whole-line rewrites first, then token by token
through a bounded cache, with class fast paths (letters, decimal digits) and one combined regular
expression for the rest. Which rules are active is configurable by name. `sanitize_line` makes arbitrary
input safe (cut to a length limit, control characters and undecodable bytes replaced). `mask_secrets`
hides passwords, bearer tokens, API keys and similar values in lines kept as evidence samples.

This module only rewrites strings; it does not group lines into templates (see `miner.py`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from aiops.logmining.rules import (
    DEFAULT_MASKS,
    LINE_REWRITES,
    LINE_RULES,
    MASK_RULES,
    WILDCARD,
    fold_units,
    has_no_unit,
    may_rewrite,
    random_letters,
    rewrite_line,
)

__all__ = ["DEFAULT_MASKS", "MASK_RULES", "WILDCARD", "VariableMasker", "mask_secrets", "sanitize_line"]

_SEP = r"(?<!\w)"  # variables start and end at a boundary that is not a word character
_END = r"(?!\w)"

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ufffd]+")


class VariableMasker:
    """Replaces variable tokens with ``<*>`` according to the named rules in `masks`.

    Every rule treats all digits alike (only ``hex`` tells ``0`` apart, and only before an ``x``), so
    the line is first reduced to its *shape* with one C-level ``bytes.translate`` (ASCII digits become
    ``0``, or ``1``-``9`` become ``1`` when the line has an ``x``), and masking results are cached per
    shape token in a bounded dict: ``10.1.2.3:4567`` and ``192.168.0.1:80`` share one entry, and a line
    of known shapes costs a translate, a split and a ``map(dict.get, ...)``. The whole-line rewrites
    (`rules.rewrite_line`: JSON and key=value values, quoted words, dates) run on the shape first, unless one
    C-level search (`rules.may_rewrite`) shows that none can apply. An unseen shape token takes a fast path
    when its class decides the result (letters stay unless they look random, decimal digits and whole
    UUID/hex/path/host names become ``<*>``, an ASCII token without digits, slashes or dots, and without an
    ``=`` where base64 padding could end, can only match ``bool``) and the combined regex otherwise. The few
    tokens whose result keeps a digit are masked from their own text each time. A unit word after a masked
    number is folded into it.
    """

    def __init__(
        self,
        masks: Iterable[str] = DEFAULT_MASKS,
        extra_patterns: Iterable[str] = (),
        cache_size: int = 50_000,
        rewrites: Iterable[str] = LINE_REWRITES,
    ) -> None:
        self.masks = tuple(masks)
        self.rewrites = tuple(rewrites)
        unknown = [name for name in self.masks if name not in MASK_RULES]
        unknown += [name for name in self.rewrites if name not in LINE_REWRITES]
        if unknown:
            raise ValueError(f"unknown mask rules {unknown}; known: {sorted(MASK_RULES)} and {LINE_REWRITES}")
        self.extra_patterns = tuple(extra_patterns)
        bodies = [f"(?:{pattern})" for pattern in self.extra_patterns]
        bodies += [f"(?:{MASK_RULES[name]})" for name in self.masks if name not in LINE_RULES]
        self._regex = re.compile(f"{_SEP}(?:{'|'.join(bodies)}){_END}") if bodies else None
        self._quoted = "quoted" in self.masks
        self._rewrite = self._quoted or bool(self.rewrites)
        self._fold_units = "size" in self.masks
        self._blobs = "base64" in self.masks
        self._alpha_variables = _BOOLS if "bool" in self.masks else frozenset()
        # Shortcuts must give exactly what the regex gives; extra patterns may match anything.
        self._fast = not self.extra_patterns
        self._decimal_fast = self._fast and not {"number", "digit_word"}.isdisjoint(self.masks)
        self._bool_sub = re.compile(f"{_SEP}(?:{MASK_RULES['bool']}){_END}").sub if "bool" in self.masks else None
        self._uuid_dashes = 4 if "uuid" in self.masks else 99
        self._whole = _WHOLE_TOKEN.fullmatch if self.masks == DEFAULT_MASKS and self._fast else None
        self._cache: dict[str, str] = {}
        self.cache_size = max(1, cache_size)
        self.exact = True
        """False when the last masked line had a token masked from its own digits (see `mask_shaped`)."""

    def mask_tokens(self, text: str) -> list[str]:
        """Masked tokens of a sanitised line (single spaces, no control characters)."""
        return self.mask_shaped(text, self.shape(text))

    def shape(self, text: str) -> str:
        """The line's shape; the masked tokens are a function of it whenever `exact` is left True."""
        return _shape(text) if self._fast else text

    def shape_function(self) -> Callable[[str], str]:
        """`shape` as a plain function (one Python call less per line for a caller that keeps it)."""
        return _shape if self._fast else str

    def mask_shaped(self, text: str, shaped: str) -> list[str]:
        """Masked tokens of a sanitised line `text` whose `shape` the caller has already computed.

        Sets `exact` to False when some token's result had to be computed from its own digits.
        """
        self.exact = True
        if self._rewrite and may_rewrite(shaped) is not None:
            shaped = rewrite_line(shaped, self.rewrites, self._quoted)
        keys = shaped.split(" ")
        tokens: list[str | None] = list(map(self._cache.get, keys))
        if None in tokens:
            self._fill(keys, text, tokens)
        masked: list[str] = tokens  # type: ignore[assignment]  # no None left after _fill
        if self._fold_units and not has_no_unit(masked):
            masked = fold_units(masked)
        return masked

    def mask(self, text: str) -> str:
        """Return a sanitised `text` with every variable token replaced by the wildcard."""
        return " ".join(self.mask_tokens(text))

    def mask_token(self, token: str) -> str:
        """Masked form of one token (no spaces), without the cache and the line rewrites."""
        if not self._fast:
            return self.reference_token(token)
        shaped = self._mask_shape(_shape(token))
        return self.reference_token(token) if shaped is _OWN else shaped

    def reference_token(self, token: str) -> str:
        """One token masked by the rules alone (the blob test, then the combined regex): what every
        shortcut and cache must reproduce exactly."""
        if self._blobs and random_letters(token):
            return WILDCARD
        return self._regex.sub(WILDCARD, token) if self._regex is not None else token

    def _mask_shape(self, shape: str) -> str:  # noqa: PLR0911 (one return per shortcut)
        """Masked form of a shape token, or `_OWN` when digits survive (then mask the token itself)."""
        if self._fast and shape.isalpha() and (len(shape) > 5 or shape.lower() not in self._alpha_variables):
            return WILDCARD if self._blobs and len(shape) >= 16 and random_letters(shape) else shape
        if self._decimal_fast and shape.isdecimal():
            return WILDCARD  # `number` and `digit_word` both take the whole token
        regex = self._regex
        if regex is None or not self._fast:
            return self.reference_token(shape)
        blob = self._blobs and len(shape) >= 16
        if (shape.isascii() and _TRIGGERS.isdisjoint(shape) and shape.count("-") < self._uuid_dashes
                and shape.rfind("=") < _BASE64_EQUALS):
            if blob and random_letters(shape):
                return WILDCARD
            bool_sub = self._bool_sub
            return bool_sub(WILDCARD, shape) if bool_sub is not None and _may_hold_bool(shape) else shape
        if self._whole is not None and self._whole(shape) is not None:
            return WILDCARD  # before the blob test, which gives the same
        if blob and random_letters(shape):
            return WILDCARD
        masked = regex.sub(WILDCARD, shape)
        return masked if _DIGITS.isdisjoint(masked) else _OWN

    def _fill(self, keys: list[str], text: str, tokens: list[str | None]) -> None:
        """Mask the tokens the cache did not know (None); a token whose result keeps digits is masked
        from its own text and not cached (rare: a number glued to a word, as in ``12:30.5abc``)."""
        cache = self._cache
        if len(cache) + len(tokens) > self.cache_size:
            cache.clear()  # bounded: start over rather than track recency
        alpha_fast, alpha_variables, blobs = self._fast, self._alpha_variables, self._blobs
        own_tokens: list[str] | None = None
        index = -1
        for _ in range(tokens.count(None)):
            index = tokens.index(None, index + 1)  # C-level skip over the known tokens
            key = keys[index]
            if alpha_fast and key.isalpha() and (len(key) > 5 or key.lower() not in alpha_variables) and (
                    not blobs or len(key) < 16):
                value = key  # the first test of `_mask_shape`, inlined for new plain words
            else:
                value = self._mask_shape(key)
            if value is _OWN:
                if own_tokens is None:  # the line rewritten like its shape, so that tokens align
                    own_tokens = (rewrite_line(text, self.rewrites, self._quoted) if self._rewrite else text).split(" ")
                value = self.reference_token(own_tokens[index])
                self.exact = False
            else:
                cache[key] = value
            tokens[index] = value


_OWN = " "  # for a shape whose masked form keeps digits; never a token (no spaces in tokens)
_DIGITS = frozenset("0123456789")
_TRIGGERS = _DIGITS | {"/", "\\", "."}  # an ASCII token without these can only match the `bool` rule
_BASE64_EQUALS = 15  # ... or `base64`, whose last padding ``=`` follows 15+ characters (``key=word`` cannot)
_SHAPE = bytes.maketrans(b"123456789", b"000000000")
_HEX_SHAPE = bytes.maketrans(b"23456789", b"11111111")  # keep 0 apart where `0x` may start a hex number


def _shape(text: str) -> str:
    """`text` with every ASCII digit replaced as described in `VariableMasker` (bytes.translate is C-fast)."""
    table = _HEX_SHAPE if "x" in text or "X" in text else _SHAPE
    if text.isascii():
        return text.encode().translate(table).decode()
    return text.translate({digit: table[digit] for digit in b"0123456789"})


_WHOLE_TOKEN = re.compile(
    f"{MASK_RULES['uuid']}|{MASK_RULES['hex']}|{MASK_RULES['path']}|(?![0-9a-fA-F]{{8}}-)(?:{MASK_RULES['host']})")
"""With the default rules, a token that is wholly one of these is ``<*>``: no earlier rule matches at its start
(a host name has no ``://``, no ``::`` or 7 colons for IPv6, no ``T`` or space for a timestamp, and a UUID start
is excluded)."""


def _may_hold_bool(token: str) -> bool:
    """Cheap necessary condition for the ``bool`` rule on an ASCII token (substring tests, no regex)."""
    low = token.lower()
    return "true" in low or "false" in low or "null" in low or "none" in low or "nil" in low


_BOOLS = frozenset({"true", "false", "null", "none", "nil"})


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
