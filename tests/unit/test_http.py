"""The one HTTP outcome classifier every receiver uses (`aiops.sinks.http`): redaction, ``Retry-After``,
retryable vs permanent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aiops.sinks.http import HttpRejectedError, HttpRetryableError, parse_retry_after, redact_url, status_error

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def test_redact_url() -> None:
    assert redact_url("https://u:p@hooks.example.com/services/T/B/X?a=1#f") == "https://hooks.example.com/services/…"
    assert redact_url("http://127.0.0.1:8080/hook") == "http://127.0.0.1:8080/hook"
    assert redact_url("http://[::1]:9/") == "http://[::1]:9"
    assert redact_url("http://host:notaport/") == "<unparseable url>"


def test_parse_retry_after() -> None:
    now = NOW
    assert parse_retry_after("5", now) == 5.0
    assert parse_retry_after(" 1.5 ", now) == 1.5
    assert parse_retry_after("-3", now) == 0.0
    assert parse_retry_after("Wed, 01 May 2024 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Wed, 01 May 2024 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after("nan", now) is None
    assert parse_retry_after(None, now) is None
    assert parse_retry_after("", now) is None


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504, 599])
def test_retryable_statuses_keep_status_and_wait_for_retry_after(status: int) -> None:
    error = status_error("r: HTTP", status, "Wed, 01 May 2024 12:00:30 GMT", NOW)
    assert isinstance(error, HttpRetryableError)
    assert (error.status, error.retry_after) == (status, 30.0)


@pytest.mark.parametrize("status", [301, 302, 304, 400, 401, 403, 404, 409, 413, 422])
def test_redirects_and_other_statuses_are_permanent(status: int) -> None:
    error = status_error("r: HTTP", status, "5", NOW)
    assert isinstance(error, HttpRejectedError)
    assert error.status == status
