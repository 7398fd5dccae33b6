"""The OpenAPI 3.1 document of /api/v1 and a plain HTML page rendering it (no script, no CDN).

Paths are written here; every request and answer body's schema is generated from its pydantic model
(`aiops.operator.requests`, `aiops.operator.problems`, the store's answer models passed in), so the
document cannot drift from what the API validates. The Alertmanager-compatible /api/v2 routes are
Alertmanager's own API (its openapi.yaml) and are only listed. Pure: builds dicts and a string.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from aiops.incidents import Incident
from aiops.operator.problems import PROBLEM_CONTENT_TYPE, Problem
from aiops.operator.requests import ActionAccepted, ActionRequest, SilenceRequest, SilenceView

REF = "#/components/schemas/{model}"
SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]


def _ref(model: type[BaseModel] | str) -> dict[str, Any]:
    return {"$ref": REF.format(model=model if isinstance(model, str) else model.__name__)}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _answers(ok: str, ok_body: dict[str, Any] | None, *problems: int) -> dict[str, Any]:
    answers: dict[str, Any] = {ok: {"description": "OK", **(_json(ok_body) if ok_body else {})}}
    for status in (401, 403, *problems):
        answers[str(status)] = {"description": "problem details (RFC 9457)",
                                "content": {PROBLEM_CONTENT_TYPE: {"schema": _ref(Problem)}}}
    return answers


def _silence_id() -> list[dict[str, Any]]:
    return [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]


LIST_PARAMETERS = {  # the store's list parameters (aiops.store.listing.KNOWN), described
    "status": "open, updated, resolved; comma-separated or repeated", "priority": "P1..P5; comma-separated or "
    "repeated", "service": "one service", "team": "the team", "owner": "the owner", "since": "RFC 3339: last "
    "seen at or after", "until": "RFC 3339: first seen at or before", "q": "free text (id, title, services, "
    "hosts, owner, member names and fingerprints)", "cursor": "a page's next_cursor, unchanged",
    "limit": "1..500, default 50"}


def _incident_paths() -> dict[str, Any]:
    incident_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "/api/v1/incidents": {"get": {
            "summary": "Incidents, newest last_seen first, filtered, cursor-paginated; role viewer.",
            "parameters": [{"name": name, "in": "query", "required": False, "description": LIST_PARAMETERS[name],
                            "schema": {"type": "string"}} for name in LIST_PARAMETERS],
            "responses": _answers("200", _ref("IncidentPage"), 400, 503)}},
        "/api/v1/incidents/{id}": {"get": {
            "summary": "The latest version (members, root cause, explanation), its timeline, decisions and "
                       "notifications (the latest 500 of each unless <list>_limit says, with counts); role viewer.",
            "parameters": [incident_id, *({"name": f"{name}_limit", "in": "query", "required": False,
                                           "schema": {"type": "integer", "minimum": 1, "maximum": 5000,
                                                      "default": 500}}
                                          for name in ("timeline", "decisions", "notifications"))],
            "responses": _answers("200", _ref("IncidentAnswer"), 400, 404, 503)}},
        "/api/v1/incidents/{id}/versions/{version}": {"get": {
            "summary": "One full version of an incident; role viewer.",
            "parameters": [incident_id, {"name": "version", "in": "path", "required": True,
                                         "schema": {"type": "integer", "minimum": 1}}],
            "responses": _answers("200", _ref(Incident), 400, 404, 503)}},
        "/api/v1/stream": {"get": {
            "summary": "Server-sent events: `event: incident`, `id: <incident id>:<version>`, data = a list "
                       "item, per new version; `: heartbeat` comments; `event: dropped` (too slow) or `end` "
                       "(stopping) last. Last-Event-ID is ignored: resync with the list. Role viewer.",
            "responses": {"200": {"description": "text/event-stream",
                                  "content": {"text/event-stream": {"schema": {"type": "string"}}}}}}},
    }


def _paths() -> dict[str, Any]:
    silences = {"type": "array", "items": _ref(SilenceView)}
    return {
        **_incident_paths(),
        "/api/v1/incidents/{id}/actions": {"post": {
            "summary": "Act on an incident (acknowledge, resolve, assign, note, snooze, merge, split...); role "
                       "responder. 202 once the action is on the actions topic; its effect shows in the next "
                       "incident version.",
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                           {"name": "Idempotency-Key", "in": "header", "required": False,
                            "description": "The same key on a retry gives the same action id (the second is "
                                           "dropped as a duplicate).",
                            "schema": {"type": "string", "minLength": 1, "maxLength": 128}}],
            "requestBody": {"required": True, **_json(_ref(ActionRequest))},
            "responses": _answers("202", _ref(ActionAccepted), 400, 404, 409, 415, 422, 503)}},
        "/api/v1/silences": {
            "get": {"summary": "Silences (the same as `aiops silence list`); role viewer.",
                    "parameters": [{"name": "state", "in": "query", "required": False,
                                    "description": "Comma-separated states to keep (default active,pending).",
                                    "schema": {"type": "string"}}],
                    "responses": _answers("200", silences, 422)},
            "post": {"summary": "Create a silence; role responder.",
                     "requestBody": {"required": True, **_json(_ref(SilenceRequest))},
                     "responses": _answers("201", _ref(SilenceView), 422, 503)}},
        "/api/v1/silences/{id}": {
            "get": {"summary": "One silence; role viewer.", "parameters": _silence_id(),
                    "responses": _answers("200", _ref(SilenceView), 404)},
            "delete": {"summary": "Expire a silence now (its history stays); role responder.",
                       "parameters": _silence_id(), "responses": _answers("200", _ref(SilenceView), 404, 503)}},
        "/api/v1/openapi.json": {"get": {"summary": "This document.", "responses": {"200": {"description": "OK"}}}},
        "/api/v1/docs": {"get": {"summary": "This document as a page.", "responses": {"200": {"description": "OK"}}}},
    }


def openapi_document(version: str, read_models: Sequence[type[BaseModel]] = ()) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the v1 routes; `read_models`: the incident routes' answer models
    (``IncidentPage``, ``IncidentAnswer``), which those routes refer to by name."""
    models: list[type[BaseModel]] = [*read_models, Incident, ActionRequest, ActionAccepted, SilenceRequest,
                                     SilenceView, Problem]
    _, schemas = models_json_schema([(model, "validation") for model in models], ref_template=REF)
    return {
        "openapi": "3.1.0",
        "info": {"title": "aiops operator API", "version": version,
                 "description": "Read and act on incidents, follow them live, manage silences. Alertmanager API "
                                "v2 clients (amtool, Grafana) also work against /api/v2/alerts, "
                                "/api/v2/alerts/groups, /api/v2/silences, /api/v2/silence/{id} and "
                                "/api/v2/receivers. See docs/api.md."},
        "paths": _paths(),
        "components": {"schemas": schemas.get("$defs", {}),
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": SECURITY,
    }


def docs_page(document: dict[str, Any]) -> str:
    """The document as one HTML page: every path and method, its summary, request and answers, then the
    schemas."""
    rows: list[str] = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            request = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            body = request.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
            answers = ", ".join(operation.get("responses", {}))
            rows.append(f"<tr><td><code>{method.upper()}</code></td><td><code>{html.escape(path)}</code></td>"
                        f"<td>{html.escape(operation.get('summary', ''))}</td><td>{html.escape(body)}</td>"
                        f"<td>{answers}</td></tr>")
    schemas = "".join(f"<h3 id='{html.escape(name)}'>{html.escape(name)}</h3><pre>"
                      f"{html.escape(json.dumps(schema, indent=2))}</pre>"
                      for name, schema in document["components"]["schemas"].items())
    info = document["info"]
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(info['title'])}</title>"
            "<style>body{font-family:sans-serif;margin:2em}td,th{border:1px solid #ccc;padding:4px;"
            "vertical-align:top}table{border-collapse:collapse}pre{background:#f6f6f6;padding:8px}</style>"
            f"</head><body><h1>{html.escape(info['title'])} {html.escape(info['version'])}</h1>"
            f"<p>{html.escape(info['description'])} Machine-readable: <a href='openapi.json'>openapi.json</a>. "
            "Authorization: <code>Bearer &lt;token&gt;</code>.</p>"
            "<table><tr><th>method</th><th>path</th><th>what</th><th>body</th><th>answers</th></tr>"
            f"{''.join(rows)}</table><h2>Schemas</h2>{schemas}</body></html>")
