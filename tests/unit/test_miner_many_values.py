"""The miner's many-values rule: a position with enough distinct values is a parameter; merges resolve."""

from __future__ import annotations

import json

import pytest

from aiops.logmining.miner import TemplateMiner

HOSTS = ("alpha", "bravo", "charlie", "delta", "echo")


def test_alphabetic_host_names_at_the_start_collapse_after_enough_values() -> None:
    miner = TemplateMiner(parameter_values=3)
    results = [miner.add(f"{host} close, 12 bytes sent, lifetime 00:01") for host in HOSTS]
    assert results[0].template_id != results[1].template_id  # two values: not yet a parameter
    assert results[2].change == "updated"
    assert set(results[2].absorbed) == {results[1].template_id}
    assert results[2].template == "<*> close, <*> sent, lifetime <*>"
    survivor = results[0].template_id
    assert all(result.template_id == survivor for result in results[2:])
    assert miner.resolve(results[1].template_id) is miner.clusters[survivor]
    assert miner.add("bravo close, 99 bytes sent, lifetime <1 sec").template_id == survivor  # cache cleared


def test_short_lines_below_the_similarity_threshold_collapse_too() -> None:
    miner = TemplateMiner(parameter_values=3)
    ids = {miner.add(f"session closed for user {user}").template_id for user in ("cyrus", "news", "test")}
    assert len(miner.clusters) == 1
    assert miner.resolve(ids.pop()) is not None


def test_two_values_stay_apart() -> None:
    miner = TemplateMiner(parameter_values=3)
    failed = miner.add("Failed password for root from 1.2.3.4 port 22 ssh2")
    accepted = miner.add("Accepted password for root from 1.2.3.4 port 22 ssh2")
    assert failed.template_id != accepted.template_id
    assert miner.add("Failed password for root from 5.6.7.8 port 23 ssh2").template_id == failed.template_id


def test_off_by_default_and_drain_rule_at_two() -> None:
    off = TemplateMiner()
    assert len({off.add(f"{host} joined the ring").template_id for host in HOSTS}) == len(HOSTS)
    at_two = TemplateMiner(parameter_values=2)
    ids = [at_two.add(f"{host} joined the ring").template_id for host in HOSTS]
    assert len(set(ids)) == 1  # the second value already makes the position a parameter
    assert at_two.clusters[ids[0]].template == "<*> joined the ring"


def test_templates_keep_more_constants_than_wildcards() -> None:
    miner = TemplateMiner(parameter_values=2)
    for name in ("onStart", "onStop", "onPause", "onResume"):
        miner.add(f"{name} 42")
    assert len(miner.clusters) == 4  # "<*> <*>" would swallow every two-token line


def test_merges_survive_snapshot_and_version_one_still_restores() -> None:
    miner = TemplateMiner(parameter_values=3)
    first = [miner.add(f"{host} close, lifetime 00:01 ok").template_id for host in HOSTS[:3]]
    state = json.loads(json.dumps(miner.snapshot()))
    restored = TemplateMiner.restore(state, parameter_values=3)
    assert restored.resolve(first[1]) is restored.clusters[first[0]]
    assert restored.add("zulu close, lifetime 00:03 ok").template_id == first[0]
    old = {"version": 1, "tick": 2, "clusters": [{"id": "t1", "tokens": ["a", "<*>"], "size": 2, "last_seen": 2}]}
    assert TemplateMiner.restore(old).add("a 5").template_id == "t1"


def test_invalid_parameter_values_are_refused() -> None:
    with pytest.raises(ValueError, match="parameter_values"):
        TemplateMiner(parameter_values=1)
