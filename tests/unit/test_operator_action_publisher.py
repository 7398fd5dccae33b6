"""The operator API publishes actions with its own producer: its client id, its metrics, not HTTP ingest's.

A fake producer stands in for aiokafka's (no broker): an acknowledged action counts as published with its
latency observed, a broker that does not acknowledge in time or refuses is `BrokerUnavailableError` (the
route's 503) counted by reason.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka.errors import KafkaTimeoutError
from prometheus_client import CollectorRegistry

from aiops.config import AiopsConfig
from aiops.errors import BrokerUnavailableError
from aiops.runtime.api_actions import ActionPublisher
from aiops.runtime.api_http import OperatorApi


class FakeProducer:
    def __init__(self, outcome: str) -> None:
        self.outcome = outcome
        self.sent: list[tuple[str, bytes, bytes]] = []

    async def send(self, topic: str, value: bytes, key: bytes) -> asyncio.Future[Any]:
        self.sent.append((topic, key, value))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self.outcome == "ack":
            future.set_result(None)
        elif self.outcome == "refused":
            future.set_exception(KafkaTimeoutError())
        return future  # "silent": never acknowledged


def _sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


def test_the_api_names_its_own_client_and_registers_its_own_metrics() -> None:
    registry = CollectorRegistry()
    config = AiopsConfig.model_validate({"kafka": {"client_id": "shop"}})
    api = OperatorApi(config, "127.0.0.1:1", registry=registry)
    assert isinstance(api.actions, ActionPublisher)
    assert api.actions.client_id == "shop-api-actions"
    assert "ingest" not in api.actions.client_id
    assert registry.get_sample_value("aiops_api_actions_published_total") == 0.0


@pytest.mark.parametrize(("outcome", "reason"), [("silent", "timeout"), ("refused", "broker")])
async def test_unacknowledged_actions_are_unavailable_and_counted(outcome: str, reason: str) -> None:
    registry = CollectorRegistry()
    api = OperatorApi(AiopsConfig(), "127.0.0.1:1", registry=registry)
    publisher = api.actions
    publisher.ack_seconds = 0.2
    publisher._producer = FakeProducer(outcome)  # type: ignore[assignment]
    with pytest.raises(BrokerUnavailableError):
        await publisher.write([(b"scope", b"{}")])
    assert _sample(registry, "aiops_api_actions_failed_total", reason=reason) == 1.0
    assert _sample(registry, "aiops_api_actions_published_total") == 0.0


async def test_an_acknowledged_action_is_published_on_the_actions_topic_and_counted() -> None:
    registry = CollectorRegistry()
    config = AiopsConfig()
    api = OperatorApi(config, "127.0.0.1:1", registry=registry)
    producer = FakeProducer("ack")
    api.actions._producer = producer  # type: ignore[assignment]
    await api.actions.write([(b"scope", b'{"id": "a"}')])
    assert producer.sent == [(config.topics.actions, b"scope", b'{"id": "a"}')]
    assert _sample(registry, "aiops_api_actions_published_total") == 1.0
    assert _sample(registry, "aiops_api_publish_seconds_count") == 1.0
