"""JSON Schemas of aiops' contracts, generated from the pydantic models.

`generate_schemas` returns the JSON Schema (draft 2020-12, pydantic's `model_json_schema`) of the inbound
event union, the outbound `Incident`, the internal signal/watermark message, the `DeadLetter` record, the
operator `Action` and the `AiopsConfig` file format; `write_schemas` writes them as ``<name>.schema.json``
into a directory. Run ``python -m aiops.schemas docs/schemas`` to regenerate the committed copies (a unit
test fails when they are stale). It only describes the models; it does not validate messages or load config.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter

from aiops.actions import Action
from aiops.config import AiopsConfig
from aiops.deadletter import DeadLetter
from aiops.decisions import Decision
from aiops.events import EVENT_ADAPTER
from aiops.incidents import Incident
from aiops.signals import SIGNAL_MESSAGE_ADAPTER

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

_TITLES: dict[str, str] = {
    "event": "aiops inbound event",
    "incident": "aiops incident",
    "decision": "aiops correlation decision",
    "action": "aiops operator action",
    "signal": "aiops signal or watermark message",
    "deadletter": "aiops dead-letter record",
    "config": "aiops configuration file",
}


def _adapter_schema(adapter: TypeAdapter[Any]) -> Callable[[], dict[str, Any]]:
    return lambda: adapter.json_schema(mode="validation")


def _event_schema() -> dict[str, Any]:
    """The event union's schema, with `ts` (and alerts' `starts_at`/`ends_at`) widened to what `decode_event`
    really accepts.

    pydantic describes an aware datetime as a date-time string only; the contract also takes epoch
    seconds or milliseconds (see the timestamp rule in aiops/events.py).
    """
    schema = EVENT_ADAPTER.json_schema(mode="validation")
    time_forms = [{"type": "string", "format": "date-time"}, {"type": "number"}]
    for definition in schema["$defs"].values():
        properties = definition.get("properties", {})
        ts = properties.get("ts")
        if ts is not None:
            ts.pop("type", None)
            ts.pop("format", None)
            ts["anyOf"] = time_forms
        for optional in ("starts_at", "ends_at"):  # anyOf [date-time, null]: the same forms, or null
            if optional in properties:
                properties[optional]["anyOf"] = [*time_forms, {"type": "null"}]
    return schema


def _model_schema(model: type[BaseModel]) -> Callable[[], dict[str, Any]]:
    return lambda: model.model_json_schema(mode="validation", by_alias=True)


_SOURCES: dict[str, Callable[[], dict[str, Any]]] = {
    "event": _event_schema,
    "incident": _model_schema(Incident),
    "signal": _adapter_schema(SIGNAL_MESSAGE_ADAPTER),
    "deadletter": _model_schema(DeadLetter),
    "decision": _model_schema(Decision),
    "action": _model_schema(Action),
    "config": _model_schema(AiopsConfig),
}


def generate_schemas() -> dict[str, dict[str, Any]]:
    """Schema name (``event``, ``incident``, ``signal``, ``deadletter``, ``config``) -> JSON Schema."""
    schemas: dict[str, dict[str, Any]] = {}
    for name, source in _SOURCES.items():
        schemas[name] = {"$schema": SCHEMA_DIALECT, **source(), "title": _TITLES[name]}
    return schemas


def render(schema: dict[str, Any]) -> str:
    """The exact text written to disk: sorted keys, two-space indent, trailing newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def schema_filename(name: str) -> str:
    return f"{name}.schema.json"


def write_schemas(directory: str | Path) -> list[Path]:
    """Write every schema into `directory` (created if missing); return the paths written."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in generate_schemas().items():
        path = target / schema_filename(name)
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m aiops.schemas DIRECTORY", file=sys.stderr)
        return 2
    for path in write_schemas(args[0]):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
