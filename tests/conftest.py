"""Shared fixtures: one embedded broker per session (only when requested), unique topic names, a
scriptable local HTTP receiver and a throwaway PostgreSQL server (`postgres_server`, for the store tests).
Integration tests that need Kafka request `kafka_bootstrap`; set ``AIOPS_TEST_KAFKA_BOOTSTRAP=host:port`` to
run them against an existing broker instead of tansu."""

from __future__ import annotations

import os
import re
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

_TESTS_DIR = str(Path(__file__).resolve().parent)
if _TESTS_DIR not in sys.path:  # `support` must import the same way whatever pytest's rootdir/import mode
    sys.path.insert(0, _TESTS_DIR)

from support.floats import rounding  # noqa: E402, F401  (fixture: native and one-ulp-off numpy rounding)
from support.postgres import LocalPostgres, missing_reason  # noqa: E402
from support.receiver import HttpReceiver  # noqa: E402

from aiops.runtime.broker import EmbeddedBroker  # noqa: E402


@pytest.fixture(scope="session")
async def kafka_bootstrap() -> AsyncIterator[str]:
    """Bootstrap address of a Kafka-protocol broker shared by the whole session."""
    external = os.environ.get("AIOPS_TEST_KAFKA_BOOTSTRAP")
    if external:
        yield external
        return
    async with EmbeddedBroker() as broker:
        yield broker.bootstrap


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[LocalPostgres]:
    """A PostgreSQL server on loopback for the whole session (initdb into a temp dir, stopped at the end);
    skips when the server binaries are absent (`.ci/run` installs the `postgresql` package)."""
    reason = missing_reason()
    if reason is not None:
        pytest.skip(reason)
    server = LocalPostgres()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def unique_topic_prefix(request: pytest.FixtureRequest) -> str:
    """A per-test prefix like ``t.test_name.1a2b3c4d.`` (valid Kafka topic characters only)."""
    test_name = re.sub(r"[^A-Za-z0-9_-]+", "_", request.node.name)[:60]
    return f"t.{test_name}.{uuid.uuid4().hex[:8]}."


@pytest.fixture
async def http_receiver() -> AsyncIterator[HttpReceiver]:
    """A started `HttpReceiver` on a free 127.0.0.1 port, stopped after the test."""
    async with HttpReceiver() as receiver:
        yield receiver


@pytest.fixture
def listening() -> Iterator[int]:
    """A free loopback port that something now listens on (for "port taken" tests; never a fixed port)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield int(server.getsockname()[1])
