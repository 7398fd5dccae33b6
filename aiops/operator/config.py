"""Configuration of the operator API (``api:`` in the config file): on or off, and its named bearer tokens.

Each token has a name (the actor recorded on actions and in the audit), a secret (literal, ``${ENV:NAME}``
or ``file:/path``, resolved at start-up by `aiops.sinks.security.resolve_secret`) and a role. With no token
configured the API is open to the local machine only: see `aiops.operator.auth.anonymous_role`. Also the
live stream's heartbeat, per-client queue and client limit. Models only.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from aiops.config_base import StrictModel

Role = Literal["viewer", "responder", "admin"]
SECRET_HELP = "Secret: literal, ${ENV:NAME} or file:/path."  # noqa: S105 (help text)


class ApiToken(StrictModel):
    token: str = Field(min_length=1, description=f"The bearer token. {SECRET_HELP}")
    role: Role = Field(description="viewer: read; responder: also act on incidents and silences; admin: all.")


class ApiConfig(StrictModel):
    enabled: bool = Field(True, description="Serve the operator API (/api/v1, Alertmanager's silences and "
                          "receivers under /api/v2) on the `http` listener; see docs/api.md.")
    tokens: dict[str, ApiToken] = Field(
        default_factory=dict, description="Token name (the actor audited) -> token and role. None configured: "
        "every request is allowed (as admin) when http.host is loopback, reads only otherwise.")
    publish_timeout_seconds: float = Field(
        10.0, gt=0, description="How long an action or silence waits for the broker's acknowledgement before "
        "the request is answered 503.")
    retry_after_seconds: float = Field(5.0, gt=0, description="Retry-After of a 503 answer.")
    stream_heartbeat_seconds: float = Field(
        15.0, gt=0, description="GET /api/v1/stream: a comment line this often when no incident changed (keeps "
        "proxies from closing an idle stream).")
    stream_queue_events: int = Field(
        1000, ge=1, description="GET /api/v1/stream: events queued for one client; a client that falls this far "
        "behind gets a final `dropped` event and is disconnected.")
    console: bool = Field(True, description="Serve the on-call console (web pages) at / on the same listener; "
                          "see docs/console.md.")
    stream_max_clients: int = Field(
        100, ge=1, description="GET /api/v1/stream: clients connected at once; one more is answered 503 with "
        "Retry-After.")
