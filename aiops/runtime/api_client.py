"""A small blocking client of the operator API, for `aiops incidents` (the standard library's urllib only).

`ApiClient(url, token)` sends JSON with ``Authorization: Bearer`` when a token is given and returns the
decoded JSON answer. A problem answer (4xx) becomes a `UsageError` carrying the API's ``detail``; a 5xx, a
refused connection or a timeout an `ApiUnavailableError` naming the URL; the token is never part of a
message. `api_url` finds the API: ``--url``, else the http listener of ``--config``, else a local
``aiops run``'s run-file (`aiops.runtime.runfile`), else the configured default listener. `read_token`:
``--token-file``, else the environment variable `TOKEN_VARIABLE` (not an ``AIOPS_*`` name: those override
config keys).
"""

from __future__ import annotations

import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from aiops.config import AiopsConfig
from aiops.errors import ApiUnavailableError, UsageError
from aiops.runtime.runfile import read_run_file

TOKEN_VARIABLE = "OPS_API_TOKEN"  # noqa: S105 - a variable name, not a secret
WILDCARD_HOSTS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # noqa: S104 - mapping, not binding


def api_url(explicit: str | None, config: AiopsConfig, config_given: bool) -> str:
    """The API's base URL (see the module docstring)."""
    if explicit:
        return explicit.rstrip("/")
    if not config_given:
        found = read_run_file()
        if found is not None and found.http_url:
            return found.http_url.rstrip("/")
    host = WILDCARD_HOSTS.get(config.http.host, config.http.host)
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{config.http.port}"


def read_token(token_file: str | None, environ: Mapping[str, str] | None = None) -> str | None:
    """The bearer token: the first line of `token_file`, else `TOKEN_VARIABLE`; None when neither is set."""
    if token_file:
        try:
            return Path(token_file).read_text(encoding="utf-8").strip().splitlines()[0].strip()
        except (OSError, IndexError) as error:
            reason = error.strerror if isinstance(error, OSError) else "empty file"
            raise UsageError(f"cannot read the token file {token_file}: {reason}") from None
    token = (environ if environ is not None else os.environ).get(TOKEN_VARIABLE, "").strip()
    return token or None


def _problem_detail(body: bytes, status: int) -> str:
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body.decode(errors="replace").strip()[:300] or f"HTTP {status}"
    if isinstance(decoded, dict):
        return str(decoded.get("detail") or decoded.get("title") or f"HTTP {status}")
    return str(decoded)


class ApiClient:
    """Blocking JSON requests to one operator API (see the module docstring)."""

    def __init__(self, url: str, token: str | None, timeout_seconds: float = 15.0) -> None:
        self.url = url.rstrip("/")
        self._token = token
        self.timeout_seconds = timeout_seconds

    def get(self, path: str, params: Sequence[tuple[str, str]] = ()) -> Any:
        query = f"?{urllib.parse.urlencode(list(params))}" if params else ""
        return self._send("GET", path + query, None)

    def post(self, path: str, body: Mapping[str, Any]) -> Any:
        return self._send("POST", path, orjson.dumps(body))

    def _send(self, method: str, path: str, data: bytes | None) -> Any:
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:  # noqa: S310
                content = response.read()
        except urllib.error.HTTPError as error:
            detail = _problem_detail(error.read(), error.code)
            if error.code >= 500:
                raise ApiUnavailableError(f"the aiops API at {self.url} answered {error.code}: {detail}") from None
            raise UsageError(f"{error.code}: {detail}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            reason = getattr(error, "reason", None) or error
            raise ApiUnavailableError(f"cannot reach the aiops API at {self.url}: {reason} (is `aiops run` "
                                      "running? pass --url)") from None
        return orjson.loads(content) if content else None
