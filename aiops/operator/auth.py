"""Who may call the operator API: bearer tokens to principals, roles to permissions. Pure.

`TokenTable.authenticate` compares a bearer token with every configured token in constant time
(`hmac.compare_digest`, and every entry is compared, so timing tells nothing about which one nearly
matched); it never logs or returns the secret. Roles: a viewer reads, a responder also acts on incidents
and silences, an admin may do everything. With no token configured, `anonymous_role` decides: everyone is
admin on a loopback listener (the same trust as the local embedded broker and the ``aiops`` CLI), a
viewer on any other (reads only: acting needs tokens). `foreign_origin` and `is_loopback_authority` are the
checks against cross-site requests and DNS rebinding (a browser's ``Origin``, the ``Host`` it sent). This
module does not read requests or config files.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from aiops.operator.config import Role

Permission = Literal["read", "act", "admin"]
GRANTS: dict[Role, frozenset[Permission]] = {
    "viewer": frozenset({"read"}),
    "responder": frozenset({"read", "act"}),
    "admin": frozenset({"read", "act", "admin"}),
}
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: the token's name (recorded as the actor) and its role."""

    name: str
    role: Role

    def may(self, permission: Permission) -> bool:
        return permission in GRANTS[self.role]


@dataclass(frozen=True)
class Credential:
    name: str
    secret: bytes
    role: Role

    def __repr__(self) -> str:  # the secret never reaches a log line or a traceback
        return f"Credential(name={self.name!r}, role={self.role!r})"


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


DEFAULT_PORTS = {"http": 80, "https": 443}


def _authority(text: str, scheme: str) -> tuple[str, int] | None:
    """``host[:port]`` (``[v6]:port`` too) as (lower-cased host, port), the scheme's port when absent."""
    if text.startswith("["):
        host, closed, rest = text[1:].partition("]")
        if not closed or (rest and not rest.startswith(":")):
            return None
        port = rest[1:]
    else:
        host, _, port = text.partition(":")
    if not host or (port and not (port.isascii() and port.isdigit())):
        return None
    number = int(port) if port else DEFAULT_PORTS.get(scheme)
    return (host.lower(), number) if number is not None else None


def foreign_origin(origin: str, host: str) -> bool:
    """True when a request's ``Origin`` header names another site than its ``Host`` header (``Origin: null``
    included): a browser page of another origin (cross-site request forgery). A ``Host`` without a port has
    the default port of the origin's scheme (a TLS proxy in front keeps the browser's ``Host``)."""
    origin_scheme, separator, rest = origin.strip().partition("://")
    scheme = origin_scheme.lower()
    if not separator or scheme not in DEFAULT_PORTS or "/" in rest:
        return True
    sent = _authority(rest, scheme)
    return sent is None or sent != _authority(host.strip(), scheme)


def is_loopback_authority(host: str) -> bool:
    """True when a ``Host`` header (``127.0.0.1:8080``, ``localhost``, ``[::1]:8080``) names this machine by a
    loopback name or address, so the browser was not sent here under another name (DNS rebinding)."""
    found = _authority(host.strip(), "http")
    return found is not None and is_loopback_host(found[0])


def anonymous_role(has_tokens: bool, listener_host: str) -> Role | None:
    """The role of a request without a (valid) token: none when tokens are configured, admin on a loopback
    listener without tokens, viewer on any other listener without tokens."""
    if has_tokens:
        return None
    return "admin" if is_loopback_host(listener_host) else "viewer"


class TokenTable:
    """The configured tokens and the anonymous role (see the module docstring)."""

    def __init__(self, credentials: Iterable[Credential], anonymous: Role | None) -> None:
        self._credentials = tuple(credentials)
        self.anonymous = anonymous

    def authenticate(self, bearer: str | None) -> Principal | None:
        """The caller of a request carrying `bearer` (None: no Authorization header); None: unauthenticated."""
        if not self._credentials:
            return Principal(ANONYMOUS, self.anonymous) if self.anonymous is not None else None
        if bearer is None:
            return None
        offered = bearer.encode()
        found: Credential | None = None
        for credential in self._credentials:  # no early exit: every comparison is made
            if hmac.compare_digest(offered, credential.secret) and found is None:
                found = credential
        return Principal(found.name, found.role) if found is not None else None


def bearer_token(authorization: str | None) -> str | None:
    """The credentials of an ``Authorization: Bearer <token>`` header, else None."""
    scheme, _, credentials = (authorization or "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None
