"""Finding a local embedded broker (run-file), start-up port checks, the banner and the settled heap."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from aiops.cli.common import require_bootstrap
from aiops.cli.service import _demo_broker_port
from aiops.config import AiopsConfig, load_config
from aiops.errors import ConfigError, UsageError
from aiops.runtime import runfile
from aiops.runtime.broker import EmbeddedBroker
from aiops.runtime.runfile import read_run_file, remove_run_file, run_file_path, write_run_file
from aiops.runtime.startup import YOUNG_GENERATION_THRESHOLD, Announcement, banner, check_ports, settle_heap


@pytest.fixture(autouse=True)
def _private_tmpdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own $TMPDIR, so no real run-file on this machine is read or replaced."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() caches; restored after the test


def test_run_file_round_trip_lives_in_a_private_directory(tmp_path: Path) -> None:
    path = write_run_file("127.0.0.1:9092", "http://127.0.0.1:8080")
    assert path == run_file_path() == tmp_path / f"aiops-{os.getuid()}" / "embedded-broker.json"
    assert path.parent.stat().st_mode & 0o777 == 0o700
    found = read_run_file()
    assert found is not None
    assert (found.bootstrap, found.pid) == ("127.0.0.1:9092", os.getpid())
    remove_run_file()
    assert not path.exists()
    assert read_run_file() is None


def test_a_run_file_of_a_dead_process_is_ignored_and_not_removed_by_others() -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    path = run_file_path()
    path.parent.mkdir(mode=0o700, parents=True)
    path.write_text(json.dumps({"bootstrap": "127.0.0.1:1", "http_url": "x", "pid": int(dead.stdout)}))
    assert read_run_file() is None
    remove_run_file()  # not ours: left alone
    assert path.exists()
    path.write_text("not json")
    assert read_run_file() is None


def test_a_pid_now_owned_by_another_user_is_not_the_service_that_wrote_the_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_run_file("127.0.0.1:9092", "http://127.0.0.1:8080")

    def signal_refused(pid: int, sig: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "kill", signal_refused)
    assert read_run_file() is None


@pytest.mark.skipif(runfile.start_time(os.getpid()) is None, reason="no /proc start times here")
def test_a_pid_reused_by_a_later_process_is_ignored() -> None:
    path = write_run_file("127.0.0.1:9092", "http://127.0.0.1:8080")
    assert path is not None
    assert read_run_file() is not None
    published = json.loads(path.read_text())
    path.write_text(json.dumps({**published, "started": published["started"] - 1}))  # our pid, an older process
    assert read_run_file() is None


def test_a_directory_others_may_write_to_is_not_trusted_until_the_service_makes_it_private() -> None:
    path = write_run_file("127.0.0.1:9092", "http://127.0.0.1:8080")
    assert path is not None
    path.parent.chmod(0o777)
    assert read_run_file() is None  # anyone could have put that file there
    write_run_file("127.0.0.1:9092", "http://127.0.0.1:8080")
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert read_run_file() is not None


def test_writing_waits_while_another_service_removes_or_writes_the_file() -> None:
    """Remove reads the pid and unlinks under one lock: a service replacing the file in between would be lost."""
    directory = run_file_path().parent
    directory.mkdir(mode=0o700)
    written = threading.Event()

    def write() -> None:
        write_run_file("127.0.0.1:1", "http://x")
        written.set()

    with runfile._locked(directory):
        writer = threading.Thread(target=write)
        writer.start()
        assert not written.wait(0.3)  # blocked on the lock: it cannot finish early, however loaded the box
        assert not run_file_path().exists()
    writer.join(timeout=30)
    assert written.is_set()
    assert read_run_file() is not None


def test_clients_find_the_local_broker_through_the_run_file_unless_a_bootstrap_is_given() -> None:
    defaults = load_config(None, environ={})
    with pytest.raises(ConfigError, match=r"no Kafka to talk to: .*pass --bootstrap HOST:PORT"):
        require_bootstrap(defaults)
    write_run_file("127.0.0.1:39092", "http://127.0.0.1:8080")
    assert require_bootstrap(defaults) == "127.0.0.1:39092"
    assert require_bootstrap(load_config(None, environ={"AIOPS_KAFKA__BOOTSTRAP": "kafka:9092"})) == "kafka:9092"


def test_taken_http_and_broker_ports_fail_naming_the_key_to_change(listening: int) -> None:
    http_taken = AiopsConfig.model_validate({"http": {"port": listening}, "kafka": {"embedded_port": 0}})
    with pytest.raises(UsageError, match=rf"cannot serve http on 127\.0\.0\.1:{listening}: .*set http\.port"):
        check_ports(http_taken)
    broker_taken = AiopsConfig.model_validate({"http": {"port": 0}, "kafka": {"embedded_port": listening}})
    with pytest.raises(UsageError, match=rf"127\.0\.0\.1:{listening}: .*set kafka\.embedded_port"):
        check_ports(broker_taken)
    external = AiopsConfig.model_validate({"http": {"port": 0}, "kafka": {"embedded_port": listening,
                                                                            "bootstrap": "kafka:9092"}})
    check_ports(external)  # no embedded broker: its port does not matter


def test_the_embedded_broker_refuses_a_taken_port_before_spawning(listening: int) -> None:
    broker = EmbeddedBroker(port=listening, binary="/nonexistent/tansu")
    with pytest.raises(UsageError, match=rf"cannot listen on 127\.0\.0\.1:{listening}"):
        broker.start_sync()
    assert broker.pid is None


def test_the_demo_takes_a_free_port_when_the_default_is_busy_and_says_so(
    listening: int, capsys: pytest.CaptureFixture[str]
) -> None:
    config = AiopsConfig.model_validate({"kafka": {"embedded_port": listening}})
    assert _demo_broker_port(config).kafka.embedded_port == 0
    assert f"127.0.0.1:{listening} is busy" in capsys.readouterr().out
    free = AiopsConfig.model_validate({"kafka": {"embedded_port": 0}})
    assert _demo_broker_port(free) is free


def test_banner_is_one_line_and_the_announcement_owns_the_run_file(capsys: pytest.CaptureFixture[str]) -> None:
    line = banner("127.0.0.1:9092", True, "http://127.0.0.1:8080")
    assert "\n" not in line
    assert "127.0.0.1:9092" in line
    assert "http://127.0.0.1:8080/metrics" in line
    assert "/healthz" in line
    announcement = Announcement("127.0.0.1:9092", embedded=True)
    announcement.ready("http://127.0.0.1:8080")
    assert capsys.readouterr().out == line + "\n"
    assert read_run_file() is not None
    announcement.withdraw()
    assert not run_file_path().exists()
    Announcement("127.0.0.1:9092", embedded=True).withdraw()  # never ready (e.g. interrupted): nothing to do
    external = Announcement("kafka:9092", embedded=False)
    external.ready("http://127.0.0.1:8080")
    assert "Kafka at kafka:9092" in capsys.readouterr().out
    assert not run_file_path().exists()
    with_ingest = banner("127.0.0.1:9092", True, "http://127.0.0.1:8080", ingest=True)
    assert "alerts in at http://127.0.0.1:8080/api/v2/alerts" in with_ingest
    assert "\n" not in with_ingest
    assert "console" not in line
    with_console = banner("127.0.0.1:9092", True, "http://127.0.0.1:8080", console=True)
    assert ", console http://127.0.0.1:8080/, metrics" in with_console


def test_settle_heap_freezes_what_started_and_collects_the_young_generation_less_often() -> None:
    before = gc.get_threshold()
    frozen_before = gc.get_freeze_count()
    try:
        settle_heap()
        assert gc.get_threshold() == (YOUNG_GENERATION_THRESHOLD, before[1], before[2])
        assert gc.get_freeze_count() > frozen_before
        cycle: list[object] = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1  # collection still works for what is allocated afterwards
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
