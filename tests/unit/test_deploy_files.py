"""docker-compose.yml, the Dockerfile and deploy/prometheus.yml agree with each other and with the config.

Docker cannot run in the test environment, so these checks read the files: KRaft listeners, worker
environment (bootstrap, HTTP bind), the mounted config (its secrets and ingest integrations included), and
Prometheus scraping every worker's /metrics on the configured HTTP port and sending its alerts to each.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from aiops.config import AiopsConfig, load_config
from aiops.config_secrets import check_delivery
from aiops.runtime.ingest_http import build_integrations

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
PROMETHEUS = ROOT / "deploy" / "prometheus.yml"
DOCKERFILE = ROOT / "Dockerfile"
CONFIG_IN_CONTAINER = "/etc/aiops/aiops.yaml"


def _yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path} must be a YAML mapping"
    return data


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    services: dict[str, Any] = _yaml(COMPOSE)["services"]
    return services


@pytest.fixture(scope="module")
def workers(services: dict[str, Any]) -> dict[str, Any]:
    return {name: spec for name, spec in services.items() if name.startswith("aiops")}


def _env(spec: dict[str, Any]) -> dict[str, str]:
    environment = spec.get("environment", {})
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {key: str(value) for key, value in environment.items()}


def _listeners(value: str) -> dict[str, str]:
    """'NAME://host:port,...' -> {NAME: 'host:port'}."""
    return dict(item.split("://", 1) for item in value.split(","))


def test_kafka_runs_single_node_kraft(services: dict[str, Any]) -> None:
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka")
    env = _env(kafka)
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    node = env["KAFKA_NODE_ID"]
    controller = env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    listeners = _listeners(env["KAFKA_LISTENERS"])
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{node}@kafka:{listeners[controller].rsplit(':', 1)[1]}"
    protocols = dict(item.split(":") for item in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    assert set(listeners) <= set(protocols)
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"
    assert "healthcheck" in kafka


def test_kafka_advertises_the_bootstrap_workers_use(services: dict[str, Any], workers: dict[str, Any]) -> None:
    advertised = set(_listeners(_env(services["kafka"])["KAFKA_ADVERTISED_LISTENERS"]).values())
    for name, spec in workers.items():
        bootstrap = _env(spec)["AIOPS_KAFKA__BOOTSTRAP"]
        assert bootstrap in advertised, f"{name}: {bootstrap} is not an advertised listener {advertised}"


def test_two_workers_built_from_the_dockerfile(workers: dict[str, Any]) -> None:
    assert len(workers) == 2
    for name, spec in workers.items():
        assert spec["build"] in (".", {"context": "."}), name
        assert spec["depends_on"]["kafka"]["condition"] == "service_healthy", name
        env = _env(spec)
        assert env["AIOPS_HTTP__HOST"] == "0.0.0.0", name
        assert any(volume.split(":")[1] == CONFIG_IN_CONTAINER for volume in spec["volumes"]), name


def test_dockerfile_runs_the_mounted_config() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert "FROM python:3.11-slim" in text
    assert "USER aiops" in text
    assert f'CMD ["aiops", "run", "--config", "{CONFIG_IN_CONTAINER}"]' in text
    assert "pip install -c requirements.lock ." in text  # the pinned versions CI tested
    copied = next(line for line in text.splitlines() if line.startswith("COPY pyproject.toml"))
    assert {"LICENSE", "requirements.lock", "README.md"} <= set(copied.split())  # all the build reads


def test_mounted_config_validates_with_the_worker_environment(
    workers: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in list(os.environ):
        if key.startswith("AIOPS_"):
            monkeypatch.delenv(key)
    for name, spec in workers.items():
        source = next(v.split(":")[0] for v in spec["volumes"] if v.split(":")[1] == CONFIG_IN_CONTAINER)
        config = load_config(ROOT / source, environ=_env(spec))
        assert config.kafka.bootstrap == "kafka:9092", name
        assert config.http.host == "0.0.0.0", name
        assert config.topics.replication_factor == 1, f"{name}: single-node Kafka cannot replicate"
        assert config.delivery.receivers.by_name() == {}, f"{name}: the example's placeholder receivers stay off"
        assert config.store.url is not None
        assert config.store.url.startswith("postgresql+psycopg://"), f"{name}: the compose store is PostgreSQL"
        assert "@postgres:5432/" in config.store.url, name
        assert spec["depends_on"]["postgres"]["condition"] == "service_healthy", name
        check_delivery(config, environ={})  # every secret the workers need resolves (none is set in compose)
        assert set(build_integrations(config, environ={})) == {"alertmanager", "alertmanager-webhook", "pagerduty",
                                                               "otlp"}, name


def test_prometheus_sends_its_alerts_to_every_worker(services: dict[str, Any], workers: dict[str, Any]) -> None:
    prometheus = _yaml(PROMETHEUS)
    targets = {t for am in prometheus["alerting"]["alertmanagers"] for group in am["static_configs"]
               for t in group["targets"]}
    assert targets == {f"{name}:8080" for name in workers}
    mounted = {m.split(":")[1] for m in services["prometheus"]["volumes"] if m.startswith("./deploy/")}
    assert set(prometheus["rule_files"]) <= mounted


def test_prometheus_scrapes_every_worker_on_the_http_port(services: dict[str, Any], workers: dict[str, Any]) -> None:
    port = AiopsConfig().http.port
    assert port == 8080
    for name, spec in workers.items():
        configured = _env(spec).get("AIOPS_HTTP__PORT", str(port))
        assert configured == str(port), name
    jobs = {job["job_name"]: job for job in _yaml(PROMETHEUS)["scrape_configs"]}
    aiops = jobs["aiops"]
    assert aiops.get("metrics_path", "/metrics") == "/metrics"
    targets = {t for group in aiops["static_configs"] for t in group["targets"]}
    assert targets == {f"{name}:{port}" for name in workers}
    mounts = services["prometheus"]["volumes"]
    assert any(m.startswith("./deploy/prometheus.yml:") for m in mounts)
