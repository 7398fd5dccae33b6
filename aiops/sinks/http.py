"""`HttpClient`: one HTTP request per call for receivers, with aiops' failure classification.

2xx returns the decoded body; 408, 429, 5xx, connection errors and timeouts raise `HttpRetryableError`
(a `DeliveryError`, with ``Retry-After`` parsed and the status kept); redirects and other statuses raise
`HttpRejectedError` (a `DeliveryRejectedError`). TLS certificates are verified unless `verify_tls` is
off. Every message names the receiver and the *redacted* URL, never credentials, query or path secrets.
`last_status` holds the status of the latest response (None after a connection error). No retrying.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import aiohttp

from aiops.errors import DeliveryError, DeliveryRejectedError
from aiops.sinks.webhook import RETRYABLE_STATUSES, parse_retry_after, redact_url

_EXCERPT = 200


class HttpRetryableError(DeliveryError):
    def __init__(self, detail: str, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.status = status


class HttpRejectedError(DeliveryRejectedError):
    def __init__(self, detail: str, status: int | None = None) -> None:
        super().__init__(detail)
        self.status = status


class HttpClient:
    """Owns a lazily created aiohttp session; `close` is idempotent."""

    def __init__(self, name: str, timeout_seconds: float, verify_tls: bool = True) -> None:
        self.name = name
        self.last_status: int | None = None
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._verify_tls = verify_tls
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(ssl=self._verify_tls)
            self._session = aiohttp.ClientSession(timeout=self._timeout, connector=connector)
        return self._session

    async def request(
        self, method: str, url: str, *, body: bytes | None = None, json_body: Any = None,
        headers: dict[str, str] | None = None, auth: tuple[str, str] | None = None,
    ) -> Any:
        """Send one request; the decoded JSON body (or text, or None when empty) on 2xx."""
        target = redact_url(url)
        self.last_status = None
        data = body if body is not None else (json.dumps(json_body).encode() if json_body is not None else None)
        send_headers = {"Content-Type": "application/json", "Accept": "application/json", **(headers or {})}
        basic = aiohttp.BasicAuth(*auth) if auth else None
        try:
            async with self._get_session().request(
                method, url, data=data, headers=send_headers, auth=basic, allow_redirects=False
            ) as response:
                self.last_status = response.status
                text = await response.text(errors="replace")
                return self._classify(response, text, method, target)
        except aiohttp.InvalidURL:
            raise HttpRejectedError(f"{self.name}: invalid URL {target}") from None
        except TimeoutError:
            raise HttpRetryableError(f"{self.name}: timed out after {self._timeout.total:g}s: {method} {target}",
                                     status=None) from None
        except aiohttp.ClientError as error:
            raise HttpRetryableError(f"{self.name}: {type(error).__name__}: {method} {target}") from None

    def _classify(self, response: aiohttp.ClientResponse, text: str, method: str, target: str) -> Any:
        status = response.status
        if 200 <= status < 300:
            if not text.strip():
                return None
            try:
                return json.loads(text)
            except ValueError:
                return text
        detail = f"{self.name}: HTTP {status} from {method} {target}" + (f": {text[:_EXCERPT]}" if text else "")
        if status in RETRYABLE_STATUSES or status >= 500:
            retry_after = parse_retry_after(response.headers.get("Retry-After"), datetime.now(tz=UTC))
            raise HttpRetryableError(detail, status=status, retry_after=retry_after)
        raise HttpRejectedError(detail, status=status)

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None
