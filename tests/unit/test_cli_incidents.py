"""`aiops incidents` without a service: where the API is found, where the token comes from (never an AIOPS_*
variable), the table and the human view of an incident, one-line errors for an unreachable API, and the body
each action command posts (a recording client in place of the HTTP one)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.store_samples import incident

from aiops.cli import incidents as incidents_cli
from aiops.cli import main
from aiops.cli.incidents import describe, snooze_until, table
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


class _RecordingClient:
    """Stands in for `ApiClient`: records each POST and answers like the API's 202."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, object]]] = []

    def post(self, path: str, body: dict[str, object]) -> dict[str, str]:
        self.posts.append((path, dict(body)))
        return {"id": f"act-{len(self.posts)}", "status": "accepted"}


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> _RecordingClient:
    recording = _RecordingClient()
    monkeypatch.setattr(incidents_cli, "_client", lambda args: recording)
    return recording


@pytest.mark.parametrize(("argv", "body"), [
    (["unack", "inc-1"], {"kind": "unacknowledge"}),
    (["reopen", "inc-1", "--comment", "still failing"], {"kind": "reopen", "comment": "still failing"}),
    (["assign", "inc-1", "--owner", "alice"], {"kind": "assign", "owner": "alice"}),
    (["assign", "inc-1", "--team", "payments", "--owner", "bob"],
     {"kind": "assign", "owner": "bob", "team": "payments"}),
    (["note", "inc-1", "rolled back 4.2.1"], {"kind": "note", "comment": "rolled back 4.2.1"}),
    (["snooze", "inc-1", "--until", "2030-03-01T10:00:00+02:00"], {"kind": "snooze", "until": "2030-03-01T08:00:00Z"}),
    (["unlink", "inc-1", "--member", "prometheus:DiskFull-db", "--comment", "other cluster"],
     {"kind": "unlink", "member": "prometheus:DiskFull-db", "comment": "other cluster"}),
])
def test_each_action_command_posts_its_body(client: _RecordingClient, capsys: pytest.CaptureFixture[str],
                                            argv: list[str], body: dict[str, object]) -> None:
    assert main(["incidents", *argv, "--url", "http://127.0.0.1:1"]) == 0
    assert client.posts == [("/api/v1/incidents/inc-1/actions", body)]
    assert capsys.readouterr().out == (f"{body['kind']} of inc-1 accepted: action act-1 (the incident's next "
                                       "version shows it)\n")


def test_snooze_for_a_duration_ends_that_long_after_now(client: _RecordingClient) -> None:
    before = datetime.now(UTC)
    assert main(["incidents", "snooze", "inc/2", "--for", "1h30m", "--json", "--url", "http://127.0.0.1:1"]) == 0
    (path, body), = client.posts
    assert path == "/api/v1/incidents/inc%2F2/actions"
    until = datetime.fromisoformat(str(body["until"]))
    assert before + timedelta(minutes=90) <= until <= datetime.now(UTC) + timedelta(minutes=90)
    now = datetime(2026, 3, 1, tzinfo=UTC)
    assert snooze_until(None, "30m", now) == now + timedelta(minutes=30)
    assert snooze_until("2026-03-01T01:00:00Z", None, now) == now + timedelta(hours=1)


@pytest.mark.parametrize(("argv", "message"), [
    (["assign", "inc-1"], "aiops: assign needs --owner or --team (or both)"),
    (["note", "inc-1", "  "], "aiops: note needs a text"),
    (["snooze", "inc-1", "--until", "2020-01-01T00:00:00Z"], "aiops: snooze until 2020-01-01T00:00:00+00:00 is not "
                                                              "in the future"),
    (["snooze", "inc-1", "--until", "2030-01-01T00:00:00"], "aiops: time '2030-01-01T00:00:00' needs an offset"),
    (["snooze", "inc-1", "--for", "soon"], "aiops: bad duration 'soon'"),
])
def test_wrong_action_arguments_are_one_line_and_post_nothing(client: _RecordingClient,
                                                              capsys: pytest.CaptureFixture[str], argv: list[str],
                                                              message: str) -> None:
    assert main(["incidents", *argv, "--url", "http://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message)
    assert len(err.splitlines()) == 1
    assert client.posts == []


@pytest.mark.parametrize("argv", [["snooze", "inc-1"], ["snooze", "inc-1", "--until", "x", "--for", "1h"],
                                  ["unlink", "inc-1"], ["note", "inc-1"]])
def test_missing_or_conflicting_arguments_are_usage_errors(client: _RecordingClient, argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["incidents", *argv])
    assert exited.value.code == 2
    assert client.posts == []
