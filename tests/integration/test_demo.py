"""The README's one-command run: `aiops demo` (embedded broker, built-in scenario, signed webhook).

Runs the real CLI as a subprocess and reads its output until the cascade incident (P1, root cause postgres)
and the unrelated search incident (P4) have both opened and resolved, on the Kafka topic and at the
webhook, every delivery with a valid HMAC signature. Then stops it with SIGTERM (clean shutdown).
"""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import time

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

KAFKA_LINE = re.compile(r"^\[kafka \S+\] \S+ (OPEN|UPDATED|RESOLVED)\s+(P\d) (inc-[0-9a-f]+) v\d+ .*root_cause=(\S+)")
WEBHOOK_LINE = re.compile(r"^\[webhook\] (inc-[0-9a-f]+):\d+ (open|updated|resolved) (P\d) .*\(signature (\w+)\)$")


def _read_until_done(process: subprocess.Popen[str], seconds: float) -> list[str]:
    """Output lines until both incidents resolved at the webhook and on the topic (or the time is up)."""
    assert process.stdout is not None
    lines: list[str] = []
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + seconds
    resolved_at_webhook = resolved_on_topic = 0
    while time.monotonic() < deadline and min(resolved_at_webhook, resolved_on_topic) < 2 and process.poll() is None:
        if not selector.select(timeout=1.0):
            continue
        line = process.stdout.readline()
        lines.append(line.rstrip("\n"))
        if line.startswith("[webhook]") and " resolved " in line:
            resolved_at_webhook += 1
        if line.startswith("[kafka") and " RESOLVED " in line:
            resolved_on_topic += 1
    return lines


def test_demo_opens_updates_and_resolves_both_incidents_on_the_topic_and_the_signed_webhook() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIOPS_")}
    process = subprocess.Popen(  # our own CLI, the README's command
        [sys.executable, "-m", "aiops", "demo", "--duration", "240"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
    )
    try:
        lines = _read_until_done(process, 200)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    output = "\n".join(lines[-60:])
    kafka = [m.groups() for m in map(KAFKA_LINE.match, lines) if m]
    webhook = [m.groups() for m in map(WEBHOOK_LINE.match, lines) if m]
    cascade = {incident for status, priority, incident, root in kafka if priority == "P1" and root == "postgres"}
    assert len(cascade) == 1, output
    cascade_id = cascade.pop()
    statuses = [status for status, _p, incident, _r in kafka if incident == cascade_id]
    assert statuses[0] == "OPEN", output
    assert "UPDATED" in statuses, output
    assert statuses[-1] == "RESOLVED", output
    search = {incident for _s, priority, incident, root in kafka if root == "search"}
    assert len(search) == 1, output
    assert search != {cascade_id}
    assert [s for s, _p, incident, _r in kafka if incident in search][-1] == "RESOLVED", output
    assert {signature for *_rest, signature in webhook} == {"ok"}, output
    delivered = {(incident, status) for incident, status, _p, _s in webhook}
    assert (cascade_id, "open") in delivered, output
    assert (cascade_id, "resolved") in delivered, output
    assert process.returncode is not None
