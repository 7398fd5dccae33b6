"""Strict, validated configuration: YAML file plus ``AIOPS_*`` environment overrides.

Every section is a frozen pydantic model with ``extra="forbid"``, so a misspelt key is an error that
names the key and its place in the file. Environment variables override file values: ``AIOPS_`` followed
by the key path joined with ``__``, e.g. ``AIOPS_KAFKA__BOOTSTRAP=broker:9092`` or
``AIOPS_CORRELATION__WINDOW_SECONDS=600``; values are parsed as YAML scalars. So every ``AIOPS_*`` variable
is an override: secrets are read from variables with other names or from files (``${ENV:NAME}``,
``file:/path``; see `aiops.config_secrets`). This module loads and validates only; it does not start anything.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, model_validator

from aiops.config_base import StrictModel
from aiops.correlation.config import CorrelationConfig, ServiceConfig
from aiops.correlation.suppression.config import SuppressionConfig
from aiops.detectors.config import DetectionConfig, LogDetectorConfig, MetricDetectorConfig
from aiops.errors import ConfigError
from aiops.ingest.config import HttpIngestConfig
from aiops.operator.config import ApiConfig
from aiops.sinks.config import DeliveryConfig
from aiops.store.config import StoreConfig

__all__ = [
    "AiopsConfig", "CorrelationConfig", "DetectionConfig", "LogDetectorConfig", "MetricDetectorConfig",
    "ServiceConfig", "load_config",
]

ENV_PREFIX = "AIOPS_"


DEFAULT_EMBEDDED_PORT = 9092


class KafkaConfig(StrictModel):
    bootstrap: str | None = Field(None, description="host:port[,host:port]; null starts the embedded broker.")
    embedded_port: int = Field(
        DEFAULT_EMBEDDED_PORT, ge=0, le=65535,
        description="Port of the embedded broker on 127.0.0.1 (used when bootstrap is null); 0 picks a free port. "
                    "`aiops run` stops with an error naming this key when the port is taken.")
    client_id: str = "aiops"
    request_timeout_ms: int = Field(
        30000, ge=1000, description="Kafka request timeout; the CLI's clients also give up on an unreachable "
                                    "broker after this long.")


class TopicsConfig(StrictModel):
    events: str = "aiops.events"
    signals: str = "aiops.signals"
    incidents: str = "aiops.incidents"
    deadletter: str = "aiops.deadletter"
    decisions: str = Field("aiops.decisions", description="Correlation decision ledger (key = incident id).")
    actions: str = Field(
        "aiops.actions", description="Operator actions (aiops.actions.Action), keyed by the incident's "
        "correlation scope and partitioned like `signals` (created with signals_partitions).")
    detector_state: str = Field(
        "aiops.detector-state", description="Compacted topic of detector snapshots, partitioned like `events`."
    )
    correlation_state: str = Field(
        "aiops.correlation-state",
        description="Compacted topic of correlation state (incidents, members, scope clocks), partitioned like "
        "`signals`; written once per batch.")
    events_partitions: int = Field(4, ge=1)
    signals_partitions: int = Field(2, ge=1)
    incidents_partitions: int = Field(2, ge=1)
    replication_factor: int = Field(1, ge=1)


class RawLogTopicConfig(StrictModel):
    """A topic of plain text log lines (one line per message) that all belong to one service/host."""

    topic: str = Field(min_length=1)
    service: str = Field(min_length=1)
    host: str = ""
    source: str = "raw"


class IngestConfig(StrictModel):
    http: HttpIngestConfig = Field(
        default_factory=HttpIngestConfig, description="HTTP ingest (Alertmanager, PagerDuty, OTLP, webhooks) on "
        "the `http` listener; see docs/ingest.md.")
    consumer_group: str = "aiops-detect"
    raw_logs: list[RawLogTopicConfig] = Field(
        default_factory=list, description="Plain-text log topics read beside `topics.events`."
    )
    max_message_bytes: int = Field(65536, ge=256, description="Larger messages are dead-lettered (`oversized`).")
    max_future_seconds: float | None = Field(
        300.0, gt=0, description="An event whose ts is more than this ahead of its record's broker timestamp is "
        "dead-lettered (`implausible_time`): it would drag event time ahead and make every other event late. "
        "null: no bound (the contract's [1970, 2200) still holds).")
    max_past_seconds: float | None = Field(
        None, gt=0, description="An event whose ts is more than this before its record's broker timestamp is "
        "dead-lettered (`implausible_time`). null (default): no bound, so history can be backfilled; an old event "
        "never moves event time.")
    publish_give_up_seconds: float = Field(
        120.0, gt=0, description="How long the detection worker retries outputs the broker fails to acknowledge "
        "(retryable errors, with backoff) before it stops with an error (exit status 1) instead of wedging.")
    batch_max_records: int = Field(5000, ge=1)
    batch_timeout_ms: int = Field(50, ge=1)
    watermark_interval_seconds: float = Field(
        1.0, gt=0, description="While every input partition is idle, wall time between sends of the "
        "processing-time fallback's watermarks (one per whole second of event time)."
    )
    idle_partition_seconds: float = Field(
        10.0, gt=0, description="An input partition silent this long (wall time, counted from its last record, its "
        "assignment or the end of a pause of the whole input) stops holding back the others; once every partition "
        "is idle, event time advances with wall time."
    )


class HttpConfig(StrictModel):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535, description="0 picks a free port.")


class WorkersConfig(StrictModel):
    """Consumer-group settings shared by the detection, correlation and delivery workers."""

    app_id: str = Field("aiops", description="Prefixes the consumer groups and the correlation-state topic.")
    session_timeout_seconds: float = 6.0
    heartbeat_interval_seconds: float = 1.0
    rebalance_timeout_seconds: float = 6.0
    stall_seconds: float = Field(
        60.0, ge=0, description="A stage (detection, correlation, a delivery receiver) with records waiting on a "
        "partition and no progress for this long makes /healthz answer 503 and aiops_stage_healthy 0 (an "
        "orchestrator's liveness probe then restarts the worker); 0 disables the check.")
    progress_poll_seconds: float = Field(5.0, gt=0, description="How often each stage polls the end offsets of "
                                         "its input partitions (for that check and the lag gauges).")


class LoggingConfig(StrictModel):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_format: bool | Literal["auto"] = Field(
        "auto", alias="json", description="true: one JSON object per log line; false: plain text; auto: JSON "
        "unless stderr is a terminal (people at a console read plain lines, log shippers get JSON).")
    library_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "WARNING", description="Level for the aiokafka and aiohttp loggers (INFO shows rebalances and "
        "group joins; DEBUG every fetch). Never below `level`.")


class AiopsConfig(StrictModel):
    kafka: KafkaConfig = KafkaConfig()
    topics: TopicsConfig = TopicsConfig()
    ingest: IngestConfig = IngestConfig()
    detection: DetectionConfig = DetectionConfig()
    correlation: CorrelationConfig = CorrelationConfig()
    suppression: SuppressionConfig = SuppressionConfig()
    services: dict[str, ServiceConfig] = Field(default_factory=dict)
    delivery: DeliveryConfig = DeliveryConfig()
    store: StoreConfig = Field(default_factory=StoreConfig, description="Incident store (read model) and its "
                               "projector; see docs/ARCHITECTURE.md, \"Incident store\".")
    http: HttpConfig = HttpConfig()
    api: ApiConfig = Field(default_factory=ApiConfig, description="Operator API on the `http` listener "
                           "(docs/api.md).")
    workers: WorkersConfig = WorkersConfig()
    logging: LoggingConfig = LoggingConfig()

    @model_validator(mode="after")
    def _dependencies_exist(self) -> AiopsConfig:
        for name, service in self.services.items():
            unknown = [dep for dep in service.depends_on if dep not in self.services]
            if unknown:
                raise ValueError(f"services.{name}.depends_on names unknown services: {unknown}")
        return self


def _apply_env(data: dict[str, Any], environ: Mapping[str, str]) -> dict[str, str]:
    """Apply the ``AIOPS_*`` overrides to `data` in place; return {dotted key path: variable name}."""
    applied: dict[str, str] = {}
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
        try:
            node[path[-1]] = yaml.safe_load(raw) if raw else None
        except yaml.YAMLError as error:  # the value is not echoed: it may be a secret
            raise ConfigError(f"{key}: its value is not valid YAML: {_yaml_problem(error)}") from None
        applied[".".join(path)] = key
    return applied


def _env_hint(where: str, unknown: bool, from_env: Mapping[str, str]) -> str:
    """Which ``AIOPS_*`` variable set `where` (if one did), and what to do about an unknown one."""
    variable = next((name for path, name in from_env.items() if where == path or where.startswith(path + ".")),
                    None)
    if variable is None:
        return ""
    if unknown:
        return (f" (set by environment variable {variable}: every AIOPS_* variable overrides a config key; "
                "give secrets variables without the AIOPS_ prefix and refer to them as ${ENV:NAME})")
    return f" (set by environment variable {variable})"


def _format(error: ValidationError, origin: str, from_env: Mapping[str, str]) -> str:
    """Every problem on one line (the CLI prints one line per mistake), each naming its key."""
    problems = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "<root>"
        unknown = item["type"] == "extra_forbidden"
        message = "unknown key (not allowed)" if unknown else item["msg"]
        problems.append(f"{where}: {message}{_env_hint(where, unknown, from_env)}")
    return f"invalid configuration in {origin}: {'; '.join(problems)}"


def _yaml_problem(error: yaml.YAMLError) -> str:
    """What is wrong and where, on one line and without quoting the text (it may hold a secret)."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        return f"{error.problem} (line {mark.line + 1}, column {mark.column + 1})"
    return type(error).__name__


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
            raise ConfigError(f"{path} is not valid YAML: {_yaml_problem(error)}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"{path}: top level must be a mapping, got {type(loaded).__name__}")
        data = loaded or {}
    from_env = _apply_env(data, environ)
    try:
        return AiopsConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_format(error, origin, from_env)) from None
