"""Regression: `aiops run` builds its runners before `asyncio.run`, so the HTTP ingest front must be
constructible with no event loop (aiokafka binds a producer to the running loop when it is created)."""

from __future__ import annotations

import threading

from prometheus_client import CollectorRegistry

from aiops.config import AiopsConfig
from aiops.metrics import AiopsMetrics
from aiops.runtime.ingest_http import IngestFront


def test_the_ingest_front_is_built_without_an_event_loop() -> None:
    errors: list[BaseException] = []
    built: list[IngestFront] = []

    def build() -> None:  # a fresh thread has no event loop, as the service's main thread after asyncio.run
        try:
            built.append(IngestFront(AiopsConfig(), "127.0.0.1:1", AiopsMetrics(CollectorRegistry())))
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=build)
    thread.start()
    thread.join(10)
    assert errors == []
    assert sorted(built[0].integrations) == ["alertmanager", "alertmanager-webhook", "otlp", "pagerduty"]
