"""Plain-text log lines become contract `LogEvent`s: level inference, bad bytes, empty and oversized lines."""

from __future__ import annotations

import pytest

from aiops.errors import InvalidEventError
from aiops.rawlogs import infer_level, log_event_from_line


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ("2024-01-01 10:00:00 ERROR payment failed", "error"),
        ("[warn] disk 91% full", "warning"),
        ("WARNING: slow query", "warning"),
        ("FATAL: cannot allocate memory", "fatal"),
        ("SEVERE something broke", "error"),
        ("GET /health 200", "info"),
        ("user=error_handler logged in", "info"),  # a word boundary is required
    ],
)
def test_infer_level_reads_the_first_level_word(line: str, level: str) -> None:
    assert infer_level(line) == level


def test_level_words_far_into_the_line_are_ignored() -> None:
    assert infer_level("x" * 200 + " ERROR") == "info"


def test_line_becomes_a_log_event_with_configured_service_and_record_time() -> None:
    event = log_event_from_line(b"ERROR db timeout\n", 1_700_000_000.5, "billing", "b1", "raw", 1000)
    assert (event.service, event.host, event.source, event.level) == ("billing", "b1", "raw", "error")
    assert event.message == "ERROR db timeout"
    assert event.epoch == 1_700_000_000.5


def test_invalid_utf8_is_decoded_with_replacement_not_rejected() -> None:
    event = log_event_from_line(b"ERROR bad \xff\xfe bytes", 1.0, "s", "", "raw", 1000)
    assert "\ufffd" in event.message


@pytest.mark.parametrize("raw", [b"", b"   \n", None])
def test_empty_lines_are_invalid(raw: bytes | None) -> None:
    with pytest.raises(InvalidEventError) as caught:
        log_event_from_line(raw, 1.0, "s", "", "raw", 1000)
    assert caught.value.reason == "empty"


def test_oversized_lines_are_invalid() -> None:
    with pytest.raises(InvalidEventError) as caught:
        log_event_from_line(b"x" * 2000, 1.0, "s", "", "raw", 1000)
    assert caught.value.reason == "oversized"
