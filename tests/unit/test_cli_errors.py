"""Ordinary mistakes end with one clear line on stderr and a non-zero exit, never a traceback.

Each test runs the real entry point (``python -m aiops``) as a subprocess, without the developer's AIOPS_*
variables and with a private $TMPDIR (so no run-file of a service running on this machine is found).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from support.example_config import EXAMPLE, example_header_variables

from aiops.cli.common import error_line, package_version
from aiops.errors import BrokerUnavailableError
from aiops.runtime.broker import free_loopback_port

RunAiops = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_aiops(tmp_path: Path) -> RunAiops:
    """`python -m aiops ARGV...` with only `env` added to a clean environment; the finished process."""
    secrets = example_header_variables()

    def run(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("AIOPS_") and k not in secrets}
        clean.update({"TMPDIR": str(tmp_path), **(env or {})})
        return subprocess.run([sys.executable, "-m", "aiops", *argv], capture_output=True, text=True, env=clean,
                              timeout=60, check=False, cwd=tmp_path)
    return run


def one_error_line(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("aiops: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("argv", [
    ["replay", "absent.jsonl"],
    ["produce", "absent.jsonl", "--bootstrap", "127.0.0.1:9"],
    ["relations", "export", "absent.jsonl"],
])
def test_a_missing_input_file(run_aiops: RunAiops, argv: list[str]) -> None:
    one_error_line(run_aiops(*argv), "cannot read absent.jsonl: No such file or directory")


def test_a_directory_as_input_file(run_aiops: RunAiops, tmp_path: Path) -> None:
    one_error_line(run_aiops("replay", str(tmp_path)), f"cannot read {tmp_path}: Is a directory")


def test_scenario_out_in_a_missing_directory(run_aiops: RunAiops) -> None:
    one_error_line(run_aiops("scenario", "--out", "no/such/dir/s.jsonl"), "cannot write no/such/dir/s.jsonl")


@pytest.mark.parametrize("command", ["produce", "tail"])
def test_a_wrong_bootstrap_fails_fast(run_aiops: RunAiops, tmp_path: Path, command: str) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text('{"kind": "alert"}\n')
    bootstrap = f"127.0.0.1:{free_loopback_port()}"  # nothing listens there
    argv = [command, str(events)] if command == "produce" else [command]
    started = time.monotonic()
    # A refused connection fails at once, long before the (here 120 s) request timeout, even on a busy CI box.
    result = run_aiops(*argv, "--bootstrap", bootstrap, env={"AIOPS_KAFKA__REQUEST_TIMEOUT_MS": "120000"})
    one_error_line(result, f"cannot reach Kafka at {bootstrap}")
    assert time.monotonic() - started < 45


def test_an_unknown_host_fails_fast(run_aiops: RunAiops) -> None:
    # Bounded by the request timeout even where DNS queries go unanswered (a CI box without network).
    bootstrap = "no-such-host.invalid:9092"
    result = run_aiops("tail", "--bootstrap", bootstrap, env={"AIOPS_KAFKA__REQUEST_TIMEOUT_MS": "5000"})
    one_error_line(result, f"cannot reach Kafka at {bootstrap}")


@pytest.mark.parametrize("argv", [["tail"], ["silence", "list"]])
def test_no_bootstrap_and_no_local_broker(run_aiops: RunAiops, argv: list[str]) -> None:
    one_error_line(run_aiops(*argv), "no Kafka to talk to", "pass --bootstrap HOST:PORT")


def test_run_with_the_http_port_taken(run_aiops: RunAiops, listening: int) -> None:
    result = run_aiops("run", env={"AIOPS_HTTP__PORT": str(listening), "AIOPS_KAFKA__EMBEDDED_PORT": "0"})
    one_error_line(result, f"cannot serve http on 127.0.0.1:{listening}", "set http.port")


def test_run_with_the_embedded_broker_port_taken(run_aiops: RunAiops, listening: int) -> None:
    result = run_aiops("run", env={"AIOPS_HTTP__PORT": "0", "AIOPS_KAFKA__EMBEDDED_PORT": str(listening)})
    one_error_line(result, f"127.0.0.1:{listening}", "set kafka.embedded_port")


def test_check_config_and_run_fail_identically_on_a_missing_secret(run_aiops: RunAiops) -> None:
    variables = {k: v for k, v in example_header_variables().items() if k != "JIRA_API_TOKEN"}
    env = {**variables, "AIOPS_HTTP__PORT": "0", "AIOPS_KAFKA__EMBEDDED_PORT": "0"}
    checked = run_aiops("check-config", str(EXAMPLE), env=env)
    run = run_aiops("run", "--config", str(EXAMPLE), env=env)
    line = one_error_line(checked, "delivery.receivers.jira.jira.api_token", "JIRA_API_TOKEN is not set")
    assert (run.returncode, run.stderr, run.stdout) == (checked.returncode, checked.stderr, "")
    assert line.startswith(f"aiops: cannot resolve a secret in {EXAMPLE}: ")


def test_every_missing_secret_of_the_example_is_named_at_once_on_one_line(run_aiops: RunAiops) -> None:
    result = run_aiops("check-config", str(EXAMPLE))
    assert result.returncode == 2
    line = one_error_line(result, *(f"environment variable {name} is not set" for name in example_header_variables()))
    assert line.startswith(f"aiops: {len(example_header_variables())} secrets cannot be resolved in {EXAMPLE}")


@pytest.mark.parametrize(("text", "fragments"), [
    ("kafka:\n  nope: 1\nhttp:\n  port: -1\n", ("invalid configuration in", "kafka.nope: unknown key", "http.port: ")),
    ("kafka:\n  client_id: hunter2: x\n", ("is not valid YAML", "(line 2, column 21)")),
])
def test_an_invalid_config_file_is_one_line(run_aiops: RunAiops, tmp_path: Path, text: str,
                                            fragments: tuple[str, ...]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    for argv in (["check-config", str(path)], ["replay", "absent.jsonl", "--config", str(path)]):
        line = one_error_line(run_aiops(*argv), *fragments)
        assert "hunter2" not in line  # a YAML error does not quote the file (it may hold a literal secret)


def test_an_override_that_is_not_yaml_is_one_line_without_its_value(run_aiops: RunAiops) -> None:
    env = {"AIOPS_HTTP__HOST": "{s3cret: [", **example_header_variables()}
    result = run_aiops("check-config", str(EXAMPLE), env=env)
    line = one_error_line(result, "AIOPS_HTTP__HOST: its value is not valid YAML")
    assert "s3cret" not in line


def test_version(run_aiops: RunAiops) -> None:
    result = run_aiops("--version")
    assert (result.returncode, result.stdout.strip()) == (0, f"aiops {package_version()}")


def test_an_error_with_several_lines_is_printed_as_one() -> None:
    """E.g. the embedded broker's log tail when tansu fails to start."""
    error = BrokerUnavailableError("tansu exited with code 1 on 127.0.0.1:9092: \n  bind failed\n  exiting\n")
    assert error_line(error) == "aiops: tansu exited with code 1 on 127.0.0.1:9092: bind failed; exiting"
    assert error_line(BrokerUnavailableError("")) == "aiops: BrokerUnavailableError"
