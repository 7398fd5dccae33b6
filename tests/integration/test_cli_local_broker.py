"""The CLI against a real broker: `aiops run` announces and publishes its embedded broker, `produce` and
`tail` find it without flags, and `tail` ends with one line on Ctrl-C and when the broker goes away.

Every process gets a private $TMPDIR (run-file location) and no AIOPS_* variables of the developer.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.incidents import make_incident
from support.process_output import ProcessOutput

from aiops.runtime.broker import EmbeddedBroker
from aiops.runtime.kafka_io import produce_lines

pytestmark = [pytest.mark.integration]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIOPS_")}
    return {**env, "TMPDIR": str(tmp_path), **extra}


_STARTED: list[subprocess.Popen[str]] = []


@pytest.fixture(autouse=True)
def _no_process_left_behind() -> Iterator[None]:
    """A test that fails half-way does not leave its `aiops` processes running."""
    yield
    while _STARTED:
        process = _STARTED.pop()
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def _aiops(argv: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.Popen[str]:
    process = subprocess.Popen([sys.executable, "-m", "aiops", *argv], stdout=subprocess.PIPE,  # our own CLI
                               stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
    _STARTED.append(process)
    return process


def _publish_incident(bootstrap: str) -> str:
    """Put one incident on the incidents topic: a `tail` prints it once it is connected and following."""
    incident = make_incident()
    asyncio.run(produce_lines(bootstrap, "aiops.incidents", [incident.model_dump_json().encode()]))
    return incident.id


def _assert_one_line(err: str, fragment: str) -> None:
    assert "Traceback" not in err, err
    assert err.splitlines() == [line for line in err.splitlines() if fragment in line], err
    assert len(err.splitlines()) == 1, err


def test_ctrl_c_on_tail_ends_with_one_line(tmp_path: Path) -> None:
    with EmbeddedBroker() as broker:
        incident_id = _publish_incident(broker.bootstrap)
        tail = ProcessOutput(_aiops(["tail", "--bootstrap", broker.bootstrap], _env(tmp_path)))
        tail.line_with(incident_id, 60)  # connected and following (however long the start-up took)
        tail.process.send_signal(signal.SIGINT)
        code, err = tail.finish(30)
    assert code == 130
    _assert_one_line(err, "aiops: interrupted")


def test_tail_gives_up_with_one_line_when_the_broker_stays_unreachable(tmp_path: Path) -> None:
    broker = EmbeddedBroker()
    broker.start_sync()
    try:
        incident_id = _publish_incident(broker.bootstrap)
        env = _env(tmp_path, AIOPS_KAFKA__REQUEST_TIMEOUT_MS="5000")
        tail = ProcessOutput(_aiops(["tail", "--bootstrap", broker.bootstrap], env))
        tail.line_with(incident_id, 60)  # connected and following before the broker goes away
    finally:
        broker.stop_sync()
    gone = time.monotonic()
    code, err = tail.finish(60)
    assert code == 2
    _assert_one_line(err, "unreachable for 5 s")
    assert time.monotonic() - gone < 45  # 5 s unreachable, plus probing and closing on a busy machine


@pytest.mark.slow
def test_run_announces_its_embedded_broker_and_clients_find_it_without_flags(tmp_path: Path) -> None:
    env = _env(tmp_path, AIOPS_KAFKA__EMBEDDED_PORT="0", AIOPS_HTTP__PORT="0", AIOPS_LOGGING__LEVEL="WARNING",
               AIOPS_WORKERS__APP_ID=f"cli-{os.getpid()}")
    run = ProcessOutput(_aiops(["run"], env, cwd=tmp_path))
    try:
        banner = run.line_with("aiops ready:", 90)
        run_file = tmp_path / f"aiops-{os.getuid()}" / "embedded-broker.json"
        published = json.loads(run_file.read_text())
        assert published["pid"] == run.process.pid
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
        run.process.send_signal(signal.SIGTERM)
        run.finish(60)
    assert not run_file.exists()
