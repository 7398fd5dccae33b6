"""The committed JSON Schemas in docs/schemas equal freshly generated ones, and describe the contracts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aiops.schemas import generate_schemas, main, render, schema_filename, write_schemas

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "docs" / "schemas"
REGENERATE = "regenerate with: python -m aiops.schemas docs/schemas (and commit the result)"
NAMES = ("event", "incident", "signal", "deadletter", "decision", "action", "config")


def test_generates_every_contract() -> None:
    assert set(generate_schemas()) == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_committed_schema_is_current(name: str) -> None:
    path = SCHEMA_DIR / schema_filename(name)
    assert path.exists(), f"{path} is missing; {REGENERATE}"
    fresh = render(generate_schemas()[name])
    assert path.read_text(encoding="utf-8") == fresh, f"{path} is stale; {REGENERATE}"


def test_no_unexpected_files_in_schema_dir() -> None:
    expected = {schema_filename(name) for name in NAMES}
    actual = {p.name for p in SCHEMA_DIR.glob("*.json")}
    assert actual == expected, f"unexpected or missing schema files; {REGENERATE}"


def test_write_schemas_writes_parseable_files(tmp_path: Path) -> None:
    written = write_schemas(tmp_path / "out")
    assert sorted(p.name for p in written) == sorted(schema_filename(n) for n in NAMES)
    for path in written:
        assert json.loads(path.read_text(encoding="utf-8"))["$schema"].startswith("https://json-schema.org/")


def test_event_schema_is_discriminated_by_kind_and_accepts_epoch_ts() -> None:
    schema = generate_schemas()["event"]
    assert schema["discriminator"]["propertyName"] == "kind"
    assert set(schema["discriminator"]["mapping"]) == {"metric", "log", "alert", "change"}
    ts = schema["$defs"]["MetricEvent"]["properties"]["ts"]
    assert {"type": "number"} in ts["anyOf"]


def test_config_schema_uses_file_key_names() -> None:
    logging_props = generate_schemas()["config"]["$defs"]["LoggingConfig"]["properties"]
    assert "json" in logging_props  # the alias, as written in YAML


def test_main_usage_and_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage" in capsys.readouterr().err
    assert main([str(tmp_path)]) == 0
    assert (tmp_path / "incident.schema.json").exists()
