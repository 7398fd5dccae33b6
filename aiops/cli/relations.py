"""`aiops relations export FILE.jsonl [--config F] [--min-confidence C] [--json]`: the learned relation graph.

`add_commands(subparsers)` registers the ``relations`` command group. ``export`` replays the events of a
JSONL file through the pure `Pipeline` (same decoding as `aiops replay`; bad lines are counted and skipped)
and prints, per correlation scope, the relations the learned co-occurrence model holds at the end of the
file: source -> target member type with confidence, support, lift, p-value and precedence (P(source fires
first)). `--min-confidence` defaults to `correlation.learned.min_confidence`, the threshold grouping uses.
With ``--json`` the output is one JSON object ``{"scopes": {scope: [edge, ...]}, "edges": n, "skipped": n}``.
It reads the file and prints; it does not touch Kafka or write anything.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Iterable
from typing import Any

from aiops.cli.common import open_input
from aiops.config import AiopsConfig, load_config
from aiops.correlation.engine import CorrelationEngine
from aiops.errors import InvalidEventError
from aiops.events import decode_event
from aiops.pipeline import Pipeline

FIELDS = ("source", "target", "confidence", "support", "lift", "p_value", "precedence")


def learned_relations(lines: Iterable[bytes], config: AiopsConfig,
                      min_confidence: float | None = None) -> tuple[dict[str, list[dict[str, Any]]], int]:
    """Replay `lines`; return (scope -> learned edges, number of undecodable lines skipped)."""
    pipeline = Pipeline(config)
    limit = config.ingest.max_message_bytes
    skipped = 0
    for raw in lines:
        line = raw.rstrip(b"\r\n")
        if not line.strip():
            continue
        try:
            event = decode_event(line, limit)
        except InvalidEventError:
            skipped += 1
            continue
        pipeline.process(event)
    stage = pipeline.correlation
    engine = stage.correlator
    if not isinstance(engine, CorrelationEngine):  # Pipeline always builds one; narrows the type
        return {}, skipped
    scopes: dict[str, list[dict[str, Any]]] = {}
    for scope in sorted(stage.store.scopes()):
        state = stage.store.load(scope)
        if state is None:
            continue
        edges = [_clean(edge) for edge in engine.export_relations(state, min_confidence)]
        if edges:
            scopes[scope] = edges
    return scopes, skipped


def _clean(edge: dict[str, Any]) -> dict[str, Any]:
    """Only the documented fields, floats rounded, infinite lift as None (valid JSON)."""
    out: dict[str, Any] = {}
    for name in FIELDS:
        value = edge.get(name)
        if isinstance(value, float):
            value = None if not math.isfinite(value) else (float(f"{value:.4g}") if name == "p_value"
                                                            else round(value, 4))
        out[name] = value
    return out


def _print_text(scopes: dict[str, list[dict[str, Any]]], skipped: int) -> None:
    if not scopes:
        print("no learned relations (too little co-occurrence, or learned correlation disabled)")
    for scope, edges in scopes.items():
        print(f"scope {scope}: {len(edges)} relation(s)")
        for e in edges:
            lift = "inf" if e["lift"] is None else f"{e['lift']:.2f}"
            print(f"  {e['source']} -> {e['target']}: confidence {e['confidence']:.2f}, support {e['support']:.1f},"
                  f" lift {lift}, p-value {e['p_value']:.3g}, precedence {e['precedence']:.2f}")
    if skipped:
        print(f"({skipped} undecodable line(s) skipped)")


def cmd_relations_export(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    with open_input(args.file) as handle:
        scopes, skipped = learned_relations(handle, config, args.min_confidence)
    if args.json:
        total = sum(len(edges) for edges in scopes.values())
        print(json.dumps({"scopes": scopes, "edges": total, "skipped": skipped}, sort_keys=True))
    else:
        _print_text(scopes, skipped)
    return 0


def add_commands(subparsers: Any) -> None:
    """Register ``aiops relations export`` on the main parser's subparsers object."""
    group = subparsers.add_parser("relations", help="learned relations between member types",
                                  description="Inspect the learned co-occurrence relation graph.")
    commands = group.add_subparsers(dest="relations_command", required=True)
    help_text = "replay a JSONL file of events and print the learned relation graph per scope"
    export: argparse.ArgumentParser = commands.add_parser("export", help=help_text, description=help_text)
    export.set_defaults(handler=cmd_relations_export)
    export.add_argument("file", help="JSONL events (as for aiops replay)")
    export.add_argument("--config", help="YAML config file (default: built-in defaults + AIOPS_* env)")
    export.add_argument("--min-confidence", type=float, default=None,
                        help="only relations at least this confident (default: correlation.learned.min_confidence)")
    export.add_argument("--json", action="store_true", help="one JSON object instead of text")
