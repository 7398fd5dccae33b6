"""A merge persisted through the correlation-state topic's layout restores exactly, member order included.

A merge moves many members into the survivor in one signal, so one save writes many new member keys. A
rebalance rebuilds the scope from the state records (in order of first write), and the member order is what
the next versions' `change.added`, an absorbing merge and the timers read: it must be the join order.
"""

from __future__ import annotations

from typing import Any

from support.builders import signal
from support.engine_run import EngineRun

from aiops.runtime.correlation_store import PartitionScopes, restore

SHOP = {"frontend": ["checkout"], "checkout": ["payments"], "payments": []}


def test_a_merged_survivor_rebuilt_from_the_table_keeps_its_member_order() -> None:
    run = EngineRun(SHOP, group_interval_seconds=30)
    store = PartitionScopes(0)
    records: list[tuple[bytes | None, bytes | None, int]] = []

    def send(*signals: Any) -> None:
        for signal_ in signals:
            run.send(signal_)
            store.save(run.state)
        records.extend((key, value, len(records) + i) for i, (key, value) in enumerate(store.checkpoint(len(records))))

    send(signal("latency", "frontend", 0))
    send(*(signal(f"errors{i}", "payments", 1 + i / 10) for i in range(30)))
    send(signal("timeouts", "checkout", 10))  # bridges both: 30 payments members move in one save
    (survivor,) = run.state.incidents
    assert len(run.state.incidents[survivor].members) == 32
    rebuilt = restore(0, records).scopes.load("shop")  # a rebalance
    assert rebuilt is not None
    assert list(rebuilt.incidents[survivor].members) == list(run.state.incidents[survivor].members)
    assert rebuilt.model_dump(mode="json") == run.state.model_dump(mode="json")

    again = EngineRun(SHOP, group_interval_seconds=30)
    again.state = rebuilt
    expected = run.tick(60)
    assert [i.change.added for i in expected] == [list(run.state.incidents[survivor].members)[1:]]
    assert again.tick(60) == expected
