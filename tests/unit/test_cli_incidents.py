"""`aiops incidents` without a service: where the API is found, where the token comes from (never an AIOPS_*
variable), the table and the human view of an incident, and one-line errors for an unreachable API."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.store_samples import incident

from aiops.cli import main
from aiops.cli.incidents import describe, table
from aiops.config import AiopsConfig
from aiops.errors import UsageError
from aiops.runtime import api_client
from aiops.runtime.api_client import TOKEN_VARIABLE, api_url, read_token
from aiops.runtime.runfile import RunFile


def test_the_url_comes_from_the_flag_the_config_or_a_local_service(monkeypatch: pytest.MonkeyPatch) -> None:
    config = AiopsConfig.model_validate({"http": {"host": "0.0.0.0", "port": 9099}})
    monkeypatch.setattr(api_client, "read_run_file", lambda: RunFile("127.0.0.1:9092", "http://127.0.0.1:4321", 1))
    assert api_url("http://h:1/", config, config_given=True) == "http://h:1"
    assert api_url(None, config, config_given=True) == "http://127.0.0.1:9099", "a wildcard listener: loopback"
    assert api_url(None, config, config_given=False) == "http://127.0.0.1:4321", "the running local service"
    monkeypatch.setattr(api_client, "read_run_file", lambda: None)
    assert api_url(None, AiopsConfig(), config_given=False) == "http://127.0.0.1:8080"


def test_the_token_comes_from_a_file_or_a_variable_outside_the_config_overrides(tmp_path: Path) -> None:
    assert not TOKEN_VARIABLE.startswith("AIOPS_")
    token_file = tmp_path / "token"
    token_file.write_text("s3cret\n")
    assert read_token(str(token_file), {TOKEN_VARIABLE: "other"}) == "s3cret"
    assert read_token(None, {TOKEN_VARIABLE: " env-token "}) == "env-token"
    assert read_token(None, {}) is None
    with pytest.raises(UsageError, match="cannot read the token file"):
        read_token(str(tmp_path / "missing"), {})


def test_table_and_describe() -> None:
    rows = [("inc-1", "open", "P2", "1", "2026-03-01 00:01:01", "checkout", "Latency")]
    lines = table(rows).splitlines()
    assert lines[0].split() == ["ID", "STATUS", "PRI", "VER", "LAST", "SEEN", "SERVICES", "TITLE"]
    assert lines[1].startswith("inc-1  open    P2   1  ")
    shown = describe({"incident": incident(1, 2, status="updated", owner="bob").model_dump(mode="json"),
                      "timeline": [], "decisions": [], "notifications": []})
    assert shown.splitlines()[0] == "inc-1 v2 updated P2  Latency on checkout #1"
    assert "  owner: bob" in shown
    assert "    firing   HighLatency  checkout  fp-1-checkout" in shown


def test_an_unreachable_api_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["incidents", "list", "--url", "http://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("aiops: cannot reach the aiops API at http://127.0.0.1:1")
    assert len(err.splitlines()) == 1
