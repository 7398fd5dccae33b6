"""The pure parts of the HTTP ingest front: the per-integration rate limit (`TokenBucket`), each protocol's
replies (`reply_for`) and request body decoding (`decode_body`: encodings, size, depth, text)."""

from __future__ import annotations

import gzip
import json
import math
import zlib
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiops.errors import PayloadRejectedError
from aiops.ingest.payload import decode_body, inflate, nesting_within
from aiops.ingest.ratelimit import TokenBucket, retry_after_header
from aiops.ingest.replies import reply_for

T0 = 1_717_243_500.25  # an epoch-sized clock: its float spacing is what makes a wait dishonest when rounded

# --- TokenBucket -------------------------------------------------------------------------------------------------


def test_admits_within_the_burst_then_refuses() -> None:
    bucket = TokenBucket(rate_per_second=2.0, burst=5)
    assert [bucket.take(1, T0) for _ in range(5)] == [0.0] * 5
    assert bucket.take(1, T0) == pytest.approx(0.5)
    assert bucket.take(1, T0 + 0.5) == 0.0


def test_a_refusal_takes_nothing() -> None:
    bucket = TokenBucket(rate_per_second=1.0, burst=3)
    assert bucket.take(3, T0) == 0.0
    for _ in range(10):
        assert bucket.take(2, T0 + 1.0) == pytest.approx(1.0)
    assert bucket.take(2, T0 + 2.0) == 0.0


def test_a_batch_above_the_burst_is_admitted_when_full_and_paid_for_later() -> None:
    bucket = TokenBucket(rate_per_second=10.0, burst=5)
    assert bucket.take(50, T0) == 0.0
    wait = bucket.take(1, T0)
    assert wait == pytest.approx((50 - 5 + 1) / 10.0)  # the debt of 45 tokens, then one
    assert bucket.take(1, T0 + wait) == 0.0
    assert bucket.take(50, T0 + wait) > 0.0  # not full any more: the next large batch waits for a full bucket


def test_time_going_backwards_mints_no_tokens() -> None:
    bucket = TokenBucket(rate_per_second=1.0, burst=2)
    assert bucket.take(2, T0) == 0.0
    wait = bucket.take(1, T0 - 100.0)
    assert wait == pytest.approx(101.0)  # the clock must first come back, then refill one token
    for now in (T0 - 100.0, T0 - 50.0, T0, T0 + 0.5):
        assert bucket.take(1, now) > 0.0, now
    assert bucket.take(1, T0 + 1.0) == 0.0


def test_refilling_stops_at_the_burst() -> None:
    bucket = TokenBucket(rate_per_second=100.0, burst=3)
    assert bucket.take(3, T0) == 0.0
    assert bucket.take(3, T0 + 3600.0) == 0.0
    assert bucket.take(1, T0 + 3600.0) > 0.0


steps = st.lists(st.tuples(st.integers(1, 200), st.floats(-5.0, 30.0)), min_size=1, max_size=30)


@settings(max_examples=300, deadline=None)
@given(rate=st.floats(0.01, 5000.0), burst=st.integers(1, 100), start=st.sampled_from([0.0, 12.5, T0]),
       requests=steps)
def test_retry_after_is_honest(rate: float, burst: int, start: float, requests: list[tuple[int, float]]) -> None:
    """After any history, a refused request is admitted once its wait has passed, and the Retry-After header
    (whole seconds) is never shorter than the wait."""
    bucket, now = TokenBucket(rate, burst), start
    for count, advance in requests:
        wait = bucket.take(count, now)
        if wait > 0.0:
            assert int(retry_after_header(wait)) >= wait
            assert bucket.take(count, now + wait) == 0.0, (count, now, wait)
            now += wait
        now += advance


@pytest.mark.parametrize(("seconds", "header"), [(0.001, "1"), (0.5, "1"), (1.0, "1"), (1.0001, "2"), (59.2, "60")])
def test_retry_after_header_is_whole_seconds_rounded_up(seconds: float, header: str) -> None:
    assert retry_after_header(seconds) == header


# --- replies -----------------------------------------------------------------------------------------------------

ERRORS = {"invalid": 400, "unauthorized": 401, "unknown": 404, "oversized": 413, "unsupported": 415,
          "rate_limited": 429, "unavailable": 503}


def test_alertmanager_replies() -> None:
    """Alertmanager API v2: 200 with an empty body; errors are a JSON string (its `PostAlertsBadRequest`)."""
    assert reply_for("alertmanager", "accepted", events=3) == (200, None)
    for outcome, status in ERRORS.items():
        assert reply_for("alertmanager", outcome, "[0].labels: at least one label pair required") == (
            status, "[0].labels: at least one label pair required")


def test_pagerduty_replies() -> None:
    """Events API v2: 202 {status: success, message: "Event processed", dedup_key}; 400 {status: "invalid event",
    message: "Event object is invalid", errors: [...]}."""
    assert reply_for("pagerduty", "accepted", extra={"dedup_key": "srv01/mysql"}, events=1) == (
        202, {"status": "success", "message": "Event processed", "dedup_key": "srv01/mysql"})
    for outcome in ("invalid", "oversized"):
        assert reply_for("pagerduty", outcome, "payload.severity: is missing") == (
            ERRORS[outcome], {"status": "invalid event", "message": "Event object is invalid",
                              "errors": ["payload.severity: is missing"]})
    for outcome in ("unauthorized", "unknown", "unsupported", "rate_limited", "unavailable"):
        status, body = reply_for("pagerduty", outcome, "why")
        assert status == ERRORS[outcome]
        assert body["message"] == "why" or body["errors"] == ["why"]
        assert isinstance(body["status"], str)
    assert reply_for("pagerduty", "rate_limited", "slow down")[1]["status"] == "throttle event"


def test_otlp_replies() -> None:
    """OTLP/HTTP: 200 with the (partial-success) export response; errors are a google.rpc.Status."""
    assert reply_for("otlp", "accepted", events=2) == (200, {})
    partial = {"partialSuccess": {"rejectedLogRecords": 1, "errorMessage": "1 log records rejected: ..."}}
    assert reply_for("otlp", "accepted", extra=partial, events=2) == (200, partial)
    codes = {"invalid": 3, "oversized": 3, "unsupported": 3, "unauthorized": 16, "unknown": 5, "rate_limited": 8,
             "unavailable": 14}  # INVALID_ARGUMENT, UNAUTHENTICATED, NOT_FOUND, RESOURCE_EXHAUSTED, UNAVAILABLE
    for outcome, code in codes.items():
        assert reply_for("otlp", outcome, "resourceLogs: must be an array") == (
            ERRORS[outcome], {"code": code, "message": "resourceLogs: must be an array"})


@pytest.mark.parametrize("kind", ["alertmanager_webhook", "webhook"])
def test_webhook_replies(kind: str) -> None:
    assert reply_for(kind, "accepted", events=2) == (200, {"status": "success", "events": 2})
    for outcome, status in ERRORS.items():
        assert reply_for(kind, outcome, "items: selects nothing") == (
            status, {"status": outcome, "message": "items: selects nothing"})


@pytest.mark.parametrize("kind", ["alertmanager", "alertmanager_webhook", "pagerduty", "otlp", "webhook"])
def test_every_reply_is_json(kind: str) -> None:
    for outcome in ["accepted", *ERRORS]:
        status, body = reply_for(kind, outcome, "message", extra={"dedup_key": "k"} if kind == "pagerduty" else {})
        assert 200 <= status < 600
        if body is not None:
            orjson.dumps(body)


# --- decode_body ---------------------------------------------------------------------------------------------------

LIMIT = 1024
DEPTH = 4
BODY = b'{"alerts": [{"labels": {"alertname": "x"}}]}'
VALUE = orjson.loads(BODY)


def decode(raw: bytes, encoding: str = "", max_bytes: int = LIMIT, max_depth: int = DEPTH) -> Any:
    return decode_body(raw, encoding, max_bytes, max_depth)


def rejection(raw: bytes, encoding: str = "", max_bytes: int = LIMIT, max_depth: int = DEPTH) -> str:
    with pytest.raises(PayloadRejectedError) as caught:
        decode(raw, encoding, max_bytes, max_depth)
    assert caught.value.detail
    return caught.value.reason


@pytest.mark.parametrize(("encoding", "raw"), [
    ("", BODY), ("identity", BODY), ("gzip", gzip.compress(BODY)), ("x-gzip", gzip.compress(BODY)),
    (" GZip ", gzip.compress(BODY)), ("deflate", zlib.compress(BODY)),
])
def test_encodings(encoding: str, raw: bytes) -> None:
    assert decode(raw, encoding) == VALUE


@pytest.mark.parametrize("encoding", ["br", "zstd", "compress", "gzip, deflate"])
def test_unsupported_encoding(encoding: str) -> None:
    assert rejection(gzip.compress(BODY), encoding) == "bad_encoding"


@pytest.mark.parametrize("cut", [1, 10, 20, -9, -4, -1])
def test_truncated_gzip(cut: int) -> None:
    assert rejection(gzip.compress(BODY)[:cut], "gzip") == "bad_encoding"


def test_gzip_that_is_not_gzip_and_raw_deflate() -> None:
    assert rejection(BODY, "gzip") == "bad_encoding"
    raw_deflate = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    assert rejection(raw_deflate.compress(BODY) + raw_deflate.flush(), "deflate") == "bad_encoding"


def test_size_bound_exactly_and_one_over() -> None:
    at_limit = b'"' + b"x" * (LIMIT - 2) + b'"'
    assert decode(at_limit) == "x" * (LIMIT - 2)
    assert rejection(at_limit + b" ") == "oversized"


def test_gzip_bomb_stops_at_the_bound() -> None:
    bomb = gzip.compress(b"[" + b" " * (100 * LIMIT) + b"]")
    assert len(bomb) < LIMIT
    assert rejection(bomb, "gzip") == "oversized"
    assert inflate(gzip.compress(b"x" * LIMIT), "gzip", LIMIT) == b"x" * LIMIT


def nested(depth: int, leaf: bytes = b"1") -> bytes:
    """`depth` levels of arrays and objects in turn around `leaf`."""
    raw = leaf
    for level in range(depth):
        raw = b"[" + raw + b"]" if level % 2 else b'{"k":' + raw + b"}"
    return raw


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_depth_bound_exactly_at_the_limit_and_one_over(depth: int) -> None:
    assert decode(nested(depth), max_depth=depth) is not None
    assert rejection(nested(depth + 1), max_depth=depth) == "too_deep"
    assert decode(b"[" + nested(depth - 1) + b", 2]", max_depth=depth) is not None
    assert rejection(b"[1, " + nested(depth) + b"]", max_depth=depth) == "too_deep"


def test_scalars_have_no_depth_and_empty_containers_count() -> None:
    assert decode(b"7", max_depth=1) == 7
    assert decode(b"[]", max_depth=1) == []
    assert rejection(b"[[]]", max_depth=1) == "too_deep"


def test_nesting_beyond_the_parser_is_rejected_not_a_crash() -> None:
    assert rejection(b"[" * 5000 + b"]" * 5000, max_bytes=20_000, max_depth=64) in ("invalid_json", "too_deep")


def walked_depth(value: Any) -> int:
    """How deep `value` nests arrays and objects, by walking it (the oracle `nesting_within` must agree with)."""
    if isinstance(value, dict):
        return 1 + max((walked_depth(item) for item in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((walked_depth(item) for item in value), default=0)
    return 0


TRICKY_TEXT = st.lists(st.sampled_from(['"', "\\", "[", "]", "{", "}", "\\\\", '\\"', "a", "\u00e9", "\n"]),
                      max_size=12).map("".join)
JSON_SCALARS = (st.none() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False)
                | TRICKY_TEXT)
JSON_TREES = st.recursive(JSON_SCALARS,
                          lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TRICKY_TEXT, inner, max_size=4),
                          max_leaves=40)


@settings(max_examples=300, deadline=None)
@given(value=JSON_TREES, limit=st.integers(0, 12), indent=st.booleans())
def test_nesting_read_from_bytes_agrees_with_walking_the_value(value: Any, limit: int, indent: bool) -> None:
    """Quotes, backslashes and brackets inside strings and keys, escaped or not, compact or indented text."""
    raw = json.dumps(value, indent=2).encode() if indent else orjson.dumps(value)
    assert nesting_within(raw, limit) == (walked_depth(value) <= limit)
    assert nesting_within(json.dumps(value, ensure_ascii=True).encode(), limit) == (walked_depth(value) <= limit)


@pytest.mark.parametrize("raw", [b"", b"   ", b"\n\t ", gzip.compress(b"")])
def test_empty_body(raw: bytes) -> None:
    assert rejection(raw, "gzip" if raw.startswith(b"\x1f\x8b") else "") == "empty"


@pytest.mark.parametrize("raw", [b'"\xff"', b'{"a": "\xc3"}', b"\xfe\xff\x00[", '"é"'.encode("latin-1")])
def test_not_utf8(raw: bytes) -> None:
    assert rejection(raw) == "not_utf8"


@pytest.mark.parametrize("raw", [b"{", b"[1,]", b"NaN", b"Infinity", b"1e400", b'{"a" 1}', b'"\\ud800"'])
def test_invalid_json(raw: bytes) -> None:
    assert rejection(raw) == "invalid_json"


def test_utf8_with_bom_and_non_ascii() -> None:
    assert decode('{"name": "Störung 🙂"}'.encode()) == {"name": "Störung 🙂"}
    assert not math.isnan(decode(b"1.5"))
