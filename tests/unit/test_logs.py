"""Log format: `logging.json` auto = readable lines on a terminal, JSON otherwise; true/false force one."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest

from aiops.config import load_config
from aiops.errors import ConfigError
from aiops.runtime.logs import HumanFormatter, JsonFormatter, configure_logging, wants_json


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _record(**context: object) -> logging.LogRecord:
    record = logging.LogRecord("aiops.detect", logging.WARNING, __file__, 1, "batch of %d failed", (3,), None)
    for name, value in context.items():
        setattr(record, name, value)
    return record


@pytest.mark.parametrize(("setting", "terminal", "expected"), [
    ("auto", True, False), ("auto", False, True), (True, True, True), (False, False, False),
])
def test_auto_is_json_unless_the_stream_is_a_terminal(setting: bool | str, terminal: bool, expected: bool) -> None:
    stream = _Terminal() if terminal else io.StringIO()
    assert wants_json(setting, stream) is expected  # type: ignore[arg-type]


def test_configure_logging_writes_plain_lines_to_a_terminal_and_json_to_a_pipe(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    configure_logging("INFO")
    logging.getLogger("aiops.test").info("hello %s", "console")
    assert terminal.getvalue().rstrip().endswith("INFO    aiops.test: hello console")

    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    configure_logging("INFO")
    logging.getLogger("aiops.test").info("hello %s", "shipper")
    assert json.loads(pipe.getvalue()) | {"ts": "-"} == {
        "ts": "-", "level": "info", "logger": "aiops.test", "msg": "hello shipper"}


def test_both_formats_carry_the_record_context() -> None:
    record = _record(topic="aiops.events", partition=2, offset=17)
    assert HumanFormatter().format(record).endswith(
        "WARNING aiops.detect: batch of 3 failed [topic=aiops.events partition=2 offset=17]")
    payload = json.loads(JsonFormatter().format(record))
    assert (payload["topic"], payload["partition"], payload["offset"]) == ("aiops.events", 2, 17)


def test_human_format_appends_the_traceback() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.LogRecord("aiops.x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    lines = HumanFormatter().format(record).splitlines()
    assert lines[0].endswith("ERROR   aiops.x: failed")
    assert lines[-1] == "RuntimeError: boom"


@pytest.mark.parametrize(("raw", "expected"), [("auto", "auto"), ("true", True), ("false", False)])
def test_config_accepts_auto_true_and_false(raw: str, expected: bool | str) -> None:
    assert load_config(None, {"AIOPS_LOGGING__JSON": raw}).logging.json_format == expected


def test_config_rejects_other_values() -> None:
    with pytest.raises(ConfigError, match=r"logging\.json"):
        load_config(None, {"AIOPS_LOGGING__JSON": "sometimes"})
