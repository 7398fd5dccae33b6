"""False incidents of the demo scenario: `aiops scenario` then `aiops replay`, per seed, counted.

For each seed it writes the built-in scenario (two hours of noise on 10 series, then a postgres-rooted
cascade and an unrelated search alert) with its service catalogue, replays it with that catalogue plus
`--set` overrides (dotted keys, YAML values: `--set detection.metric.detector=ewma`), and sorts the
incidents of the replay: the cascade holds postgres and payments, the search alert holds only search,
any other incident is false. Prints one line per seed and, last, one JSON line with the totals. It runs
the real CLI in a subprocess and writes only to a temporary folder.

    python bench/demo_incidents.py                      # configured default detector, seeds 1-8
    python bench/demo_incidents.py --set detection.metric.detector=ewma
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml


def _overrides(pairs: list[str]) -> dict[str, Any]:
    """Nested config from ``a.b.c=value`` pairs (values parsed as YAML)."""
    config: dict[str, Any] = {}
    for pair in pairs:
        dotted, _, raw = pair.partition("=")
        *parents, leaf = dotted.split(".")
        node = config
        for name in parents:
            node = node.setdefault(name, {})
        node[leaf] = yaml.safe_load(raw)
    return config


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        merged[key] = _merge(merged.get(key, {}), value) if isinstance(value, dict) else value
    return merged


def judge_seed(seed: int, overrides: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Replay one seed; its incidents sorted into cascade, search and false."""
    events, services, config = folder / f"s{seed}.jsonl", folder / f"svc{seed}.yaml", folder / f"c{seed}.yaml"
    aiops = [sys.executable, "-m", "aiops"]
    subprocess.run([*aiops, "scenario", "--out", str(events), "--seed", str(seed), "--services", str(services)],
                   check=True, capture_output=True)
    config.write_text(yaml.safe_dump(_merge(yaml.safe_load(services.read_text()), overrides)))
    replay = subprocess.run([*aiops, "replay", str(events), "--config", str(config)],
                            check=True, capture_output=True, text=True)
    last: dict[str, dict[str, Any]] = {}
    for line in replay.stdout.splitlines():
        incident = json.loads(line)
        last[incident["id"]] = incident
    cascade, search, false = [], [], []
    for incident in last.values():
        if incident.get("merged_into"):
            continue
        services_of = set(incident["services"])
        if {"postgres", "payments"} <= services_of:
            cascade.append(incident)
        elif services_of == {"search"}:
            search.append(incident)
        else:
            false.append(incident)
    top = [c["root_cause"][0]["service"] if c["root_cause"] else "" for c in cascade]
    return {"seed": seed, "false": len(false), "cascades": len(cascade), "root_cause": top,
            "false_services": [sorted(i["services"]) for i in false]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1-8", help="first-last (default 1-8)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override")
    args = parser.parse_args()
    first, _, last = args.seeds.partition("-")
    overrides = _overrides(args.set)
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for seed in range(int(first), int(last or first) + 1):
            result = judge_seed(seed, overrides, Path(folder))
            results.append(result)
            print(f"seed {seed}: false {result['false']} {result['false_services']}, cascade incidents "
                  f"{result['cascades']}, root cause {result['root_cause']}", flush=True)
    found = sum(r["cascades"] >= 1 and r["root_cause"][0] == "postgres" for r in results)
    print(json.dumps({"overrides": overrides, "false_per_seed": [r["false"] for r in results],
                      "false_total": sum(r["false"] for r in results), "cascade_root_cause_postgres": found,
                      "cascade_split": sum(r["cascades"] > 1 for r in results), "seeds": len(results)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
