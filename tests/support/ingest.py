"""An in-process HTTP ingest front (`IngestFront` on an `HttpEndpoint`) on the test broker, for HTTP tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry

from aiops.config import AiopsConfig
from aiops.metrics import AiopsMetrics
from aiops.runtime.http_server import HttpEndpoint
from aiops.runtime.ingest_http import IngestFront
from aiops.runtime.topics import TopicSpec, ensure_topics
from support.worker import isolated_config


@dataclass
class RunningFront:
    url: str
    front: IngestFront
    config: AiopsConfig
    registry: CollectorRegistry

    def counted(self, integration: str, outcome: str) -> float:
        value = self.registry.get_sample_value(
            "aiops_ingest_requests_total", {"integration": integration, "outcome": outcome})
        return value or 0.0


@asynccontextmanager
async def ingest_front(bootstrap: str, prefix: str, http: Mapping[str, Any] | None = None,
                       environ: Mapping[str, str] | None = None) -> AsyncIterator[RunningFront]:
    """A started front whose events go to `<prefix>events` (2 partitions) and refusals to `<prefix>deadletter`."""
    data = isolated_config(prefix, bootstrap, {"ingest": {"http": dict(http or {})}})
    config = AiopsConfig.model_validate(data)
    await ensure_topics(bootstrap, [TopicSpec(config.topics.events, 2, 1), TopicSpec(config.topics.deadletter, 1, 1)])
    registry = CollectorRegistry()
    front = IngestFront(config, bootstrap, AiopsMetrics(registry), environ=environ or {})
    endpoint = HttpEndpoint("127.0.0.1", 0, registry, lambda: {"ok": True}, installers=[front.install],
                            client_max_size=config.ingest.http.max_body_bytes)
    await front.start()
    await endpoint.start()
    try:
        yield RunningFront(endpoint.url, front, config, registry)
    finally:
        await endpoint.stop()
        await front.stop()
