"""Configuration loading: strict validation, readable errors, ``AIOPS_*`` environment overrides."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from aiops.config import AiopsConfig, load_config
from aiops.errors import ConfigError, PermanentError

NO_ENV: dict[str, str] = {}


def write_yaml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "aiops.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def config_error(path: Path | None = None, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path, NO_ENV if environ is None else environ)
    assert isinstance(caught.value, PermanentError)
    return str(caught.value)


def test_defaults_are_valid_without_file_or_env() -> None:
    config = load_config(None, NO_ENV)
    assert config == AiopsConfig()
    assert config.kafka.bootstrap is None
    assert config.correlation.scope == "component"
    assert config.detection.metric.threshold == 0.9999
    assert config.services == {}
    assert config.delivery.receivers.by_name() == {}
    assert config.logging.json_format == "auto"


def test_empty_file_means_defaults(tmp_path: Path) -> None:
    assert load_config(write_yaml(tmp_path, ""), NO_ENV) == AiopsConfig()


def test_file_values_are_applied(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, """
kafka:
  bootstrap: broker:9092
correlation:
  window_seconds: 600
  scope: service
services:
  db: {tier: 1}
  api: {depends_on: [db], owner: team-api}
delivery:
  receivers:
    webhook:
      hook: {url: http://example.invalid/hook}
logging:
  json: false
""")
    config = load_config(path, NO_ENV)
    assert config.kafka.bootstrap == "broker:9092"
    assert config.correlation.window_seconds == 600.0
    assert config.correlation.scope == "service"
    assert config.services["api"].depends_on == ["db"]
    assert config.services["db"].tier == 1
    assert config.delivery.receivers.webhook["hook"].url == "http://example.invalid/hook"
    assert config.logging.json_format is False


@pytest.mark.parametrize(
    ("text", "dotted"),
    [
        pytest.param("kafkaa: {}\n", "kafkaa", id="top-level"),
        pytest.param("kafka:\n  bootstrapp: x\n", "kafka.bootstrapp", id="section"),
        pytest.param("detection:\n  metric:\n    treshold: 0.9\n", "detection.metric.treshold", id="nested"),
        pytest.param("services:\n  api:\n    teir: 1\n", "services.api.teir", id="service-entry"),
        pytest.param("delivery:\n  routes:\n    - name: x\n      retries: 3\n", "delivery.routes.0.retries",
                     id="list-item"),
        pytest.param("webhooks:\n  - url: http://x\n", "webhooks", id="removed-webhooks-list"),
    ],
)
def test_unknown_key_anywhere_names_its_dotted_path(tmp_path: Path, text: str, dotted: str) -> None:
    message = config_error(write_yaml(tmp_path, text))
    assert f"{dotted}: unknown key (not allowed)" in message
    assert str(tmp_path / "aiops.yaml") in message


@pytest.mark.parametrize(
    ("text", "dotted"),
    [
        pytest.param("correlation:\n  window_seconds: soon\n", "correlation.window_seconds", id="float"),
        pytest.param("topics:\n  events_partitions: many\n", "topics.events_partitions", id="int"),
        pytest.param("services:\n  a:\n    depends_on: b\n", "services.a.depends_on", id="list"),
        pytest.param("correlation:\n  scope: planet\n", "correlation.scope", id="literal"),
        pytest.param("kafka: [1, 2]\n", "kafka", id="section-not-mapping"),
        pytest.param("detection:\n  metric:\n    threshold: 1.5\n", "detection.metric.threshold", id="range"),
        pytest.param("services:\n  api:\n    tier: 9\n", "services.api.tier", id="tier-range"),
        pytest.param("delivery:\n  receivers:\n    webhook:\n      x: {}\n", "delivery.receivers.webhook.x.url",
                     id="missing-required"),
    ],
)
def test_wrong_type_or_range_is_an_error_at_its_path(tmp_path: Path, text: str, dotted: str) -> None:
    message = config_error(write_yaml(tmp_path, text))
    assert f" {dotted}: " in message
    assert "\n" not in message


def test_all_errors_are_reported_together_on_one_line(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, "kafka:\n  nope: 1\nhttp:\n  port: -1\n")
    message = config_error(path)
    assert message.startswith(f"invalid configuration in {path}: ")
    assert "kafka.nope: unknown key (not allowed); http.port: " in message
    assert "\n" not in message


def test_env_overrides_kafka_bootstrap_and_beats_the_file(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, "kafka:\n  bootstrap: from-file:9092\n")
    config = load_config(path, {"AIOPS_KAFKA__BOOTSTRAP": "from-env:9092"})
    assert config.kafka.bootstrap == "from-env:9092"


def test_env_overrides_nested_numbers_as_numbers() -> None:
    config = load_config(None, {
        "AIOPS_CORRELATION__WINDOW_SECONDS": "600",
        "AIOPS_DETECTION__METRIC__WARMUP_POINTS": "12",
        "AIOPS_DETECTION__LOGS__RATIO_OVER_BASELINE": "4.5",
    })
    assert config.correlation.window_seconds == 600.0
    assert config.detection.metric.warmup_points == 12
    assert config.detection.logs.ratio_over_baseline == 4.5


def test_env_overrides_lists_and_booleans_with_yaml_syntax() -> None:
    topics = "[{topic: a, service: 'web'}]"
    config = load_config(None, {"AIOPS_INGEST__RAW_LOGS": topics, "AIOPS_LOGGING__JSON": "false"})
    assert [raw.topic for raw in config.ingest.raw_logs] == ["a"]
    assert config.logging.json_format is False


def test_env_override_keeps_sibling_file_values(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, "kafka:\n  client_id: mine\n")
    config = load_config(path, {"AIOPS_KAFKA__BOOTSTRAP": "b:1"})
    assert (config.kafka.client_id, config.kafka.bootstrap) == ("mine", "b:1")


def test_empty_env_value_means_null() -> None:
    assert load_config(None, {"AIOPS_KAFKA__BOOTSTRAP": ""}).kafka.bootstrap is None


def test_env_without_prefix_and_aiops_config_are_ignored() -> None:
    config = load_config(None, {"AIOPS_CONFIG": "/nowhere.yaml", "KAFKA__BOOTSTRAP": "x", "PATH": "/bin"})
    assert config == AiopsConfig()


@pytest.mark.parametrize(
    ("key", "dotted"),
    [("AIOPS_NOPE", "nope"), ("AIOPS_KAFKA__NOPE", "kafka.nope"), ("AIOPS_DETECTION__METRIC__X", "detection.metric.x")],
)
def test_unknown_env_key_is_an_error(key: str, dotted: str) -> None:
    message = config_error(environ={key: "1"})
    assert f"{dotted}: unknown key (not allowed)" in message


def test_env_value_of_wrong_type_is_an_error() -> None:
    assert "correlation.window_seconds" in config_error(environ={"AIOPS_CORRELATION__WINDOW_SECONDS": "abc"})


def test_env_descending_into_a_scalar_is_an_error() -> None:
    message = config_error(environ={"AIOPS_KAFKA": "x", "AIOPS_KAFKA__BOOTSTRAP": "y"})
    assert "AIOPS_KAFKA__BOOTSTRAP" in message


def test_depends_on_unknown_service_is_an_error(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, "services:\n  api:\n    depends_on: [db, cache]\n  db: {}\n")
    message = config_error(path)
    assert "services.api.depends_on names unknown services" in message
    assert "cache" in message


def test_depends_on_known_services_is_valid(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, "services:\n  api:\n    depends_on: [db]\n  db: {}\n")
    assert load_config(path, NO_ENV).services["api"].depends_on == ["db"]


@pytest.mark.parametrize(("text", "type_name"), [("- a\n- b\n", "list"), ("just a string\n", "str"), ("42\n", "int")])
def test_non_mapping_top_level_is_an_error(tmp_path: Path, text: str, type_name: str) -> None:
    message = config_error(write_yaml(tmp_path, text))
    assert f"top level must be a mapping, got {type_name}" in message


def test_invalid_yaml_is_an_error(tmp_path: Path) -> None:
    assert "is not valid YAML" in config_error(write_yaml(tmp_path, "kafka: [unclosed\n"))


def test_invalid_yaml_is_one_line_with_the_place_and_without_the_text(tmp_path: Path) -> None:
    message = config_error(write_yaml(tmp_path, "kafka:\n  client_id: hunter2: x\n"))  # PyYAML quotes the line
    assert message.endswith("is not valid YAML: mapping values are not allowed here (line 2, column 21)")
    assert "\n" not in message
    assert "hunter2" not in message


def test_an_override_that_is_not_yaml_names_its_variable_not_its_value() -> None:
    message = config_error(None, {"AIOPS_HTTP__HOST": "{s3cret: ["})
    assert message.startswith("AIOPS_HTTP__HOST: its value is not valid YAML: ")
    assert "s3cret" not in message


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    message = config_error(tmp_path / "absent.yaml")
    assert "cannot read" in message
    assert "absent.yaml" in message


def test_directory_instead_of_file_is_an_error(tmp_path: Path) -> None:
    assert "cannot read" in config_error(tmp_path)


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root can read anything")
def test_unreadable_file_is_an_error(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, "kafka: {}\n")
    path.chmod(0)
    try:
        message = config_error(path)
    finally:
        path.chmod(0o600)
    assert "cannot read" in message
    assert "Permission denied" in message


def test_config_models_are_frozen() -> None:
    config = load_config(None, NO_ENV)
    with pytest.raises(ValidationError, match="frozen"):
        config.kafka.bootstrap = "x"  # type: ignore[misc]
