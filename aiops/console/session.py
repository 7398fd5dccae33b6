"""Console sign-in: a signed session cookie for a token's name and role, and the CSRF token of its forms.

`SessionSigner` signs ``name``, ``role`` and an expiry with HMAC-SHA256 under a key the runtime makes at
start (sessions end when the service restarts, and after `max_age_seconds`); the cookie holds no token
secret. `csrf_token` is an HMAC of the session value (or of ``anonymous`` when no tokens are configured),
so a form posted from another site cannot carry it. Pure: the key and the time come as arguments.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import orjson

from aiops.operator.auth import GRANTS, Principal

COOKIE = "aiops_session"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionSigner:
    """Issues and verifies session cookie values (see the module docstring)."""

    def __init__(self, key: bytes, max_age_seconds: float = 12 * 3600) -> None:
        self._key = key
        self.max_age_seconds = max_age_seconds

    def _mac(self, purpose: str, payload: str) -> str:
        return _b64(hmac.new(self._key, f"{purpose}\n{payload}".encode(), hashlib.sha256).digest())

    def issue(self, principal: Principal, now: float) -> str:
        payload = _b64(orjson.dumps([principal.name, principal.role, round(now + self.max_age_seconds)]))
        return f"{payload}.{self._mac('session', payload)}"

    def verify(self, value: str | None, now: float) -> Principal | None:
        """The principal of a cookie value this signer issued and that has not expired; else None."""
        if not value or value.count(".") != 1:
            return None
        payload, mac = value.split(".")
        if not hmac.compare_digest(mac, self._mac("session", payload)):
            return None
        try:
            name, role, expires = orjson.loads(_unb64(payload))
        except (ValueError, orjson.JSONDecodeError):
            return None
        if not isinstance(name, str) or role not in GRANTS or not isinstance(expires, int) or expires <= now:
            return None
        return Principal(name, role)

    def csrf_token(self, session: str | None) -> str:
        """The token a form of this session must send back (`session` None: anonymous, no cookie)."""
        return self._mac("csrf", session or "anonymous")[:32]

    def csrf_ok(self, session: str | None, sent: str | None) -> bool:
        return sent is not None and hmac.compare_digest(sent, self.csrf_token(session))
