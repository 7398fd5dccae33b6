"""Secrets, destination allowlist and HMAC signing for receivers.

- `resolve_secret`: a config value that is ``${ENV:NAME}`` (environment), ``file:/path`` (file content,
  trailing newline stripped) or a literal. Errors name the config field, never the value. NAME may not
  start with ``AIOPS_``: every such variable is a config override (`aiops.config`), never a secret.
- `check_destination` (start-up, `check-config`): a receiver URL must be http(s) and its host, read as aiohttp
  and the C resolver read it (`aiops.sinks.destinations`: every numeric and IPv4-in-IPv6 form), must pass
  `delivery.security`. DNS names are resolved and checked again at send time, per answer
  (`aiops.sinks.resolver`), since the answer can change after start-up.
- `sign` / `verify`: ``v1=<hex HMAC-SHA256(secret, "<timestamp>." + body)>``.
It does not log anything.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from pathlib import Path

from yarl import URL

from aiops.errors import ConfigError
from aiops.sinks.config import SecurityConfig
from aiops.sinks.destinations import DestinationPolicy
from aiops.sinks.http import redact_url

_ENV_REF = re.compile(r"^\$\{ENV:([A-Za-z_][A-Za-z0-9_]*)\}$")
_SHELL_REF = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$")  # ${NAME}: a reference in shell syntax, not a secret
RESERVED_ENV_PREFIX = "AIOPS_"  # aiops.config.ENV_PREFIX: these variables are config overrides
SIGNATURE_HEADER = "X-Aiops-Signature"
TIMESTAMP_HEADER = "X-Aiops-Timestamp"


def resolve_secret(value: str, where: str, environ: Mapping[str, str] | None = None) -> str:
    """The secret a config value refers to; `ConfigError` naming `where` when it cannot be read."""
    environ = os.environ if environ is None else environ
    env = _ENV_REF.match(value)
    if env is not None:
        name = env.group(1)
        if name.startswith(RESERVED_ENV_PREFIX):
            raise ConfigError(f"{where}: ${{ENV:{name}}} uses the reserved {RESERVED_ENV_PREFIX} prefix (those "
                              f"variables override config keys); rename the variable, e.g. "
                              f"{name[len(RESERVED_ENV_PREFIX):]}")
        if name not in environ or not environ[name]:
            raise ConfigError(f"{where}: environment variable {name} is not set")
        return environ[name]
    if value.startswith("${") and value.endswith("}"):
        shown = value if _SHELL_REF.match(value) else "a ${...} value"  # anything else might be the secret itself
        raise ConfigError(f"{where}: {shown} is not a secret reference: write ${{ENV:NAME}} (NAME: letters, "
                          "digits, _) or file:/path")
    if value.startswith("file:"):
        path = Path(value[len("file:"):])
        try:
            return path.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as error:
            raise ConfigError(f"{where}: cannot read secret file {path}: {error.strerror}") from None
    return value


def check_destination(url: str, security: SecurityConfig, where: str) -> None:
    """Raise `ConfigError` unless `url` may be called under `security` (message shows the redacted URL)."""
    shown = redact_url(url)
    try:
        parsed = URL(url)
        host = parsed.raw_host or ""
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: unparseable URL {shown}") from None
    if parsed.scheme not in {"http", "https"} or not host:
        raise ConfigError(f"{where}: {shown} is not an http(s) URL with a host")
    refusal = DestinationPolicy.of(security).host_refusal(host)
    if refusal is not None:
        raise ConfigError(f"{where}: {shown} refused: {refusal}")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Value of the signature header for `body` sent at `timestamp` (unix seconds, as sent)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """Constant-time check of a received signature (receivers should also bound the timestamp's age)."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)
