"""Operator actions end to end on a real broker: `aiops run` as a subprocess, actions on `topics.actions`.

Covers: malformed actions are dead-lettered and the next one still applies; an acknowledge gives the next incident
version `acknowledged_by` and a PagerDuty-style receiver an `acknowledge` with the incident's dedup_key; merge and
split give the documented versions and decisions; an action published just before the worker is killed with SIGKILL
is applied after the restart, and only once (a version published again after the kill is the same version, never a
second one).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from support.receivers_emulated import EmulatedReceivers
from support.worker import WorkerProcess, collect, event, isolated_config, produce

from aiops.actions import Action
from aiops.runtime.topics import TopicSpec, ensure_topics

pytestmark = [pytest.mark.integration, pytest.mark.slow]

T0 = 1_760_000_000.0


def alert(ts: float, service: str, name: str = "HighErrorRate", status: str = "firing") -> bytes:
    return event(kind="alert", ts=ts, source="prometheus", service=service, host=f"{service}-1", name=name,
                 severity="critical", status=status, fingerprint=f"{name}-{service}")


def action(kind: str, incident: dict[str, Any], **fields: Any) -> Action:
    return Action(id=f"{kind}-{incident['id']}", kind=kind, incident_id=incident["id"],  # type: ignore[arg-type]
                  scope=incident["scope"], actor="alice", requested_at=datetime.now(tz=UTC), **fields)


async def publish(config: dict[str, Any], *actions: Action) -> None:
    for item in actions:  # keyed by scope: the partition of the scope's signals
        await produce(config["kafka"]["bootstrap"], config["topics"]["actions"], [item.model_dump_json().encode()],
                      key=item.key)


async def _prepare(config: dict[str, Any]) -> None:
    t = config["topics"]
    await ensure_topics(config["kafka"]["bootstrap"], [
        TopicSpec(t["events"], t["events_partitions"]), TopicSpec(t["deadletter"], 1),
    ])


def versions(records: list[dict[str, Any]], incident_id: str) -> list[dict[str, Any]]:
    return [r for r in records if r["id"] == incident_id]


async def test_acknowledge_reaches_the_next_version_and_pagerduty_with_the_same_dedup_key(
    kafka_bootstrap: str, unique_topic_prefix: str, tmp_path: Path
) -> None:
    async with EmulatedReceivers() as emu:
        config = isolated_config(unique_topic_prefix, kafka_bootstrap, {"delivery": {
            "notifications_topic": f"{unique_topic_prefix}notifications", "default_receivers": ["pd"],
            "security": {"allow_loopback": True},
            "receivers": {"pagerduty": {"pd": {"url": emu.url("pagerduty", "v2/enqueue"), "routing_key": "rk",
                                               "on_update": "skip"}}}}})
        await _prepare(config)
        topics = config["topics"]
        worker = WorkerProcess(config, tmp_path)
        worker.start()
        try:
            await produce(kafka_bootstrap, topics["events"], [alert(T0, "api")], key=b"api")
            opened = await collect(kafka_bootstrap, topics["incidents"], lambda r: len(r) >= 1, 90)
            assert opened, worker.output()
            incident = opened[0]
            await emu.wait_for(lambda: emu.pagerduty.get(incident["id"]) == ["trigger"], within_seconds=30)
            poison = [b"\xff not json", b'{"type": "action", "kind": "explode"}']  # dead-lettered, not fatal
            await produce(kafka_bootstrap, topics["actions"], poison, key=incident["scope"].encode())
            await publish(config, action("acknowledge", incident, comment="on it"))
            records = await collect(kafka_bootstrap, topics["incidents"],
                                    lambda r: any(v["change"]["action"] == "acknowledge" for v in r), 60)
            acked = next(v for v in records if v["change"]["action"] == "acknowledge")
            assert (acked["id"], acked["version"], acked["status"]) == (incident["id"], 2, "updated"), worker.output()
            assert acked["acknowledged_by"] == "alice"
            assert acked["change"]["actor"] == "alice"
            await emu.wait_for(lambda: "acknowledge" in emu.pagerduty.get(incident["id"], []), within_seconds=30)
            assert emu.pagerduty[incident["id"]] == ["trigger", "acknowledge"]
            assert emu.calls("pagerduty")[-1].body["dedup_key"] == incident["id"]
            decisions = await collect(kafka_bootstrap, topics["decisions"],
                                      lambda r: any(d["kind"] == "action" for d in r), 30)
            [decision] = [d for d in decisions if d["kind"] == "action"]
            assert (decision["outcome"], decision["actor"], decision["comment"], decision["ref"]) == (
                "applied", "alice", "on it", f"acknowledge-{incident['id']}")
            letters = await collect(kafka_bootstrap, topics["deadletter"], lambda r: len(r) >= 2, 30)
            assert sorted(letter["reason"] for letter in letters) == ["schema", "schema"], worker.output()
            assert {letter["source_topic"] for letter in letters} == {topics["actions"]}
        finally:
            worker.stop()


async def test_merge_and_split_give_the_documented_versions_and_decisions(
    kafka_bootstrap: str, unique_topic_prefix: str, tmp_path: Path
) -> None:
    config = isolated_config(unique_topic_prefix, kafka_bootstrap, {"correlation": {"scope": "global"}})
    await _prepare(config)
    topics = config["topics"]
    worker = WorkerProcess(config, tmp_path)
    worker.start()
    try:
        await produce(kafka_bootstrap, topics["events"], [alert(T0, "api"), alert(T0 + 1, "db", "DiskFull")],
                      key=b"x")
        opened = await collect(kafka_bootstrap, topics["incidents"], lambda r: len(r) >= 2, 90)
        assert len(opened) >= 2, worker.output()
        api = next(r for r in opened if r["services"] == ["api"])
        db = next(r for r in opened if r["services"] == ["db"])
        await publish(config, action("merge", db, into=api["id"], comment="same outage"))
        records = await collect(kafka_bootstrap, topics["incidents"],
                                lambda r: any(v["change"]["action"] == "merge" and v["id"] == api["id"] for v in r), 60)
        closed = versions(records, db["id"])[-1]
        assert (closed["status"], closed["merged_into"], closed["change"]["action"]) == (
            "resolved", api["id"], "merge"), worker.output()
        survivor = versions(records, api["id"])[-1]
        assert survivor["change"]["action"] == "merge"
        assert "prometheus:DiskFull-db" in survivor["change"]["added"]

        await publish(config, action("split", api, member="prometheus:DiskFull-db"))
        records = await collect(kafka_bootstrap, topics["incidents"],
                                lambda r: sum(v["change"]["action"] == "split" for v in r) >= 2, 60)
        split = [v for v in records if v["change"]["action"] == "split"]  # two incidents: any partition order
        old = next(v for v in split if v["id"] == api["id"])
        new = next(v for v in split if v["id"] != api["id"])
        assert (old["id"], old["change"]["removed"]) == (api["id"], ["prometheus:DiskFull-db"]), worker.output()
        assert [m["fingerprint"] for m in old["members"]] == ["prometheus:HighErrorRate-api"]
        assert (new["status"], new["version"], new["services"]) == ("open", 1, ["db"])
        decisions = await collect(kafka_bootstrap, topics["decisions"],
                                  lambda r: sum(d["kind"] == "action" for d in r) >= 2, 30)
        assert sorted((d["rule"], d["outcome"]) for d in decisions if d["kind"] == "action") == [
            ("merge", "applied"), ("split", "applied")]  # keyed by incident id: partitions interleave freely
        assert any(d["kind"] == "merged" and d["rule"] == "operator" for d in decisions)
        assert any(d["kind"] == "opened" and d["rule"] == "operator" and d["incident_id"] == new["id"]
                   for d in decisions)
    finally:
        worker.stop()


async def test_an_action_published_before_a_sigkill_is_applied_once_after_the_restart(
    kafka_bootstrap: str, unique_topic_prefix: str, tmp_path: Path
) -> None:
    config = isolated_config(unique_topic_prefix, kafka_bootstrap)
    await _prepare(config)
    topics = config["topics"]
    first = WorkerProcess(config, tmp_path, "first")
    first.start()
    try:
        await produce(kafka_bootstrap, topics["events"], [alert(T0, "api")], key=b"api")
        opened = await collect(kafka_bootstrap, topics["incidents"], lambda r: len(r) >= 1, 90)
        assert opened, first.output()
        incident = opened[0]
        await publish(config, action("acknowledge", incident))  # accepted: on the topic
    finally:
        first.kill()
    second = WorkerProcess(config, tmp_path, "second")
    second.start()
    try:
        records = await collect(kafka_bootstrap, topics["incidents"],
                                lambda r: any(v["change"]["action"] == "acknowledge" for v in r), 90)
        acked = [v for v in records if v["change"]["action"] == "acknowledge"]
        assert acked, second.output()
        assert all(v == acked[0] for v in acked)  # re-published after the kill at most, identical
        assert (acked[0]["version"], acked[0]["acknowledged_by"]) == (2, "alice")
        await publish(config, action("acknowledge", incident))  # the same id again: not applied twice
        await produce(kafka_bootstrap, topics["events"], [alert(T0 + 30, "api", status="resolved")], key=b"api")
        records = await collect(kafka_bootstrap, topics["incidents"],
                                lambda r: any(v["status"] == "resolved" for v in r), 60)
        await asyncio.sleep(1)
        assert {v["version"] for v in records if v["change"]["action"] == "acknowledge"} == {2}, second.output()
        decisions = await collect(kafka_bootstrap, topics["decisions"], lambda r: False, 3)
        assert len({d["id"] for d in decisions if d["kind"] == "action"}) == 1
    finally:
        second.stop()
