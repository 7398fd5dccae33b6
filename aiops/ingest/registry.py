"""Which translator serves an integration, and on which paths under ``/ingest/<name>``.

`ROUTES` lists, per integration kind, the POST paths its translator serves (relative to the integration's
prefix; ``""`` is the prefix itself). `translator_for` builds the translator of a configured integration.
Pure: no I/O; the HTTP front (`aiops.runtime.ingest_http`) mounts the routes.
"""

from __future__ import annotations

from aiops.ingest.alertmanager import AlertmanagerApiTranslator, AlertmanagerWebhookTranslator
from aiops.ingest.base import Translator
from aiops.ingest.config import IntegrationConfig, IntegrationKind
from aiops.ingest.otlp import OtlpTranslator
from aiops.ingest.pagerduty import PagerDutyTranslator
from aiops.ingest.webhook import WebhookTranslator

ROUTES: dict[IntegrationKind, tuple[str, ...]] = {
    "alertmanager": ("/api/v2/alerts",),
    "alertmanager_webhook": ("",),
    "pagerduty": ("/v2/enqueue", "/v2/change/enqueue"),
    "otlp": ("/v1/logs", "/v1/metrics"),
    "webhook": ("",),
}
"""POST paths per kind, relative to ``/ingest/<name>``."""


def translator_for(name: str, config: IntegrationConfig) -> Translator:
    """The translator of integration `name` (its events' `source` is `config.source` or `name`)."""
    kinds: dict[str, type[AlertmanagerApiTranslator | AlertmanagerWebhookTranslator | PagerDutyTranslator
                         | OtlpTranslator | WebhookTranslator]] = {
        "alertmanager": AlertmanagerApiTranslator,
        "alertmanager_webhook": AlertmanagerWebhookTranslator,
        "pagerduty": PagerDutyTranslator,
        "otlp": OtlpTranslator,
        "webhook": WebhookTranslator,
    }
    return kinds[config.kind](name, config)
