"""HTTP for every receiver: one request per call, and the one classifier of its outcome.

2xx returns the decoded body. Retryable (`HttpRetryableError`, a `DeliveryError`): connection errors,
timeouts, 408, 429 and 5xx, with ``Retry-After`` parsed (delta-seconds or HTTP date, against the injected
wall clock) as the least wait. Permanent (`HttpRejectedError`, a `DeliveryRejectedError`): redirects (never
followed), every other status and an invalid URL. Both keep the status (None without a response).
Messages name the receiver, the method and the *redacted* URL (`redact_url`), never credentials, query or
path secrets. TLS certificates are verified unless `verify_tls` is off. Every request's destination passes
`delivery.security` at send time (`DestinationPolicy`: the host as aiohttp reads it, then every DNS answer
through `GuardedResolver`); a refused one is permanent. No retrying here (`aiops.sinks.retry`).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver
from yarl import URL

from aiops.clock import Wall, utc_now
from aiops.errors import DeliveryError, DeliveryRejectedError
from aiops.sinks.destinations import DestinationPolicy, DestinationRefusedError
from aiops.sinks.resolver import GuardedResolver

RETRYABLE_STATUSES = frozenset({408, 429})
_EXCERPT = 200


class HttpRetryableError(DeliveryError):
    def __init__(self, detail: str, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.status = status


class HttpRejectedError(DeliveryRejectedError):
    def __init__(self, detail: str, status: int | None = None) -> None:
        super().__init__(detail)
        self.status = status


def redact_url(url: str) -> str:
    """``scheme://host[:port]/<first path segment>/…``: no userinfo, query, fragment or later segments.

    Later path segments are dropped because many webhook URLs (Slack, Teams, ...) carry their secret there.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = parts.port
    except ValueError:
        return "<unparseable url>"
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    segments = [segment for segment in parts.path.split("/") if segment]
    path = ""
    if segments:
        path = "/" + segments[0] + ("/…" if len(segments) > 1 else "")
    return f"{parts.scheme}://{netloc}{path}"


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date); None if absent/invalid."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def status_error(detail: str, status: int, retry_after: str | None, now: datetime
                 ) -> HttpRetryableError | HttpRejectedError:
    """The failure a non-2xx `status` means: retryable (408, 429, 5xx, waiting `retry_after`) or permanent."""
    if status in RETRYABLE_STATUSES or status >= 500:
        return HttpRetryableError(detail, status=status, retry_after=parse_retry_after(retry_after, now))
    return HttpRejectedError(detail, status=status)


def _describe(error: aiohttp.ClientError) -> str:
    """Error class plus the OS reason when there is one; never the URL (it may hold credentials)."""
    reason = ""
    if isinstance(error, aiohttp.ClientConnectorError):
        reason = f" ({error.os_error.strerror or type(error.os_error).__name__})"
    return f"{type(error).__name__}{reason}"


class HttpClient:
    """Owns a lazily created aiohttp session; `close` is idempotent. `last_status`: the latest response's
    status (None after a connection error). `policy` guards every destination (default: public hosts
    only); `resolver` is the DNS lookup under the guard (default: the system's; tests pass a fake)."""

    def __init__(self, name: str, timeout_seconds: float, verify_tls: bool = True, wall: Wall = utc_now,
                 policy: DestinationPolicy | None = None, resolver: AbstractResolver | None = None) -> None:
        self.name = name
        self.last_status: int | None = None
        self.wall = wall
        self.policy = policy or DestinationPolicy()
        self._resolver = resolver
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._verify_tls = verify_tls
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(ssl=self._verify_tls,
                                             resolver=GuardedResolver(self.policy, self._resolver))
            self._session = aiohttp.ClientSession(timeout=self._timeout, connector=connector, trust_env=False)
        return self._session

    def _checked(self, url: str, where: str) -> URL:
        """`url` as aiohttp will read it, once its host passed the policy (names are checked again per
        DNS answer by the connector's resolver)."""
        try:
            parsed = URL(url)
            host = parsed.raw_host
        except (TypeError, ValueError):
            raise HttpRejectedError(f"{self.name}: invalid URL: {where}") from None
        if parsed.scheme not in {"http", "https"} or not host:
            raise HttpRejectedError(f"{self.name}: not an http(s) URL with a host: {where}")
        refusal = self.policy.host_refusal(host)
        if refusal is not None:
            raise HttpRejectedError(f"{self.name}: destination refused ({refusal}): {where}")
        return parsed

    async def request(
        self, method: str, url: str, *, body: bytes | None = None, json_body: Any = None,
        headers: dict[str, str] | None = None, auth: tuple[str, str] | None = None,
    ) -> Any:
        """Send one request; the decoded JSON body (or text, or None when empty) on 2xx."""
        where = f"{method} {redact_url(url)}"
        self.last_status = None
        data = body if body is not None else (json.dumps(json_body).encode() if json_body is not None else None)
        send_headers = {"Content-Type": "application/json", "Accept": "application/json", **(headers or {})}
        basic = aiohttp.BasicAuth(*auth) if auth else None
        checked = self._checked(url, where)
        try:
            async with self._get_session().request(
                method, checked, data=data, headers=send_headers, auth=basic, allow_redirects=False
            ) as response:
                self.last_status = response.status
                text = await response.text(errors="replace")
                return self._classify(response, text, where)
        except aiohttp.InvalidURL:
            raise HttpRejectedError(f"{self.name}: invalid URL: {where}") from None
        except DestinationRefusedError as error:
            raise HttpRejectedError(f"{self.name}: destination refused ({error}): {where}") from None
        except TimeoutError:
            raise HttpRetryableError(f"{self.name}: timed out after {self._timeout.total:g}s: {where}") from None
        except aiohttp.ClientError as error:
            raise HttpRetryableError(f"{self.name}: {_describe(error)}: {where}") from None

    def _classify(self, response: aiohttp.ClientResponse, text: str, where: str) -> Any:
        status = response.status
        if 200 <= status < 300:
            if not text.strip():
                return None
            try:
                return json.loads(text)
            except ValueError:
                return text
        detail = f"{self.name}: HTTP {status} from {where}" + (f": {text[:_EXCERPT]}" if text else "")
        raise status_error(detail, status, response.headers.get("Retry-After"), self.wall())

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


__all__ = [
    "RETRYABLE_STATUSES", "HttpClient", "HttpRejectedError", "HttpRetryableError", "parse_retry_after",
    "redact_url", "status_error",
]
