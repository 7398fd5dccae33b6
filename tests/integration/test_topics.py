"""ensure_topics against the embedded broker: creation with configs, idempotency, validation."""

from __future__ import annotations

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from aiops.errors import BrokerUnavailableError, ConfigError
from aiops.runtime.broker import free_loopback_port
from aiops.runtime.topics import TopicSpec, ensure_topics

pytestmark = pytest.mark.integration


async def _describe(bootstrap: str, names: list[str]) -> tuple[dict[str, int], dict[str, dict[str, str]]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        partitions = {d["topic"]: len(d["partitions"]) for d in await admin.describe_topics(names)}
        responses = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
        )
    finally:
        await admin.close()
    configs = {
        resource[3]: {entry[0]: entry[1] for entry in resource[4]}
        for response in responses
        for resource in response.resources
    }
    return partitions, configs


async def test_creates_with_partitions_and_configs_then_is_idempotent(
    kafka_bootstrap: str, unique_topic_prefix: str
) -> None:
    events = TopicSpec(f"{unique_topic_prefix}events", partitions=4)
    state = TopicSpec(f"{unique_topic_prefix}state", partitions=2, configs={"cleanup.policy": "compact"})
    assert await ensure_topics(kafka_bootstrap, [events, state]) == {events.name: True, state.name: True}
    extra = TopicSpec(f"{unique_topic_prefix}extra")
    again = await ensure_topics(kafka_bootstrap, [events, state, extra])
    assert again == {events.name: False, state.name: False, extra.name: True}
    partitions, configs = await _describe(kafka_bootstrap, [events.name, state.name])
    assert partitions == {events.name: 4, state.name: 2}
    assert configs[state.name].get("cleanup.policy") == "compact"


async def test_existing_topic_with_other_partition_count_is_left_alone(
    kafka_bootstrap: str, unique_topic_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    name = f"{unique_topic_prefix}t"
    await ensure_topics(kafka_bootstrap, [TopicSpec(name, partitions=2)])
    assert await ensure_topics(kafka_bootstrap, [TopicSpec(name, partitions=5)]) == {name: False}
    assert "exists with 2 partitions" in caplog.text
    partitions, _ = await _describe(kafka_bootstrap, [name])
    assert partitions == {name: 2}


def test_spec_validation() -> None:
    with pytest.raises(ConfigError):
        TopicSpec("x", partitions=0)  # tansu would accept this, so aiops refuses it
    with pytest.raises(ConfigError):
        TopicSpec("")


async def test_empty_specs_need_no_broker() -> None:
    assert await ensure_topics("127.0.0.1:1", []) == {}


async def test_unreachable_broker_is_broker_unavailable() -> None:
    bootstrap = f"127.0.0.1:{free_loopback_port()}"
    with pytest.raises(BrokerUnavailableError):
        await ensure_topics(bootstrap, [TopicSpec("x")], request_timeout_ms=2000)
