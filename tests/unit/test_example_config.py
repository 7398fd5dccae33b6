"""config/aiops.example.yaml validates, documents every config key, and `aiops check-config` reports well."""

from __future__ import annotations

import os
import types
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel
from support.example_config import example_header_variables

import aiops.config as config_module
from aiops.cli import main
from aiops.config import AiopsConfig, load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "aiops.example.yaml"


@pytest.fixture(autouse=True)
def _no_env_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI reads os.environ; a developer's AIOPS_* variables must not change these results."""
    for key in list(os.environ):
        if key.startswith("AIOPS_"):
            monkeypatch.delenv(key)


Container = str  # "node", "list" or "dict": where the nested model's YAML nodes are


def _models_in(annotation: Any, container: Container = "node") -> list[tuple[type[BaseModel], Container]]:
    """Config models nested in a field annotation (directly, in Optional/Union, list items or dict values)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [(annotation, container)]
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is dict:
        return _models_in(args[1], "dict")
    if origin is list:
        return _models_in(args[0], "list")
    if origin in (typing.Union, types.UnionType):
        return [found for arg in args for found in _models_in(arg, container)]
    return []


def _children(value: Any, container: Container, where: str) -> list[tuple[str, Any]]:
    """(path, node) of each YAML node a nested model describes."""
    if container == "list" and isinstance(value, list):
        return [(f"{where}[{i}]", item) for i, item in enumerate(value)]
    if container == "dict" and isinstance(value, dict):
        return [(f"{where}.{key}", item) for key, item in value.items()]
    return [(where, value)]


def _missing_keys(model: type[BaseModel], node: Any, path: str, seen: set[type[BaseModel]]) -> list[str]:
    seen.add(model)
    if not isinstance(node, dict):
        return [f"{path or '<root>'} (expected a mapping documenting {model.__name__})"]
    missing: list[str] = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        where = f"{path}.{key}" if path else key
        if key not in node:
            missing.append(where)
            continue
        for nested, container in _models_in(field.annotation):
            if node[key] is None and field.default is None:
                continue  # an optional section left null here (another entry documents it)
            children = _children(node[key], container, where)
            if not children:
                missing.append(f"{where} (give an example entry documenting {nested.__name__})")
            found = [_missing_keys(nested, child, child_path, seen) for child_path, child in children]
            if container == "dict" and found and min(found, key=len) == []:
                continue  # named entries: one documents every key, the others show only what they set
            missing.extend(key for keys in found for key in keys)
    return missing


def _example_data() -> dict[str, Any]:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_example_validates() -> None:
    config = load_config(EXAMPLE, environ={})
    assert config.services, "the example should show a services catalogue"
    assert config.delivery.receivers.webhook, "the example should show a webhook"
    assert any(service.depends_on for service in config.services.values())
    assert all(service.owner and service.runbook for service in config.services.values())


def test_example_documents_every_config_key() -> None:
    seen: set[type[BaseModel]] = set()
    missing = _missing_keys(AiopsConfig, _example_data(), "", seen)
    assert not missing, f"keys missing from {EXAMPLE.name} (document them with their default): {missing}"
    all_models = {
        obj for obj in vars(config_module).values()
        if isinstance(obj, type) and issubclass(obj, BaseModel) and obj.__module__ == config_module.__name__
        and obj.model_fields
    }
    assert all_models <= seen, f"config models not reachable from the example: {all_models - seen}"


def test_example_uses_defaults_for_plain_sections() -> None:
    """Sections with defaults show exactly those defaults, so the file doubles as a reference."""
    data = _example_data()
    defaults = AiopsConfig().model_dump(by_alias=True)
    example_lists = {"ingest": ("raw_logs", "http")}  # lists default to empty; the example shows an entry instead
    for section in ("kafka", "topics", "ingest", "detection", "correlation", "http", "workers", "logging"):
        shown = {k: v for k, v in data[section].items() if k not in example_lists.get(section, ())}
        expected = {k: v for k, v in defaults[section].items() if k not in example_lists.get(section, ())}
        assert shown == expected, f"{section}: example differs from the defaults"
    shown_http = {k: v for k, v in data["ingest"]["http"].items() if k != "integrations"}
    expected_http = {k: v for k, v in defaults["ingest"]["http"].items() if k != "integrations"}
    assert shown_http == expected_http, "ingest.http: example differs from the defaults"
    shown_names = set(data["ingest"]["http"]["integrations"])
    assert set(defaults["ingest"]["http"]["integrations"]) <= shown_names, "the default integrations are shown"


def test_check_config_accepts_example(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in example_header_variables().items():  # the secrets its header says to set
        monkeypatch.setenv(name, value)
    assert main(["check-config", str(EXAMPLE)]) == 0
    assert "OK" in capsys.readouterr().out


def _check(path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    path.write_text(text, encoding="utf-8")
    code = main(["check-config", str(path)])
    captured = capsys.readouterr()
    return code, captured.err + captured.out


def test_check_config_rejects_unknown_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, output = _check(tmp_path / "bad.yaml", "correlation:\n  windw_seconds: 60\n", capsys)
    assert code != 0
    assert "correlation.windw_seconds" in output
    assert "unknown key" in output


def test_check_config_rejects_wrong_type(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, output = _check(tmp_path / "bad.yaml", "http:\n  port: eighty\n", capsys)
    assert code != 0
    assert "http.port" in output


def test_check_config_rejects_non_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, output = _check(tmp_path / "bad.yaml", "kafka: [unclosed\n  bootstrap: {\n", capsys)
    assert code != 0
    assert "not valid YAML" in output


def test_check_config_rejects_non_mapping(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, output = _check(tmp_path / "bad.yaml", "- just\n- a list\n", capsys)
    assert code != 0
    assert "mapping" in output


def test_check_config_rejects_unknown_dependency(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, output = _check(tmp_path / "bad.yaml", "services:\n  api:\n    depends_on: [db]\n", capsys)
    assert code != 0
    assert "services.api.depends_on" in output


def test_check_config_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check-config", str(tmp_path / "absent.yaml")])
    assert code != 0
    assert "cannot read" in capsys.readouterr().err
