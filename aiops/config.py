"""Strict, validated configuration: YAML file plus ``AIOPS_*`` environment overrides.

Every section is a frozen pydantic model with ``extra="forbid"``, so a misspelt key is an error that
names the key and its place in the file. Environment variables override file values: ``AIOPS_`` followed
by the key path joined with ``__``, e.g. ``AIOPS_KAFKA__BOOTSTRAP=broker:9092`` or
``AIOPS_CORRELATION__WINDOW_SECONDS=600``; values are parsed as YAML scalars. This module loads and
validates only; it does not start anything.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from aiops.errors import ConfigError

ENV_PREFIX = "AIOPS_"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class KafkaConfig(_Strict):
    bootstrap: str | None = Field(None, description="host:port[,host:port]; null starts the embedded broker.")
    client_id: str = "aiops"
    request_timeout_ms: int = Field(30000, ge=1000)


class TopicsConfig(_Strict):
    events: str = "aiops.events"
    signals: str = "aiops.signals"
    incidents: str = "aiops.incidents"
    deadletter: str = "aiops.deadletter"
    events_partitions: int = Field(4, ge=1)
    signals_partitions: int = Field(2, ge=1)
    incidents_partitions: int = Field(2, ge=1)
    replication_factor: int = Field(1, ge=1)


class IngestConfig(_Strict):
    consumer_group: str = "aiops-detect"
    max_message_bytes: int = Field(65536, ge=256, description="Larger messages are dead-lettered.")
    batch_max_records: int = Field(5000, ge=1)
    batch_timeout_ms: int = Field(50, ge=1)
    watermark_interval_seconds: float = Field(1.0, gt=0, description="Wall time between watermark sends.")
    idle_partition_seconds: float = Field(
        10.0, gt=0, description="An input partition silent this long (wall time) stops holding back event time."
    )


class MetricDetectorConfig(_Strict):
    threshold: float = Field(0.9999, gt=0, lt=1, description="Calibrated score (1 - tail p) that flags.")
    warmup_points: int = Field(30, ge=2)
    alpha: float = Field(0.05, gt=0, lt=1, description="EWMA smoothing factor of the baseline.")
    end_after_normal_points: int = Field(3, ge=1, description="Normal points that close an episode.")
    refresh_seconds: float = Field(
        60.0, gt=0, description="An open episode re-sends `firing` this often (event time), so correlation can "
        "resolve members whose detector state was lost (see correlation.stale_seconds)."
    )
    max_series: int = Field(200_000, ge=1, description="Live series cap; idle ones are evicted first.")


class LogDetectorConfig(_Strict):
    window_seconds: float = Field(60.0, gt=0)
    min_errors: int = Field(5, ge=1, description="Error lines per window needed to flag a burst.")
    ratio_over_baseline: float = Field(3.0, gt=1, description="Burst = errors above this x baseline.")
    error_level: str = Field("error", description="Lines at or above this level count as errors.")
    max_samples: int = Field(5, ge=0, le=50)


class DetectionConfig(_Strict):
    metric: MetricDetectorConfig = MetricDetectorConfig()
    logs: LogDetectorConfig = LogDetectorConfig()


class CorrelationConfig(_Strict):
    scope: Literal["component", "service", "global"] = Field(
        "component",
        description="Partition key of correlation: the service's connected component in the dependency "
        "graph (topology grouping stays inside one partition), the service alone, or one global scope.",
    )
    window_seconds: float = Field(300.0, gt=0, description="Members this close in event time may group.")
    topology_hops: int = Field(1, ge=0, description="Services this many depends_on hops apart group.")
    group_wait_seconds: float = Field(0.0, ge=0, description="Hold a new incident this long before open.")
    group_interval_seconds: float = Field(
        30.0, ge=0, description="At most one `updated` notification per incident per this much event time."
    )
    min_active_members: int = Field(1, ge=1)
    resolve_quiet_seconds: float = Field(120.0, ge=0, description="Quiet time after last resolve to close.")
    stale_seconds: float = Field(
        600.0, gt=0, description="Firing members not refreshed for this long (event time) are resolved as stale."
    )
    allowed_lateness_seconds: float = Field(30.0, ge=0)


class ServiceConfig(_Strict):
    owner: str | None = None
    runbook: str | None = None
    tier: int = Field(3, ge=1, le=5, description="1 = most critical.")
    depends_on: list[str] = Field(default_factory=list)


class WebhookConfig(_Strict):
    name: str = "webhook"
    url: str
    timeout_seconds: float = Field(5.0, gt=0)
    deadline_seconds: float = Field(60.0, gt=0, description="Give up (dead-letter) after this long.")
    initial_backoff_seconds: float = Field(0.2, gt=0)
    max_backoff_seconds: float = Field(10.0, gt=0)
    headers: dict[str, str] = Field(default_factory=dict)


class HttpConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535, description="0 picks a free port.")


class FaustConfig(_Strict):
    app_id: str = "aiops"
    store: str = "memory://"
    session_timeout_seconds: float = 6.0
    heartbeat_interval_seconds: float = 1.0
    rebalance_timeout_seconds: float = 6.0
    commit_interval_seconds: float = 1.0


class LoggingConfig(_Strict):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_format: bool = Field(True, alias="json")


class AiopsConfig(_Strict):
    kafka: KafkaConfig = KafkaConfig()
    topics: TopicsConfig = TopicsConfig()
    ingest: IngestConfig = IngestConfig()
    detection: DetectionConfig = DetectionConfig()
    correlation: CorrelationConfig = CorrelationConfig()
    services: dict[str, ServiceConfig] = Field(default_factory=dict)
    webhooks: list[WebhookConfig] = Field(default_factory=list)
    http: HttpConfig = HttpConfig()
    faust: FaustConfig = FaustConfig()
    logging: LoggingConfig = LoggingConfig()

    @model_validator(mode="after")
    def _dependencies_exist(self) -> AiopsConfig:
        for name, service in self.services.items():
            unknown = [dep for dep in service.depends_on if dep not in self.services]
            if unknown:
                raise ValueError(f"services.{name}.depends_on names unknown services: {unknown}")
        return self


def _apply_env(data: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    for key, raw in sorted(environ.items()):
        if not key.startswith(ENV_PREFIX) or key == "AIOPS_CONFIG":
            continue
        path = key[len(ENV_PREFIX):].lower().split("__")
        node = data
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"{key}: {'.'.join(path[:-1])} is not a section")
            node = child
        node[path[-1]] = yaml.safe_load(raw) if raw else None
    return data


def _format(error: ValidationError, origin: str) -> str:
    lines = [f"invalid configuration in {origin}:"]
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "<root>"
        message = "unknown key (not allowed)" if item["type"] == "extra_forbidden" else item["msg"]
        lines.append(f"  {where}: {message}")
    return "\n".join(lines)


def load_config(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> AiopsConfig:
    """Load YAML (optional) plus environment overrides; raise `ConfigError` with readable messages."""
    environ = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    origin = "defaults"
    if path is not None:
        origin = str(path)
        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except OSError as error:
            raise ConfigError(f"cannot read {path}: {error.strerror}") from None
        except yaml.YAMLError as error:
            raise ConfigError(f"{path} is not valid YAML: {error}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"{path}: top level must be a mapping, got {type(loaded).__name__}")
        data = loaded or {}
    data = _apply_env(data, environ)
    try:
        return AiopsConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_format(error, origin)) from None
