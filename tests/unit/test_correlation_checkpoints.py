"""Per-batch correlation checkpoints: each changed key once, an offset record last, restore up to it.

The correlation worker keeps each signals partition's scopes in memory (`PartitionScopes`) and writes what
a batch changed as records of the compacted state topic. Restoring those records must give back the
state exactly (so the restarted worker emits what an uninterrupted one would), and a batch cut short by
a crash (records after the last offset record) must be discarded, with its keys named so the worker can
rewrite their checkpointed values.
"""

from __future__ import annotations

from support.builders import T0, signal
from support.engine_run import EngineRun

from aiops.correlation.stage import CorrelationStage
from aiops.runtime.correlation_store import OFFSET_KEY, PartitionScopes, restore

SHOP = {"frontend": ["checkout"], "checkout": ["payments"], "payments": []}
Log = list[tuple[bytes | None, bytes | None, int]]


def _append(log: Log, records: list[tuple[bytes, bytes | None]]) -> None:
    log.extend((key, value, len(log) + i) for i, (key, value) in enumerate(records))


def test_a_batch_writes_each_changed_key_once_and_ends_with_its_offset() -> None:
    run = EngineRun(SHOP, group_interval_seconds=30)
    scopes = PartitionScopes(0)
    stage = CorrelationStage(run.engine, scopes)
    for i in range(20):  # one incident, twenty signals of one member: the member's key is written once
        stage.process(signal("errors", "payments", float(i)))
    records = scopes.checkpoint(next_offset=20)
    keys = [key for key, _ in records]
    assert len(keys) == len(set(keys))
    assert keys[-1] == OFFSET_KEY
    assert sum(key.startswith(b"m/") for key in keys) == 1
    assert not scopes.changed
    assert scopes.checkpoint(next_offset=21) == [(OFFSET_KEY, b'{"next":21}')]


def test_restored_state_continues_exactly_like_the_uninterrupted_one() -> None:
    signals = [signal("latency", "frontend", 0), signal("errors", "payments", 5, severity="critical"),
               signal("timeouts", "checkout", 12), signal("errors", "payments", 40, status="resolved")]
    reference = EngineRun(SHOP, group_interval_seconds=30)
    reference_stage = CorrelationStage(reference.engine, PartitionScopes(0))
    expected = [incident for s in signals for incident in reference_stage.process(s)]
    expected += reference_stage.advance(T0 + 400)
    assert [i.status for i in expected].count("resolved") >= 1

    log: Log = []
    first = EngineRun(SHOP, group_interval_seconds=30)
    scopes = PartitionScopes(0)
    stage = CorrelationStage(first.engine, scopes)
    got = [incident for s in signals[:2] for incident in stage.process(s)]
    _append(log, scopes.checkpoint(next_offset=2))
    restored = restore(0, log)  # a crash after the checkpoint: a new worker takes over
    assert restored.discarded_keys == []
    assert restored.scopes.next_offset == 2
    second = EngineRun(SHOP, group_interval_seconds=30)
    stage = CorrelationStage(second.engine, restored.scopes)
    got += [incident for s in signals[2:] for incident in stage.process(s)]
    got += stage.advance(T0 + 400)
    assert [i.model_dump(mode="json") for i in got] == [i.model_dump(mode="json") for i in expected]


def test_a_batch_cut_short_is_discarded_and_its_keys_named() -> None:
    run = EngineRun(SHOP, group_interval_seconds=30)
    scopes = PartitionScopes(0)
    stage = CorrelationStage(run.engine, scopes)
    stage.process(signal("latency", "frontend", 0))
    log: Log = []
    _append(log, scopes.checkpoint(next_offset=1))
    (scope,) = scopes.states
    checkpointed = scopes.states[scope].model_dump(mode="json")
    stage.process(signal("errors", "payments", 5))
    partial = scopes.checkpoint(next_offset=2)[:-2]  # the crash hit before the last key and the offset
    _append(log, partial)

    restored = restore(0, log)

    assert restored.scopes.next_offset == 1
    assert set(restored.discarded_keys) == {key.decode() for key, _ in partial}
    state = restored.scopes.load(scope)
    assert state is not None
    assert state.model_dump(mode="json") == checkpointed
    for key in restored.discarded_keys:  # the worker rewrites them with these values
        value = restored.scopes.current(key)
        assert value is None or key.startswith(("s/", "t/", "r/", "i/", "m/"))


def test_event_time_waits_for_every_input_partition_and_survives_a_restore() -> None:
    scopes = PartitionScopes(0)
    clocks = scopes.inputs
    assert clocks.report({"events/0": 100.0, "events/1": 90.0}, input_count=3) is None  # events/2 unknown
    assert clocks.report({"events/2": 95.0}, input_count=3) == 90.0
    # A worker that took over events/0 and /1 after a crash runs ahead; events/2's last clock holds it back.
    assert clocks.report({"events/0": 500.0, "events/1": 500.0}, input_count=3) == 95.0
    assert clocks.report({"events/1": 80.0}, input_count=3) is None  # never backwards
    log: Log = []
    _append(log, scopes.checkpoint(next_offset=7))
    restored = restore(0, log).scopes.inputs
    assert restored.clocks == {"events/0": 500.0, "events/1": 500.0, "events/2": 95.0}
    assert restored.report({"events/2": 95.0}, input_count=3) is None  # already advanced there
    assert restored.report({"events/2": 600.0}, input_count=3) == 500.0
