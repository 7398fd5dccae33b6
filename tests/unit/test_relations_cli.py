"""`aiops relations export`: replays a JSONL file and prints the learned relation graph per scope."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.cli import run_commands

from aiops.cli.relations import add_commands, learned_relations
from aiops.config import AiopsConfig

T0 = 1_700_000_000.0


def _alert(ts: float, name: str, fingerprint: str, service: str = "db") -> str:
    return json.dumps({"kind": "alert", "ts": datetime.fromtimestamp(ts, tz=UTC).isoformat(), "source": "test",
                       "service": service, "host": "", "name": name, "status": "firing",
                       "fingerprint": fingerprint})


def _events(path: Path) -> Path:
    """DiskFull is followed 5 s later by DbDown 120 times, among random background alerts."""
    rng = random.Random(3)
    lines: list[tuple[float, str]] = []
    for k in range(120):
        start = T0 + k * 1800 + rng.uniform(0, 600)
        lines += [(start, _alert(start, "DiskFull", f"d{k}")), (start + 5, _alert(start + 5, "DbDown", f"b{k}"))]
    for k in range(600):
        ts = T0 + rng.uniform(0, 120 * 1800)
        lines.append((ts, _alert(ts, f"Noise{rng.randrange(8)}", f"n{k}", service=f"svc{rng.randrange(5)}")))
    lines.sort()
    path.write_text("\n".join(line for _, line in lines) + "\nnot json\n", encoding="utf-8")
    return path


def _config() -> AiopsConfig:
    return AiopsConfig.model_validate({"correlation": {"scope": "global"}})


def test_learned_relations_find_the_planted_pair_with_its_order(tmp_path: Path) -> None:
    path = _events(tmp_path / "events.jsonl")
    with path.open("rb") as handle:
        scopes, skipped = learned_relations(handle, _config(), 0.0)
    assert skipped == 1
    edges = scopes["global"]
    planted = [e for e in edges if {e["source"], e["target"]} == {"DiskFull", "DbDown"}]
    assert len(planted) == 1
    edge = planted[0]
    assert (edge["source"], edge["target"]) == ("DiskFull", "DbDown")
    assert edge["precedence"] > 0.9
    assert edge["support"] >= 20
    assert edge["p_value"] < 0.01
    assert set(edge) == {"source", "target", "confidence", "support", "lift", "p_value", "precedence"}


def _run(argv: list[str]) -> int:
    return run_commands(add_commands, argv)


def test_export_command_prints_json_and_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _events(tmp_path / "events.jsonl")
    config = tmp_path / "aiops.yaml"
    config.write_text("correlation:\n  scope: global\n", encoding="utf-8")
    assert _run(["relations", "export", str(path), "--config", str(config), "--min-confidence", "0", "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["skipped"] == 1
    assert report["edges"] >= 1
    assert any(e["source"] == "DiskFull" and e["target"] == "DbDown" for e in report["scopes"]["global"])
    assert _run(["relations", "export", str(path), "--config", str(config), "--min-confidence", "0"]) == 0
    text = capsys.readouterr().out
    assert "scope global:" in text
    assert "DiskFull -> DbDown: confidence" in text
    assert _run(["relations", "export", str(path), "--config", str(config), "--min-confidence", "1.01"]) == 0
    assert "no learned relations" in capsys.readouterr().out
