"""`WebhookSink`: POST each incident version as JSON to an HTTP receiver, one attempt per call.

The body is ``incident.model_dump_json()``; headers carry ``Idempotency-Key`` (``<id>:<version>``, so
receivers can drop at-least-once duplicates), ``X-Aiops-Incident`` and ``X-Aiops-Version`` plus the
configured headers (which cannot override those three or Content-Type). Classification: 2xx delivered;
408, 429, 5xx, connection errors and timeouts raise `DeliveryError` (with ``Retry-After`` parsed, seconds
or HTTP date); redirects and every other status raise `DeliveryRejectedError`. URLs are redacted (no
credentials, query, fragment or path secrets) in logs and error messages. Retrying is not done here, see
`aiops.sinks.retry`.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import aiohttp

from aiops import __version__
from aiops.config import WebhookConfig
from aiops.errors import DeliveryError, DeliveryRejectedError
from aiops.incidents import Incident

log = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({408, 429})
_BODY_EXCERPT_CHARS = 200
_PROTOCOL_HEADERS = ("Content-Type", "Idempotency-Key", "X-Aiops-Incident", "X-Aiops-Version")


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


def build_headers(config: WebhookConfig, incident: Incident) -> dict[str, str]:
    """Configured headers first, then the protocol headers, which always win."""
    headers = {
        key: value
        for key, value in config.headers.items()
        if key.lower() not in {name.lower() for name in _PROTOCOL_HEADERS}
    }
    headers.setdefault("User-Agent", f"aiops/{__version__}")
    headers.update(
        {
            "Content-Type": "application/json",
            "Idempotency-Key": incident.idempotency_key,
            "X-Aiops-Incident": incident.id,
            "X-Aiops-Version": str(incident.version),
        }
    )
    return headers


class WebhookSink:
    """POSTs incidents to `config.url`; uses the injected session or owns one (lazy, closed by close)."""

    def __init__(self, config: WebhookConfig, session: aiohttp.ClientSession | None = None) -> None:
        self._config = config
        self._session = session
        self._owns_session = session is None
        self._target = redact_url(config.url)
        self._timeout = aiohttp.ClientTimeout(total=config.timeout_seconds)

    @property
    def name(self) -> str:
        return self._config.name

    @property
    def target(self) -> str:
        """The redacted URL: safe for logs and error messages."""
        return self._target

    async def deliver(self, incident: Incident) -> None:
        body = incident.model_dump_json().encode("utf-8")
        session = self._get_session()
        try:
            async with session.post(
                self._config.url,
                data=body,
                headers=build_headers(self._config, incident),
                timeout=self._timeout,
                allow_redirects=False,
            ) as response:
                await self._check(response, incident)
        except aiohttp.InvalidURL:
            raise DeliveryRejectedError(f"{self.name}: invalid webhook URL {self._target}") from None
        except TimeoutError:
            raise DeliveryError(
                f"{self.name}: timed out after {self._config.timeout_seconds:g}s posting to {self._target}"
            ) from None
        except aiohttp.ClientError as error:
            raise DeliveryError(f"{self.name}: {_describe(error)} posting to {self._target}") from None

    async def _check(self, response: aiohttp.ClientResponse, incident: Incident) -> None:
        status = response.status
        if 200 <= status < 300:
            await response.read()
            log.debug("%s delivered %s to %s", self.name, incident.idempotency_key, self._target)
            return
        excerpt = (await response.text(errors="replace"))[:_BODY_EXCERPT_CHARS]
        detail = f"{self.name}: HTTP {status} from {self._target}" + (f": {excerpt}" if excerpt else "")
        if status in RETRYABLE_STATUSES or status >= 500:
            retry_after = parse_retry_after(response.headers.get("Retry-After"), datetime.now(tz=UTC))
            raise DeliveryError(detail, retry_after=retry_after)
        raise DeliveryRejectedError(detail)

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            if not self._owns_session:
                raise DeliveryError(f"{self.name}: the injected HTTP session is closed")
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None if self._owns_session else self._session


def _describe(error: aiohttp.ClientError) -> str:
    """Error class plus the OS reason when there is one; never the URL (it may hold credentials)."""
    reason = ""
    if isinstance(error, aiohttp.ClientConnectorError):
        reason = f" ({error.os_error.strerror or type(error.os_error).__name__})"
    return f"{type(error).__name__}{reason}"


__all__ = ["WebhookSink", "build_headers", "parse_retry_after", "redact_url"]
