"""Fault injection against `aiops run` on tansu: the incidents under faults are those of an uninterrupted run.

Each case feeds the built-in scenario (metrics, logs, alerts; seeded) to real `aiops run` subprocesses while
faults hit them, reads the incidents topic back and compares every (id, version) with what `aiops replay`
gives for the same lines (`support.chaos.compare`; `test_live_equals_replay.py` shows an uninterrupted run
gives exactly that). The guarantee checked (docs/ARCHITECTURE.md, "Delivery semantics and restart-safety"):
nothing lost, nothing conflicting, no version or id the reference lacks; re-sent versions are identical
copies, at most one per fault per incident version. Faults: SIGKILL at random moments (5 per run), SIGTERM
restarts, a second worker joining then the first killed (rebalance), and the broker frozen (SIGSTOP) for
longer than the consumer session. `python bench/chaos.py` runs the long mode (20 runs) for the figures.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from support.chaos import Counts, Fault, chaos_config, kill_schedule, rebalance_schedule, reference, scenario_lines
from support.chaos_run import RunResult, fault_run
from support.worker import isolated_config

from aiops.runtime.broker import EmbeddedBroker

pytestmark = [pytest.mark.chaos, pytest.mark.integration, pytest.mark.slow]


def _setup(prefix: str, bootstrap: str) -> tuple[dict[str, Any], list[bytes], list[dict[str, Any]]]:
    config = chaos_config(isolated_config(prefix, bootstrap))
    lines = scenario_lines()
    return config, lines, reference(lines, config)


def assert_clean(result: RunResult, faults: int) -> None:
    counts: Counts = result.counts
    report = f"{counts.row()}\n" + "\n".join(result.events) + "\n" + result.logs()
    assert counts.reference_versions > 0
    assert not counts.lost, report
    assert not counts.conflicting, report
    assert not counts.extra, report
    assert not counts.foreign, report
    assert counts.max_copies <= 1 + faults, report


@pytest.mark.parametrize("seed", [11, 12])
async def test_five_sigkills_lose_and_change_nothing(
    kafka_bootstrap: str, unique_topic_prefix: str, tmp_path: Path, seed: int
) -> None:
    config, lines, expected = _setup(unique_topic_prefix, kafka_bootstrap)
    faults = kill_schedule(seed, 5)
    result = await fault_run(config, tmp_path, lines, expected, faults)
    assert result.restarts == 5
    assert_clean(result, len(faults))


async def test_sigterm_restarts_change_nothing(kafka_bootstrap: str, unique_topic_prefix: str, tmp_path: Path) -> None:
    config, lines, expected = _setup(unique_topic_prefix, kafka_bootstrap)
    faults = kill_schedule(21, 3, kind="term", low=1.0, high=4.0)
    result = await fault_run(config, tmp_path, lines, expected, faults)
    assert_clean(result, len(faults))


async def test_rebalance_to_a_second_worker_then_a_kill_changes_nothing(
    kafka_bootstrap: str, unique_topic_prefix: str, tmp_path: Path
) -> None:
    config, lines, expected = _setup(unique_topic_prefix, kafka_bootstrap)
    faults: list[Fault] = rebalance_schedule(31)
    result = await fault_run(config, tmp_path, lines, expected, faults)
    assert len(result.workers) == 2
    assert_clean(result, len(faults))


async def test_broker_frozen_longer_than_the_session_changes_nothing(unique_topic_prefix: str, tmp_path: Path) -> None:
    async with EmbeddedBroker() as broker:  # a broker of its own: the freeze must not hit other tests
        config, lines, expected = _setup(unique_topic_prefix, broker.bootstrap)
        assert broker.pid is not None
        freezer = asyncio.create_task(_freeze(broker.pid, after_seconds=8.0, seconds=8.0))
        result = await fault_run(config, tmp_path, lines, expected, [])
        await freezer
    assert len(result.workers) == 1  # no restart: the worker rode out the outage
    assert_clean(result, 1)


async def _freeze(pid: int, after_seconds: float, seconds: float) -> None:
    """SIGSTOP the broker for `seconds` (longer than the workers' 3 s session timeout), then SIGCONT."""
    await asyncio.sleep(after_seconds)
    os.kill(pid, signal.SIGSTOP)
    try:
        await asyncio.sleep(seconds)
    finally:
        os.kill(pid, signal.SIGCONT)
