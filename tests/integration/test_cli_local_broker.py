"""The CLI against a real broker: `aiops run` announces and publishes its embedded broker, `produce` and
`tail` find it without flags, and `tail` ends with one line on Ctrl-C and when the broker goes away.

Every process gets a private $TMPDIR (run-file location) and no AIOPS_* variables of the developer.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aiops.runtime.broker import EmbeddedBroker

pytestmark = [pytest.mark.integration]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIOPS_")}
    return {**env, "TMPDIR": str(tmp_path), **extra}


def _aiops(argv: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "aiops", *argv], stdout=subprocess.PIPE,  # our own CLI
                            stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)


def _stopped(process: subprocess.Popen[str], seconds: float) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=seconds)
    return process.returncode, out, err


def _assert_one_line(err: str, fragment: str) -> None:
    assert "Traceback" not in err, err
    assert err.splitlines() == [line for line in err.splitlines() if fragment in line], err
    assert len(err.splitlines()) == 1, err


def test_ctrl_c_on_tail_ends_with_one_line(tmp_path: Path) -> None:
    with EmbeddedBroker() as broker:
        tail = _aiops(["tail", "--bootstrap", broker.bootstrap], _env(tmp_path))
        time.sleep(3)  # connected and following an empty topic
        assert tail.poll() is None
        tail.send_signal(signal.SIGINT)
        code, _out, err = _stopped(tail, 15)
    assert code == 130
    _assert_one_line(err, "aiops: interrupted")


def test_tail_gives_up_with_one_line_when_the_broker_stays_unreachable(tmp_path: Path) -> None:
    broker = EmbeddedBroker()
    broker.start_sync()
    try:
        env = _env(tmp_path, AIOPS_KAFKA__REQUEST_TIMEOUT_MS="2000")
        tail = _aiops(["tail", "--bootstrap", broker.bootstrap], env)
        time.sleep(3)
        assert tail.poll() is None
    finally:
        broker.stop_sync()
    gone = time.monotonic()
    code, _out, err = _stopped(tail, 30)
    assert code != 0
    _assert_one_line(err, "unreachable for 2 s")
    assert time.monotonic() - gone < 15


def _read_banner(run: subprocess.Popen[str], seconds: float) -> str:
    assert run.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(run.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and run.poll() is None:
        if selector.select(timeout=1.0):
            line = run.stdout.readline()
            if line.startswith("aiops ready:"):
                return line.strip()
    raise AssertionError(f"no banner within {seconds}s (exit code {run.poll()})")


@pytest.mark.slow
def test_run_announces_its_embedded_broker_and_clients_find_it_without_flags(tmp_path: Path) -> None:
    env = _env(tmp_path, AIOPS_KAFKA__EMBEDDED_PORT="0", AIOPS_HTTP__PORT="0", AIOPS_LOGGING__LEVEL="WARNING",
               AIOPS_FAUST__APP_ID=f"cli-{os.getpid()}")
    run = _aiops(["run"], env, cwd=tmp_path)
    try:
        banner = _read_banner(run, 90)
        run_file = tmp_path / f"aiops-{os.getuid()}" / "embedded-broker.json"
        published = json.loads(run_file.read_text())
        assert published["pid"] == run.pid
        assert f"embedded Kafka broker on {published['bootstrap']}" in banner
        assert f"{published['http_url']}/metrics" in banner
        events = tmp_path / "events.jsonl"
        events.write_text('{"kind": "alert", "ts": 1700000000, "service": "api", "name": "Down"}\n')
        produced = subprocess.run([sys.executable, "-m", "aiops", "produce", str(events)], env=env,
                                  capture_output=True, text=True, timeout=60, check=False)
        assert produced.returncode == 0, produced.stderr
        assert produced.stdout.strip().endswith(f"at {published['bootstrap']}")
        tail = subprocess.run([sys.executable, "-m", "aiops", "tail", "--idle-exit", "1"], env=env,
                              capture_output=True, text=True, timeout=60, check=False)
        assert (tail.returncode, tail.stderr) == (0, "")
    finally:
        run.send_signal(signal.SIGTERM)
        run.communicate(timeout=60)
    assert not run_file.exists()
