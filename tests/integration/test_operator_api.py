"""The operator API on a real broker: tokens and roles (401, 403, 202), the audit trail, no token in any log
line, actions on the actions topic keyed and partitioned like the signals, 503 when the broker does not
acknowledge, and the problem details of refused requests."""

from __future__ import annotations

import logging
import os
import signal

import pytest
from aiokafka import AIOKafkaProducer
from support.operator_api import TOKENS, operator_api, read_records

from aiops.actions import Action
from aiops.runtime.broker import EmbeddedBroker

pytestmark = [pytest.mark.integration]

SCOPES = {"inc-1": "checkout", "inc-2": "cart", "inc-3": "checkout"}  # partitions 0 and 1 of 2
ACTIONS = "/api/v1/incidents/{}/actions"


async def test_tokens_roles_and_audit(kafka_bootstrap: str, unique_topic_prefix: str,
                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with operator_api(kafka_bootstrap, unique_topic_prefix, scope_of=SCOPES.get) as running:
        path = ACTIONS.format("inc-1")
        status, body, headers = await running.call("POST", path, {"kind": "acknowledge"})
        assert status == 401
        assert headers["Content-Type"].startswith("application/problem+json")
        assert headers["WWW-Authenticate"].startswith("Bearer")
        assert (body["type"], body["status"], body["instance"]) == ("urn:aiops:problem:unauthorized", 401, path)
        status, body, _ = await running.call("POST", path, {"kind": "acknowledge"}, token="victor")
        assert (status, body["title"]) == (403, "Forbidden")
        status, body, _ = await running.call("POST", path, {"kind": "acknowledge", "comment": "on it"}, token="alice")
        assert status == 202
        assert body["status"] == "accepted"
        assert (await running.call("GET", "/api/v1/silences", token="victor"))[0] == 200
        assert (await running.call("GET", "/api/v1/silences"))[0] == 401
        assert (await running.call("GET", "/api/v1/openapi.json"))[0] == 200  # the document needs no token
        entries = running.audit.entries
        assert [(e.actor, e.role, e.status, e.outcome) for e in entries] == [
            ("", "", 401, "unauthorized"), ("victor", "viewer", 403, "forbidden"),
            ("alice", "responder", 202, "accepted"), ("", "", 401, "unauthorized")], \
            "reads are not audited (a 401 is, whatever the method), every mutating request is"
        assert entries[-1].method == "GET"
        accepted = entries[2]
        assert (accepted.remote, accepted.method, accepted.path, accepted.target) == ("127.0.0.1", "POST", path,
                                                                                        "inc-1")
        assert accepted.action_id == body["id"]
        audited = [record for record in caplog.records if record.name == "aiops.audit"]
        assert len(audited) == 4
        assert audited[2].audit["action_id"] == body["id"]  # type: ignore[attr-defined]
    for secret, _ in TOKENS.values():
        assert secret not in caplog.text
        assert all(secret not in repr(getattr(record, "audit", "")) for record in caplog.records)


async def test_actions_are_published_keyed_by_scope_in_the_signals_partition(
        kafka_bootstrap: str, unique_topic_prefix: str) -> None:
    async with operator_api(kafka_bootstrap, unique_topic_prefix, scope_of=SCOPES.get) as running:
        asked = [("inc-1", {"kind": "acknowledge"}), ("inc-2", {"kind": "assign", "owner": "bob", "comment": "yours"}),
                 ("inc-3", {"kind": "merge", "into": "inc-1"})]
        ids = []
        for incident, body in asked:
            status, answer, _ = await running.call("POST", ACTIONS.format(incident), body, token="alice")
            assert status == 202, answer
            ids.append(answer["id"])
        records = await read_records(kafka_bootstrap, running.config.topics.actions, 3)
        signals = running.config.topics.signals
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:  # where the signals of each scope go
            signal_partition = {scope: (await producer.send_and_wait(signals, b"{}", key=scope.encode())).partition
                                for scope in ("checkout", "cart")}
        finally:
            await producer.stop()
    actions = {Action.model_validate_json(value).id: (partition, key, Action.model_validate_json(value))
               for partition, key, value in records if value is not None}
    assert set(actions) == set(ids)
    for action_id, (incident, _) in zip(ids, asked, strict=True):
        partition, key, action = actions[action_id]
        assert (action.incident_id, action.scope, action.actor, action.origin) == (
            incident, SCOPES[incident], "alice", "api")
        assert key == SCOPES[incident].encode()
        assert partition == signal_partition[SCOPES[incident]]
    assert actions[ids[1]][2].owner == "bob"
    assert actions[ids[2]][2].into == "inc-1"
    assert len({partition for partition, _, _ in actions.values()}) == 2, "the two scopes use both partitions"


async def test_refused_actions_say_why(kafka_bootstrap: str, unique_topic_prefix: str) -> None:
    async with operator_api(kafka_bootstrap, unique_topic_prefix, scope_of=SCOPES.get) as running:
        status, body, _ = await running.call("POST", ACTIONS.format("nope"), {"kind": "acknowledge"}, token="alice")
        assert (status, body["type"]) == (404, "urn:aiops:problem:not-found")
        status, body, _ = await running.call("POST", ACTIONS.format("inc-1"), {"kind": "assign", "colour": "red"},
                                             token="alice")
        assert status == 422
        assert [error["field"] for error in body["errors"]] == ["colour"]
        status, body, _ = await running.call("POST", ACTIONS.format("inc-1"), {"kind": "assign"}, token="alice")
        assert status == 422
        assert "assign needs owner or team" in body["detail"]
        status, body, _ = await running.call("POST", ACTIONS.format("inc-1"), {"kind": "merge", "into": "ghost"},
                                             token="alice")
        assert (status, body["errors"][0]["field"]) == (422, "into")
        status, body, _ = await running.call("POST", ACTIONS.format("inc-1"), raw=b"{oops", token="alice")
        assert (status, body["type"]) == (400, "urn:aiops:problem:bad-request")
        running.api.scope_of = None
        status, body, _ = await running.call("POST", ACTIONS.format("inc-1"), {"kind": "acknowledge"}, token="alice")
        assert (status, body["type"]) == (503, "urn:aiops:problem:store-unavailable")
        assert [entry.outcome for entry in running.audit.entries] == [
            "not_found", "invalid", "invalid", "invalid", "invalid", "unavailable"]
    assert await read_records(kafka_bootstrap, running.config.topics.actions, 1, within_seconds=2) == []


async def test_no_broker_acknowledgement_gives_503_with_retry_after(unique_topic_prefix: str) -> None:
    async with EmbeddedBroker() as broker:
        settings = {"publish_timeout_seconds": 1.0, "retry_after_seconds": 3}
        async with operator_api(broker.bootstrap, unique_topic_prefix, settings, scope_of=SCOPES.get) as running:
            path = ACTIONS.format("inc-1")
            assert (await running.call("POST", path, {"kind": "acknowledge"}, token="alice"))[0] == 202
            os.kill(broker.pid, signal.SIGSTOP)  # the broker stops answering, as on a network partition
            try:
                status, body, headers = await running.call("POST", path, {"kind": "resolve"}, token="alice")
                silence = {"matchers": ["service=checkout"], "comment": "c", "duration_seconds": 60}
                silence_status, _, silence_headers = await running.call("POST", "/api/v1/silences", silence,
                                                                        token="alice")
            finally:
                os.kill(broker.pid, signal.SIGCONT)
            assert (status, body["type"], headers["Retry-After"]) == (503, "urn:aiops:problem:unavailable", "3")
            assert (silence_status, silence_headers["Retry-After"]) == (503, "3")
            assert running.audit.entries[-2].outcome == "unavailable"


async def test_without_tokens_a_loopback_listener_lets_everyone_act(
        kafka_bootstrap: str, unique_topic_prefix: str) -> None:
    async with operator_api(kafka_bootstrap, unique_topic_prefix, scope_of=SCOPES.get, with_tokens=False) as running:
        status, _, _ = await running.call("POST", ACTIONS.format("inc-1"), {"kind": "acknowledge"})
        assert status == 202
        assert (running.audit.entries[-1].actor, running.audit.entries[-1].role) == ("anonymous", "admin")
