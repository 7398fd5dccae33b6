"""The event contract is strict and bounded: no coercion between types, event time within a plausible range
and window, times at the calendar edge are dead letters (never internal errors), `dt_from_epoch` never raises,
and a dead letter always fits in one Kafka request."""

from __future__ import annotations

import base64
import hashlib
import json
import math
from datetime import UTC, datetime
from typing import Any

import pytest

from aiops.deadletter import MAX_KEY_BYTES, MAX_ORIGINAL_BYTES, dead_letter, letter_key
from aiops.errors import InvalidEventError
from aiops.events import LATEST_EVENT_TIME, MetricEvent, check_event_time, decode_event
from aiops.rawlogs import log_event_from_line
from aiops.signals import Watermark, dt_from_epoch

LIMIT = 65536
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def metric(**fields: Any) -> bytes:
    base: dict[str, Any] = {"kind": "metric", "ts": 1_763_000_000, "service": "api", "name": "rps", "value": 1.5}
    base.update(fields)
    return json.dumps(base).encode()


def reason(raw: bytes) -> str:
    with pytest.raises(InvalidEventError) as caught:
        decode_event(raw, LIMIT)
    return caught.value.reason


@pytest.mark.parametrize("value", ["12.5", " 7 ", "7", "nan", True, False, None, [1.0], {"v": 1}])
def test_a_metric_value_that_is_not_a_json_number_is_a_schema_error(value: Any) -> None:
    assert reason(metric(value=value)) == "schema"


@pytest.mark.parametrize("fields", [{"service": 5}, {"name": 1.5}, {"labels": {"zone": 1}}, {"host": True},
                                    {"labels": {"zone": None}}])
def test_a_number_or_boolean_where_a_string_is_expected_is_a_schema_error(fields: dict[str, Any]) -> None:
    assert reason(metric(**fields)) == "schema"


@pytest.mark.parametrize("ts", ["1763000000", " 1763000000 ", "1763000000000", "1.7e9", True, False, None, [1], {}])
def test_a_timestamp_that_is_a_numeric_string_a_boolean_or_a_structure_is_a_schema_error(ts: Any) -> None:
    assert reason(metric(ts=ts)) == "schema"


def test_integers_are_accepted_for_numbers_and_both_timestamp_forms_still_work() -> None:
    event = decode_event(metric(value=7, ts="2025-11-13T02:13:20+00:00"), LIMIT)
    assert isinstance(event, MetricEvent)
    assert event.value == 7.0
    assert decode_event(metric(ts=1_763_000_000_000), LIMIT).ts == event.ts


@pytest.mark.parametrize("ts", [
    "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
    "1969-12-31T23:59:59Z", "2200-01-01T00:00:00Z", -1, -62135596800, 20_000_000_000, 1e300, -1e300, 10**400,
    LATEST_EVENT_TIME,
])
def test_times_outside_1970_to_2200_are_implausible_never_internal_errors(ts: Any) -> None:
    assert reason(metric(ts=ts)) == "implausible_time"


def test_the_edges_of_the_plausible_range() -> None:
    assert decode_event(metric(ts=0), LIMIT).epoch == 0.0
    assert decode_event(metric(ts="2199-12-31T23:59:59.999999Z"), LIMIT).ts.year == 2199


def test_an_implausible_time_with_another_error_is_schema() -> None:
    assert reason(metric(ts=-1, value="x")) == "schema"


def test_the_window_around_the_broker_timestamp() -> None:
    check_event_time(1000.0, 1000.0 - 300, None, 300)  # exactly at the bound: accepted
    check_event_time(1.0, 1e9, None, 300)  # no past bound
    check_event_time(1e12, None, 1, 1)  # no broker timestamp: no window
    for epoch, past, future in ((1301.0, None, 300.0), (0.0, 999.0, None)):
        with pytest.raises(InvalidEventError) as caught:
            check_event_time(epoch, 1000.0, past, future)
        assert caught.value.reason == "implausible_time"
        assert "broker timestamp" in caught.value.detail


@pytest.mark.parametrize("ts", [-0.001, 1.7e12, math.nan, math.inf, 7_258_118_400.0])
def test_a_raw_line_whose_record_time_is_implausible_is_dead_lettered(ts: float) -> None:
    with pytest.raises(InvalidEventError) as caught:
        log_event_from_line(b"ERROR boom", ts, "svc", "", "raw", LIMIT)
    assert caught.value.reason == "implausible_time"


@pytest.mark.parametrize("epoch", [-math.inf, -1e300, -62135596801.0, -1.0, 0.0, 1.7e9, 253402300800.0, 1e300,
                                   math.inf, math.nan])
def test_dt_from_epoch_never_raises_and_its_result_makes_a_watermark(epoch: float) -> None:
    at = dt_from_epoch(epoch)
    assert at.tzinfo is not None
    assert Watermark.model_validate_json(Watermark(ts=at, producer="p").model_dump_json()).ts == at
    if math.isfinite(epoch) and -62135596800 <= epoch < 253402300800:
        assert at.timestamp() == pytest.approx(epoch)


def test_a_large_original_is_cut_with_its_size_and_digest_kept() -> None:
    original = bytes(range(256)) * 4096  # 1 MiB
    key = b"k" * (MAX_KEY_BYTES * 3)
    letter = dead_letter("ingest", "oversized", "too big", original, NOW, topic="t", partition=0, offset=9, key=key)
    assert letter.original_truncated
    assert letter.original == original[:MAX_ORIGINAL_BYTES]
    assert (letter.original_size, letter.original_sha256) == (len(original), hashlib.sha256(original).hexdigest())
    assert base64.b64decode(letter.source_key_b64 or "") == key[:MAX_KEY_BYTES] == letter_key(key)
    assert len(letter.model_dump_json()) < 400 * 1024  # well within a 1 MiB producer request


def test_a_small_original_is_kept_whole() -> None:
    letter = dead_letter("ingest", "schema", "x", b"{}", NOW)
    assert (letter.original, letter.original_truncated, letter.original_size) == (b"{}", False, 2)
    assert letter_key(None) is None
