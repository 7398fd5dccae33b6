"""Idempotent topic creation through aiokafka's admin client.

`ensure_topics` creates each `TopicSpec` that does not exist yet (partitions, replication factor, topic
configs such as ``cleanup.policy=compact``) and treats "already exists" as success, so every worker may call
it at start-up. It does not alter existing topics (partition count or configs of a topic that already
exists are left alone, only logged when they differ in partition count) and does not delete anything.
Note: tansu accepts ``cleanup.policy=compact`` but does not enforce compaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code

from aiops.errors import BrokerUnavailableError, ConfigError

log = logging.getLogger(__name__)

_NO_ERROR = 0


@dataclass(frozen=True)
class TopicSpec:
    """What a topic should look like when aiops creates it."""

    name: str
    partitions: int = 1
    replication_factor: int = 1
    configs: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # tansu itself accepts 0 partitions, so validate here rather than trusting the broker.
        if not self.name:
            raise ConfigError("topic name must not be empty")
        if self.partitions < 1 or self.replication_factor < 1:
            raise ConfigError(f"topic {self.name}: partitions and replication_factor must be >= 1")

    def to_new_topic(self) -> NewTopic:
        return NewTopic(
            self.name, self.partitions, self.replication_factor, topic_configs=dict(self.configs)
        )


async def ensure_topics(
    bootstrap: str,
    specs: Iterable[TopicSpec],
    *,
    client_id: str = "aiops-admin",
    request_timeout_ms: int = 30000,
) -> dict[str, bool]:
    """Create the topics in `specs` that are absent; return ``{name: created_now}``.

    Raises `BrokerUnavailableError` when the broker cannot be reached and `ConfigError` when the broker
    refuses a spec (bad partition count, unknown config key, ...).
    """
    wanted = {spec.name: spec for spec in specs}
    if not wanted:
        return {}
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, client_id=client_id, request_timeout_ms=request_timeout_ms
    )
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        missing = [spec for name, spec in wanted.items() if name not in existing]
        created = await _create(admin, missing) if missing else set()
        await _warn_on_partition_mismatch(admin, [wanted[name] for name in wanted if name in existing])
    except (KafkaError, OSError, TimeoutError) as error:
        raise BrokerUnavailableError(f"cannot ensure topics on {bootstrap}: {error!r}") from error
    finally:
        await admin.close()
    return {name: name in created for name in wanted}


async def _create(admin: AIOKafkaAdminClient, specs: list[TopicSpec]) -> set[str]:
    """Send one CreateTopics request; return the names created now (already-existing is not an error)."""
    response = await admin.create_topics([spec.to_new_topic() for spec in specs])
    created: set[str] = set()
    refused: list[str] = []
    for entry in response.topic_errors:
        name, code, message = entry[0], entry[1], entry[2] if len(entry) > 2 else None
        if code == _NO_ERROR:
            created.add(name)
            log.info("created topic %s", name)
        elif code == TopicAlreadyExistsError.errno:
            log.debug("topic %s already exists (created concurrently)", name)
        else:
            refused.append(f"{name}: {for_code(code).__name__} {message or ''}".rstrip())
    if refused:
        raise ConfigError("broker refused topic creation: " + "; ".join(refused))
    return created


async def _warn_on_partition_mismatch(admin: AIOKafkaAdminClient, specs: list[TopicSpec]) -> None:
    if not specs:
        return
    for description in await admin.describe_topics([spec.name for spec in specs]):
        spec = next((s for s in specs if s.name == description.get("topic")), None)
        actual = len(description.get("partitions", []))
        if spec is not None and actual and actual != spec.partitions:
            log.warning(
                "topic %s exists with %d partitions, config asks for %d (left unchanged)",
                spec.name,
                actual,
                spec.partitions,
            )
