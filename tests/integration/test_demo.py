"""The README's one-command run: `aiops demo` (embedded broker, built-in scenario, signed webhook).

Runs the real CLI as a subprocess and reads its output until it says every incident resolved: the cascade
incident (P1, root cause postgres) and the unrelated search incident (P4) have both opened and resolved,
each version printed once and in order, and the webhook received each incident's open and resolve with
valid HMAC signatures. Then stops it with SIGTERM (clean shutdown).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from support.process_output import ProcessOutput

pytestmark = [pytest.mark.integration, pytest.mark.slow]

VERSION_LINE = re.compile(
    r"^\d\d:\d\d:\d\d (OPEN|UPDATED|RESOLVED)\s+(P\d) (inc-[0-9a-f]+) v(\d+)  .*; root cause (\S+)( \(was \S+\))?$")
WEBHOOK_LINE = re.compile(r"^webhook: (inc-[0-9a-f]+) received \d+ of (\d+) versions \((.*)\), (.*)$")
ALL_RESOLVED = re.compile(r"^demo: all (\d+) incidents resolved; the webhook received \d+ notifications, (.*)$")


def _read_until_done(output: ProcessOutput, seconds: float) -> list[str]:
    """Output lines until the demo says every incident resolved (or the time is up)."""
    lines: list[str] = []
    for line in output.lines(seconds):
        lines.append(line)
        if ALL_RESOLVED.match(line):
            break
    return lines


def test_demo_prints_each_version_once_in_order_and_the_signed_webhook_gets_open_and_resolve(tmp_path: Path) -> None:
    # The README's command, but its broker on a free port (not 9092, which may be in use or be someone's) and
    # its run-file in a private $TMPDIR (not the one a developer's `aiops run` published).
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIOPS_")}
    env.update(AIOPS_KAFKA__EMBEDDED_PORT="0", TMPDIR=str(tmp_path))
    process = subprocess.Popen(  # our own CLI
        [sys.executable, "-m", "aiops", "demo", "--duration", "240"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
    )
    try:
        lines = _read_until_done(ProcessOutput(process), 200)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    output = "\n".join(lines[-60:])
    assert any(line.startswith("demo: the webhook gets open, a raised priority and resolved at once") for line in lines)
    versions = [m.groups() for m in map(VERSION_LINE.match, lines) if m]
    by_incident: dict[str, list[tuple[str, str, int, str]]] = {}
    for status, priority, incident, number, root, _was in versions:
        by_incident.setdefault(incident, []).append((status, priority, int(number), root))
    for seen in by_incident.values():  # each version once, in order
        assert [number for *_s, number, _r in seen] == list(range(1, len(seen) + 1)), output
    cascade = [i for i, seen in by_incident.items() if any(p == "P1" and r == "postgres" for _s, p, _n, r in seen)]
    assert len(cascade) == 1, output
    statuses = [status for status, *_rest in by_incident[cascade[0]]]
    assert statuses[0] == "OPEN", output
    assert "UPDATED" in statuses, output
    assert statuses[-1] == "RESOLVED", output
    search = [i for i, seen in by_incident.items() if seen[-1][3] == "search"]
    assert len(search) == 1, output
    assert search != cascade
    assert by_incident[search[0]][-1][0] == "RESOLVED", output
    webhook = {m.group(1): m.groups()[1:] for m in map(WEBHOOK_LINE.match, lines) if m}
    for incident in (cascade[0], search[0]):
        total, received, signatures = webhook[incident]
        assert int(total) == len(by_incident[incident]), output
        assert received.startswith("v1 open, "), output
        assert received.endswith(f"v{total} resolved"), output
        assert signatures == "every signature valid", output
    (done,) = [m.groups() for m in map(ALL_RESOLVED.match, lines) if m]
    assert done == (str(len(by_incident)), "every signature valid"), output
    assert process.returncode is not None
