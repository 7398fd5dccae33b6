"""`aiops ingest test`: one JSON line per event (and the reply), or one clear error line and exit status 2."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any

import pytest

from aiops.cli.app import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "ingest"
NOW = "2024-06-01T12:05:00Z"

Run = Any  # the fixture's invoke function


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """`aiops ARGV...` in-process without AIOPS_* overrides: (exit status, stdout lines, stderr)."""
    for name in [name for name in os.environ if name.startswith("AIOPS_")]:
        monkeypatch.delenv(name)

    def invoke(*argv: str) -> tuple[int, list[str], str]:
        status = main(list(argv))
        out, err = capsys.readouterr()
        return status, out.splitlines(), err
    return invoke


def write(path: Path, body: Any) -> str:
    path.write_text(json.dumps(body), encoding="utf-8")
    return str(path)


OTLP_METRICS = {"resourceMetrics": [{"resource": {"attributes": [
    {"key": "service.name", "value": {"stringValue": "checkout"}}]}, "scopeMetrics": [{"metrics": [
        {"name": "queue.depth", "gauge": {"dataPoints": [{"timeUnixNano": "1717243200000000000", "asInt": "12"}]}},
        {"name": "latency", "histogram": {"dataPoints": [{"count": "3"}]}}]}]}]}
OTLP_LOGS = {"resourceLogs": [{"scopeLogs": [{"logRecords": [{"body": {"stringValue": "boom"},
                                                              "severityText": "ERROR"}]}]}]}


def test_prints_one_contract_line_per_event(run: Run) -> None:
    status, lines, err = run("ingest", "test", "--config", str(EXAMPLES / "webhooks.yaml"), "--integration",
                             "grafana", str(EXAMPLES / "grafana.json"), "--now", NOW)
    assert (status, err) == (0, "")
    events = [json.loads(line) for line in lines]
    assert [(e["kind"], e["name"], e["status"]) for e in events] == [
        ("alert", "CheckoutLatencyHigh", "firing"), ("alert", "CheckoutErrorRate", "resolved")]
    assert events[0]["ts"] == "2024-06-01T12:05:00Z"  # --now is the receive time


def test_otlp_path_from_the_body_and_partial_success_reply(run: Run, tmp_path: Path) -> None:
    status, lines, _ = run("ingest", "test", "--integration", "otlp", write(tmp_path / "m.json", OTLP_METRICS))
    assert status == 0
    metric, reply = (json.loads(line) for line in lines)
    assert (metric["kind"], metric["name"], metric["value"], metric["service"]) == ("metric", "queue.depth", 12.0,
                                                                                     "checkout")
    assert reply["reply"]["partialSuccess"]["rejectedDataPoints"] == 1
    status, lines, _ = run("ingest", "test", "--integration", "otlp", write(tmp_path / "l.json", OTLP_LOGS),
                           "--now", NOW)
    assert status == 0
    [log] = (json.loads(line) for line in lines)
    assert (log["kind"], log["level"], log["message"], log["ts"]) == ("log", "error", "boom", "2024-06-01T12:05:00Z")


def test_explicit_path_is_used(run: Run, tmp_path: Path) -> None:
    status, lines, _ = run("ingest", "test", "--integration", "otlp", "--path", "/v1/logs",
                           write(tmp_path / "m.json", OTLP_METRICS))
    assert (status, lines) == (0, [])  # metrics posted to /v1/logs: nothing, as the spec says


def test_gzip_file_is_accepted(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "logs.json.gz"
    path.write_bytes(gzip.compress(json.dumps(OTLP_LOGS).encode()))
    status, lines, _ = run("ingest", "test", "--integration", "otlp", str(path))
    assert status == 0
    assert json.loads(lines[0])["message"] == "boom"


def error_line(result: tuple[int, list[str], str]) -> str:
    status, lines, err = result
    assert status == 2
    assert lines == []
    assert len(err.splitlines()) == 1
    assert "Traceback" not in err
    return err.strip()


def test_unknown_integration_lists_the_configured_ones(run: Run, tmp_path: Path) -> None:
    line = error_line(run("ingest", "test", "--integration", "nagios", write(tmp_path / "b.json", {})))
    assert line == ("aiops: no integration 'nagios' in the config (configured: alertmanager, alertmanager-webhook, "
                    "otlp, pagerduty)")


@pytest.mark.parametrize(("content", "expected"), [
    (b"{not json", "aiops: invalid_json: "),
    (b"", "aiops: empty: the body is empty"),
    (b'{"resourceLogs": 7}', "aiops: schema: resourceLogs: must be an array, not int"),
    (b"[" * 40 + b"]" * 40, "aiops: too_deep: JSON nests deeper than 32 levels"),
    (gzip.compress(b"{}")[:-6], "aiops: bad_encoding: gzip body is truncated"),
])
def test_rejected_payload_is_one_reason_line(run: Run, tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "body.json"
    path.write_bytes(content)
    assert error_line(run("ingest", "test", "--integration", "otlp", str(path))).startswith(expected)


def test_oversized_body_uses_the_configured_bound(run: Run, tmp_path: Path) -> None:
    config = tmp_path / "aiops.yaml"
    config.write_text("ingest:\n  http:\n    max_body_bytes: 1024\n", encoding="utf-8")
    body = write(tmp_path / "big.json", {"resourceLogs": [], "pad": "x" * 2000})
    line = error_line(run("ingest", "test", "--config", str(config), "--integration", "otlp", body))
    assert line == "aiops: oversized: body is larger than 1024 bytes"


def test_too_many_events_is_oversized(run: Run, tmp_path: Path) -> None:
    config = tmp_path / "aiops.yaml"
    config.write_text("ingest:\n  http:\n    max_events_per_request: 1\n", encoding="utf-8")
    logs: dict[str, Any] = {"resourceLogs": [{"scopeLogs": [{"logRecords": [{}, {}]}]}]}
    line = error_line(run("ingest", "test", "--config", str(config), "--integration", "otlp",
                          write(tmp_path / "l.json", logs)))
    assert line == "aiops: oversized: 2 events, more than ingest.http.max_events_per_request (1)"


@pytest.mark.parametrize(("extra", "expected"), [
    (["--path", "/v1/traces"], "aiops: --path '/v1/traces' is not a route of otlp integrations ('/v1/logs', "
                               "'/v1/metrics')"),
    (["--now", "yesterday"], "aiops: --now 'yesterday' is not RFC 3339"),
    (["--now", "2024-06-01T12:00:00"], "aiops: --now '2024-06-01T12:00:00' needs an offset"),
])
def test_bad_arguments_are_one_line(run: Run, tmp_path: Path, extra: list[str], expected: str) -> None:
    body = write(tmp_path / "l.json", OTLP_LOGS)
    assert error_line(run("ingest", "test", "--integration", "otlp", body, *extra)).startswith(expected)


def test_missing_file_is_one_line(run: Run, tmp_path: Path) -> None:
    line = error_line(run("ingest", "test", "--integration", "otlp", str(tmp_path / "absent.json")))
    assert line.startswith("aiops: cannot read ")
    assert "absent.json" in line
