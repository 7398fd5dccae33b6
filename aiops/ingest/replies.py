"""What each protocol answers: status codes and bodies the senders' own clients expect.

`reply_for(kind, outcome, ...)` returns (HTTP status, JSON body or None) for an integration kind and an
outcome (``accepted``, ``invalid``, ``oversized``, ``unauthorized``, ``forbidden``, ``rate_limited``,
``unavailable``, ``unsupported``). Alertmanager API v2 answers 200 with an empty body and errors as a JSON string;
PagerDuty answers 202 ``{status, message, dedup_key}`` and ``{status: "invalid event", message, errors}``;
OTLP/HTTP answers 200 with its (partial-success) response and errors as a ``google.rpc.Status`` object;
the Alertmanager webhook and generic webhooks answer ``{status, events}``. Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

STATUS = {"accepted": 200, "invalid": 400, "unauthorized": 401, "forbidden": 403, "oversized": 413, "unsupported": 415,
          "rate_limited": 429, "unavailable": 503, "unknown": 404}
GRPC_CODES = {"invalid": 3, "oversized": 3, "unauthorized": 16, "forbidden": 7, "unsupported": 3, "rate_limited": 8,
              "unavailable": 14, "unknown": 5}
PAGERDUTY_STATUS = {"invalid": "invalid event", "oversized": "invalid event", "unauthorized": "unauthorized",
                    "forbidden": "forbidden",
                    "unsupported": "invalid event", "rate_limited": "throttle event",
                    "unavailable": "unavailable", "unknown": "not found"}


def reply_for(kind: str, outcome: str, message: str = "", extra: dict[str, Any] | None = None,
              events: int = 0) -> tuple[int, Any]:
    """(status, JSON body; None: empty body) of one request's answer in `kind`'s dialect."""
    extra = extra or {}
    if outcome == "accepted":
        return _accepted(kind, extra, events)
    status = STATUS[outcome]
    if kind == "alertmanager":
        return status, message
    if kind == "pagerduty":
        body: dict[str, Any] = {"status": PAGERDUTY_STATUS[outcome], "message": message}
        if outcome in ("invalid", "oversized"):
            body = {"status": "invalid event", "message": "Event object is invalid", "errors": [message]}
        return status, body
    if kind == "otlp":
        return status, {"code": GRPC_CODES[outcome], "message": message}
    return status, {"status": outcome, "message": message}


def _accepted(kind: str, extra: dict[str, Any], events: int) -> tuple[int, Any]:
    if kind == "alertmanager":
        return 200, None
    if kind == "pagerduty":
        return 202, {"status": "success", "message": "Event processed", **extra}
    if kind == "otlp":
        return 200, dict(extra)
    return 200, {"status": "success", "events": events, **extra}
