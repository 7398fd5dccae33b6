"""Where a receiver may connect: hosts read the way the C resolver reads them, then every address classified.

`parse_host` turns a URL host into an address whenever the system would (every inet_aton form:
``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``127.1``; IPv6 carrying IPv4: mapped ``::ffff:a.b.c.d``,
compatible ``::a.b.c.d``, translated, NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``), else a lower-case name
without its trailing dot; a host whose last label is numeric but is no valid number is refused.
`DestinationPolicy` (from `delivery.security`) decides: the host must match `allowed_hosts` (globs on
names, CIDRs or globs on addresses), then every address it reaches (the literal, or each DNS answer at
send time, `aiops.sinks.resolver`) must be public, loopback with `allow_loopback`, or private (any other
non-global range: 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7, ...) inside a CIDR of `allowed_hosts`.
Unspecified (0.0.0.0/8, ``::``), link-local (169.254/16 with cloud metadata, fe80::/10), multicast and
reserved addresses are always refused. Pure: no I/O, no clock.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Literal

from aiops.errors import DeliveryRejectedError
from aiops.sinks.config import SecurityConfig

IPAddress = IPv4Address | IPv6Address
AddressClass = Literal["public", "loopback", "private", "unspecified", "link-local", "multicast", "reserved"]
ALWAYS_REFUSED: frozenset[AddressClass] = frozenset({"unspecified", "link-local", "multicast", "reserved"})
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})

_NUMBER = re.compile(r"^(0[xX][0-9a-fA-F]*|[0-9]+)$")
_THIS_NETWORK = IPv4Network("0.0.0.0/8")
_NAT64 = IPv6Network("64:ff9b::/96")
_TRANSLATED = IPv6Network("::ffff:0:0:0/96")


class DestinationRefusedError(DeliveryRejectedError):
    """A destination `DestinationPolicy` refuses (permanent: retrying cannot make it acceptable)."""


def _label_value(label: str) -> int:
    if label[:2].lower() == "0x":
        return int(label[2:] or "0", 16)
    if len(label) > 1 and label.startswith("0"):
        return int(label, 8)  # ValueError on 8 or 9, as inet_aton refuses them
    return int(label)


def _ipv4_number(host: str) -> IPv4Address | None:
    """The address an all-numeric host means to inet_aton (1 to 4 parts); None for a name."""
    labels = host.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels = labels[:-1]  # a trailing dot
    if not _NUMBER.match(labels[-1]):
        return None
    try:
        if len(labels) > 4 or not all(_NUMBER.match(label) for label in labels):
            raise ValueError(host)
        values = [_label_value(label) for label in labels]
        *head, last = values
        if any(value > 255 for value in head) or last >= 256 ** (5 - len(values)):
            raise ValueError(host)
    except ValueError:
        raise ValueError(f"host {host!r} is neither a name nor a valid IPv4 number") from None
    number = last
    for position, value in enumerate(head):
        number += value << (8 * (3 - position))
    return IPv4Address(number)


def unwrap(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 address carries (mapped, compatible, translated, NAT64, 6to4), else itself."""
    if isinstance(address, IPv4Address):
        return address
    embedded = address.ipv4_mapped or address.sixtofour
    if embedded is not None:
        return embedded
    value = int(address)
    if address in _NAT64 or address in _TRANSLATED or 1 < value < 2**32:
        return IPv4Address(value & 0xFFFFFFFF)
    return address


def parse_host(host: str) -> IPAddress | str:
    """An address (see `unwrap`) or a lower-case name without trailing dot; ValueError when malformed."""
    text = host.strip().lower()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if ":" in text:
        try:
            return unwrap(IPv6Address(text.split("%", 1)[0]))
        except ValueError:
            raise ValueError(f"host {host!r} is not a valid IPv6 address") from None
    if not text or text.strip(".") == "":
        raise ValueError("empty host")
    number = _ipv4_number(text)
    return number if number is not None else text.rstrip(".")


def address_class(address: IPAddress) -> AddressClass:
    """Which range `address` (unwrapped first) belongs to; the first matching class wins."""
    ip = unwrap(address)
    checks: tuple[tuple[AddressClass, bool], ...] = (
        ("unspecified", ip.is_unspecified or (isinstance(ip, IPv4Address) and ip in _THIS_NETWORK)),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("private", not ip.is_global or (isinstance(ip, IPv6Address) and ip.is_site_local)),
    )
    return next((kind for kind, matches in checks if matches), "public")


@dataclass(frozen=True)
class DestinationPolicy:
    """`delivery.security` as decisions; each `*_refusal` returns why a destination is refused, or None."""

    allowed_hosts: tuple[str, ...] = ("*",)
    allow_loopback: bool = False

    @classmethod
    def of(cls, security: SecurityConfig) -> DestinationPolicy:
        return cls(tuple(security.allowed_hosts), security.allow_loopback)

    def host_refusal(self, host: str) -> str | None:
        """Check a URL's host as written (addresses fully, names against the allowlist only)."""
        try:
            parsed = parse_host(host)
        except ValueError as error:
            return str(error)
        if isinstance(parsed, str):
            if parsed in LOOPBACK_NAMES or parsed.endswith(".localhost"):
                return None if self.allow_loopback else "loopback (set delivery.security.allow_loopback: true)"
            if not any(fnmatch.fnmatchcase(parsed, pattern.lower()) for pattern in self.allowed_hosts
                       if "/" not in pattern):
                return "host is not in delivery.security.allowed_hosts"
            return None
        refusal = self.address_refusal(parsed)
        if refusal is None and address_class(parsed) != "loopback" and not self._listed(parsed):
            return "host is not in delivery.security.allowed_hosts"
        return refusal

    def address_refusal(self, address: IPAddress) -> str | None:
        """Check one address a destination reaches (a literal host or one DNS answer)."""
        ip = unwrap(address)
        kind = address_class(ip)
        if kind in ALWAYS_REFUSED:
            return f"{ip} is {kind} (always refused)"
        if kind == "loopback" and not self.allow_loopback:
            return f"{ip} is loopback (set delivery.security.allow_loopback: true)"
        if kind == "private" and not self._in_cidr(ip):
            return f"{ip} is private (list a CIDR holding it in delivery.security.allowed_hosts)"
        return None

    def _in_cidr(self, ip: IPAddress) -> bool:
        for pattern in self.allowed_hosts:
            if "/" in pattern:
                try:
                    if ip in ipaddress.ip_network(pattern, strict=False):
                        return True
                except (ValueError, TypeError):
                    continue
        return False

    def _listed(self, ip: IPAddress) -> bool:
        return self._in_cidr(ip) or any(fnmatch.fnmatchcase(str(ip), pattern) for pattern in self.allowed_hosts
                                        if "/" not in pattern)


__all__ = [
    "ALWAYS_REFUSED", "AddressClass", "DestinationPolicy", "DestinationRefusedError", "IPAddress", "address_class",
    "parse_host", "unwrap",
]
