"""An in-process operator API (`OperatorApi` on an `HttpEndpoint`) on the test broker, and a small client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from aiokafka import AIOKafkaConsumer
from prometheus_client import CollectorRegistry

from aiops.config import AiopsConfig
from aiops.operator.audit import MemoryAuditSink
from aiops.runtime.api_http import OperatorApi, ScopeLookup
from aiops.runtime.http_server import HttpEndpoint
from aiops.runtime.topics import TopicSpec, ensure_topics
from support.worker import isolated_config

TOKENS = {"alice": ("alice-s3cret-token", "responder"), "victor": ("victor-s3cret-token", "viewer"),
          "root": ("root-s3cret-token", "admin")}


@dataclass
class RunningApi:
    url: str
    api: OperatorApi
    config: AiopsConfig
    audit: MemoryAuditSink

    async def call(self, method: str, path: str, body: Any = None, token: str | None = None,
                   raw: bytes | None = None) -> tuple[int, Any, Mapping[str, str]]:
        """(status, decoded JSON body or None, headers) of one request (`token`: a name of `TOKENS`)."""
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {TOKENS[token][0]}"
        data = raw if raw is not None else (orjson.dumps(body) if body is not None else None)
        async with aiohttp.ClientSession() as session, session.request(
                method, self.url + path, data=data, headers=headers) as response:
            content = await response.read()
            decoded = orjson.loads(content) if content and "json" in response.content_type else None
            return response.status, decoded, dict(response.headers)


@asynccontextmanager
async def operator_api(bootstrap: str, prefix: str, api: Mapping[str, Any] | None = None, *,
                       scope_of: ScopeLookup | None = None, with_tokens: bool = True,
                       extra: Mapping[str, Any] | None = None) -> AsyncIterator[RunningApi]:
    """A started API whose actions go to `<prefix>actions` (2 partitions, like the signals) and silences to
    `<prefix>silences`; tokens `TOKENS` (from environment variables) unless `with_tokens` is False."""
    settings: dict[str, Any] = dict(api or {})
    environ: dict[str, str] = {}
    if with_tokens:
        settings["tokens"] = {name: {"token": f"${{ENV:TOKEN_{name.upper()}}}", "role": role}
                              for name, (_, role) in TOKENS.items()}
        environ = {f"TOKEN_{name.upper()}": secret for name, (secret, _) in TOKENS.items()}
    data = isolated_config(prefix, bootstrap, {"api": settings, "topics": {"actions": f"{prefix}actions"},
                                               **(extra or {})})
    config = AiopsConfig.model_validate(data)
    await ensure_topics(bootstrap, [TopicSpec(config.topics.actions, config.topics.signals_partitions, 1),
                                    TopicSpec(config.topics.signals, config.topics.signals_partitions, 1)])
    audit = MemoryAuditSink()
    front = OperatorApi(config, bootstrap, scope_of=scope_of, audit=audit, environ=environ)
    endpoint = HttpEndpoint("127.0.0.1", 0, CollectorRegistry(), lambda: {"ok": True}, installers=[front.install])
    await front.start()
    await endpoint.start()
    try:
        yield RunningApi(endpoint.url, front, config, audit)
    finally:
        await endpoint.stop()
        await front.stop()


async def read_records(bootstrap: str, topic: str, count: int, within_seconds: float = 20.0
                       ) -> list[tuple[int, bytes | None, bytes | None]]:
    """(partition, key, value) of the first `count` records of `topic` (fewer when the time is up)."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    found: list[tuple[int, bytes | None, bytes | None]] = []
    try:
        async with asyncio.timeout(within_seconds):
            while len(found) < count:
                batch = await consumer.getmany(timeout_ms=300)
                found.extend((r.partition, r.key, r.value) for records in batch.values() for r in records)
    except TimeoutError:
        pass
    finally:
        await consumer.stop()
    return found
