"""Synthetic log systems with known templates: a second, unlimited test set for template mining.

`generate_system(seed)` builds one system from nothing but `random.Random(seed)`: a vocabulary of constant
words, pools of alphabetic host and user names (no rule can mask them), and 20-60 templates that mix
constant words with slots of the variable token classes real logs carry: host names and FQDNs,
``host:port``, IPv4/IPv6, URLs and paths with ids inside, UUIDs and request ids, hex and base64 blobs,
numbers with units (``12ms``, ``3.5 KB``, ``<1 sec``), quoted words and quoted HTTP request lines,
``key=value`` pairs, JSON fragments and timestamps. Some templates are *siblings* that differ from another
in one constant word only (``opened``/``closed``, ``GET``/``POST``), so over-merging costs as much as
under-merging. Lines follow a Zipf-like frequency; the truth of each line is its template's id.
Pure: no clock, no I/O, no global randomness; the same seed gives the same system.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable
from dataclasses import dataclass

Slot = Callable[[random.Random], str]

_WORDS = (
    "connection", "accepted", "refused", "closed", "opened", "reset", "request", "response", "failed",
    "completed", "started", "stopped", "worker", "session", "user", "login", "logout", "token", "cache", "miss",
    "hit", "flush", "write", "read", "disk", "volume", "mount", "unmount", "service", "health", "check",
    "passed", "timeout", "retry", "queue", "message", "consumer", "producer", "partition", "leader", "replica",
    "sync", "lag", "scheduler", "job", "task", "node", "cluster", "pod", "container", "image", "pull", "push",
    "backup", "restore", "snapshot", "commit", "rollback", "transaction", "lock", "acquired", "released",
    "index", "shard", "query", "slow", "plan", "table", "row", "insert", "update", "delete", "select", "config",
    "reload", "listener", "bound", "socket", "handshake", "certificate", "expired", "renewed", "proxy",
    "upstream", "downstream", "route", "matched", "rule", "policy", "denied", "allowed", "quota", "exceeded",
    "rate", "limit", "throttled", "memory", "heap", "gc", "pause",
)
_SIBLING_SWAPS = (("opened", "closed"), ("accepted", "refused"), ("started", "stopped"), ("acquired", "released"),
                  ("hit", "miss"), ("passed", "failed"), ("GET", "POST"), ("insert", "delete"), ("mount", "unmount"))
_SYLLABLES = ("ka", "lo", "mi", "ra", "ven", "tor", "del", "shi", "bu", "no", "zan", "pe", "qui", "lor", "fen",
              "ar", "os", "ul", "tem", "gri", "vo", "dax", "em", "sol")
_TLDS = ("com", "net", "org", "io", "internal", "local")
_METHODS = ("GET", "POST", "PUT", "DELETE")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_BASE62 = string.ascii_letters + string.digits
_SLOT = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True, slots=True)
class SyntheticSystem:
    """One generated system: its lines, the template id of each line, and the templates' text."""

    name: str
    lines: list[str]
    truth: list[str]
    templates: dict[str, str]


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))


def _hex(rng: random.Random, digits: int) -> str:
    return f"{rng.getrandbits(4 * digits):0{digits}x}"


def _uuid(rng: random.Random) -> str:
    return f"{_hex(rng, 8)}-{_hex(rng, 4)}-{_hex(rng, 4)}-{_hex(rng, 4)}-{_hex(rng, 12)}"


def _ipv4(rng: random.Random) -> str:
    return ".".join(str(rng.randint(1, 254)) for _ in range(4))


def _ipv6(rng: random.Random) -> str:
    groups = [f"{rng.getrandbits(16):x}" for _ in range(rng.choice((3, 4, 8)))]
    return ":".join(groups) if len(groups) == 8 else f"{groups[0]}:{groups[1]}::{':'.join(groups[2:])}"


def _duration(rng: random.Random) -> str:
    value = rng.random() * 900
    return rng.choice((f"{value:.0f}ms", f"{value:.1f} ms", f"{value / 100:.2f} s", "<1 sec",
                       f"{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}", f"{value:.0f}µs"))


def _size(rng: random.Random) -> str:
    return rng.choice((f"{rng.random() * 999:.1f} KB", f"{rng.randint(1, 9999)} bytes", f"{rng.random() * 99:.2f}MB",
                       f"{rng.randint(1, 999)} B"))


def _timestamp(rng: random.Random, stamp: int) -> str:
    day, hour, minute, second = rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
    month = rng.randint(1, 12)
    return (
        f"2024-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}.{rng.randint(0, 999):03d}Z",
        f"{rng.choice(_DAYS)} {_MONTHS[month - 1]} {day} {hour:02d}:{minute:02d}:{second:02d} 2024",
        f"[{day:02d}/{_MONTHS[month - 1]}/2024:{hour:02d}:{minute:02d}:{second:02d} +0000]",
        str(1_700_000_000_000 + rng.getrandbits(32)),
    )[stamp]


def _base64(rng: random.Random) -> str:
    body = "".join(rng.choice(_BASE62 + "+/") for _ in range(rng.choice((18, 22, 30))))
    return body + "=" * ((-len(body)) % 4)


def _slot_makers(hosts: list[str], users: list[str], words: list[str], stamp: int) -> dict[str, Slot]:
    """The variable token classes; host and user names come from the system's pools, `stamp` picks the
    system's timestamp format."""
    def fqdn(r: random.Random) -> str:
        return f"{r.choice(hosts)}.{r.choice(words)}.{r.choice(_TLDS)}"

    def path(r: random.Random) -> str:
        item = r.choice((_uuid(r), str(r.randint(1, 10**6)), _hex(r, 24)))
        return f"/api/v{r.randint(1, 3)}/{r.choice(words)}/{item}"

    return {
        "host": lambda r: r.choice(hosts),
        "fqdn": fqdn,
        "host_port": lambda r: f"{r.choice((r.choice(hosts), fqdn(r)))}:{r.randint(80, 65000)}",
        "ipv4": _ipv4,
        "ipv4_port": lambda r: f"{_ipv4(r)}:{r.randint(1024, 65000)}",
        "ipv6": _ipv6,
        "url": lambda r: f"https://{fqdn(r)}{path(r)}?page={r.randint(1, 50)}",
        "path": path,
        "uuid": _uuid,
        "request_id": lambda r: r.choice((f"req-{_uuid(r)}", f"req_{''.join(r.choices(_BASE62, k=16))}")),
        "hex": lambda r: r.choice((f"0x{_hex(r, 8)}", _hex(r, 40))),
        "base64": _base64,
        "duration": _duration,
        "size": _size,
        "number": lambda r: str(r.randint(0, 10**r.randint(1, 7))),
        "float": lambda r: f"{r.random() * 100:.{r.randint(1, 4)}f}",
        "user": lambda r: r.choice(users),
        "quoted": lambda r: f'"{r.choice(users)}"',
        "json": lambda r: f'{{"user": "{r.choice(users)}", "id": {r.randint(1, 9999)}, '
                          f'"ok": {r.choice(("true", "false"))}}}',
        "timestamp": lambda r: _timestamp(r, stamp),
        "keyvalue": lambda r: "",  # replaced by key={user} or key={number} when a template is made
    }


def _template(rng: random.Random, words: list[str], classes: list[str]) -> list[str]:
    """A template as tokens: constant words and ``{class}`` slots (never two slots in a row at the start)."""
    length = rng.randint(3, 12)
    tokens = [rng.choice(words) for _ in range(length)]
    for _ in range(rng.randint(1, min(4, length - 2))):
        tokens[rng.randrange(length)] = "{" + rng.choice(classes) + "}"
    if rng.random() < 0.15:
        tokens[0] = "{" + rng.choice(("host", "host_port", "fqdn", "ipv4_port", "request_id")) + "}"
    if tokens[0].startswith("{") and tokens[1].startswith("{"):
        tokens[1] = rng.choice(words)
    key, value = rng.choice(("user", "id", "attempt", "shard", "peer")), rng.choice(("{user}", "{number}"))
    tokens = [f"{key}={value}" if token == "{keyvalue}" else token for token in tokens]  # noqa: S105 (a slot name)
    if rng.random() < 0.1:
        tokens.insert(rng.randint(1, len(tokens)), f'"{rng.choice(_METHODS)} {{path}} HTTP/1.1"')
    return tokens


def _sibling(rng: random.Random, tokens: list[str]) -> list[str] | None:
    """A copy of `tokens` with one constant word swapped for its opposite, or None when none applies."""
    for old, new in rng.sample(_SIBLING_SWAPS, len(_SIBLING_SWAPS)):
        for index, token in enumerate(tokens):
            if old in token.split():
                copy = list(tokens)
                copy[index] = token.replace(old, new)
                return copy
    return None


def generate_system(seed: int, lines: int = 2000) -> SyntheticSystem:
    """One synthetic system (see the module docstring); deterministic for `seed`."""
    rng = random.Random(seed)
    words = rng.sample(_WORDS, 60) + [swap for pair in _SIBLING_SWAPS for swap in pair]
    hosts = sorted({_name(rng) for _ in range(rng.randint(3, 60))})
    users = sorted({_name(rng) for _ in range(rng.randint(3, 30))} - set(hosts)) or ["nobody"]
    makers = _slot_makers(hosts, users, rng.sample(_WORDS, 8), rng.randrange(4))
    templates: list[list[str]] = []
    seen: set[str] = set()
    for _ in range(rng.randint(20, 60)):
        tokens = _template(rng, words, list(makers))
        sibling = _sibling(rng, tokens) if rng.random() < 0.3 else None
        for candidate in (tokens, sibling):
            key = _SLOT.sub("<*>", " ".join(candidate)) if candidate is not None else ""
            if candidate is not None and key not in seen:  # slot classes alone do not tell templates apart
                seen.add(key)
                templates.append(candidate)
    weights = [1.0 / (rank + 1) ** 1.1 for rank in range(len(templates))]
    rng.shuffle(templates)
    ids = [f"S{seed}E{index}" for index in range(len(templates))]
    picks = rng.choices(range(len(templates)), weights=weights, k=lines)
    rendered = [_render(rng, templates[pick], makers) for pick in picks]
    return SyntheticSystem(f"synthetic-{seed}", rendered, [ids[pick] for pick in picks],
                           {ids[i]: " ".join(t) for i, t in enumerate(templates)})


def _render(rng: random.Random, tokens: list[str], makers: dict[str, Slot]) -> str:
    return " ".join(_SLOT.sub(lambda found: makers[found.group(1)](rng), token) for token in tokens)


def generate_systems(seed: int, count: int, lines: int = 2000) -> list[SyntheticSystem]:
    """`count` systems from seeds derived from `seed` (system i uses seed * 1000 + i)."""
    return [generate_system(seed * 1000 + index, lines) for index in range(count)]
