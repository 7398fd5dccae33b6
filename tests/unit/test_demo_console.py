"""`aiops demo` output: each incident version once and in order, a webhook line per resolved incident, and
"all N incidents resolved" (the webhook's deliveries may arrive before or after the topic's copy)."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta

from aiops.config import AiopsConfig
from aiops.incidents import Incident
from aiops.runtime.demo import notification_note
from aiops.runtime.demo_console import DemoConsole

T0 = datetime(2024, 5, 1, 6, 50, tzinfo=UTC)


def _version(incident_id: str, number: int, status: str) -> Incident:
    member = {"fingerprint": f"{incident_id}-m", "origin": "alert", "name": "Down", "service": "api",
              "status": "resolved" if status == "resolved" else "firing", "severity": "critical",
              "first_seen": T0, "last_seen": T0}
    return Incident.model_validate({
        "id": incident_id, "version": number, "idempotency_key": f"{incident_id}:{number}", "status": status,
        "priority": "P2", "title": "api down", "scope": "s", "services": ["api"], "hosts": [], "first_seen": T0,
        "last_seen": T0 + timedelta(seconds=30 * number), "members": [member],
        "resolved_at": T0 + timedelta(minutes=10) if status == "resolved" else None,
    })


def _lines(out: io.StringIO) -> list[str]:
    return out.getvalue().splitlines()


async def test_each_version_once_in_order_then_webhook_summary_then_all_resolved() -> None:
    out = io.StringIO()
    console = DemoConsole(out)
    console.delivery("inc-a", 1, "open", signed=True)  # the webhook is often faster than the topic reader
    console.version(_version("inc-a", 1, "open"))
    console.version(_version("inc-a", 1, "open"))  # a re-read is not printed again
    console.version(_version("inc-b", 1, "open"))
    console.version(_version("inc-a", 2, "updated"))
    console.version(_version("inc-a", 3, "resolved"))
    console.delivery("inc-a", 3, "resolved", signed=True)
    console.delivery("inc-b", 2, "resolved", signed=True)
    assert not any("all" in line for line in _lines(out))  # inc-b is still open on the topic
    console.version(_version("inc-b", 2, "resolved"))
    lines = _lines(out)
    assert [line.split()[1:5] for line in lines[:4]] == [
        ["OPEN", "P2", "inc-a", "v1"], ["OPEN", "P2", "inc-b", "v1"], ["UPDATED", "P2", "inc-a", "v2"],
        ["RESOLVED", "P2", "inc-a", "v3"]]
    assert lines[4] == "webhook: inc-a received 2 of 3 versions (v1 open, v3 resolved), every signature valid"
    assert lines[5].split()[1:5] == ["RESOLVED", "P2", "inc-b", "v2"]
    assert lines[6] == "webhook: inc-b received 1 of 2 versions (v2 resolved), every signature valid"
    assert lines[7] == "demo: all 2 incidents resolved; the webhook received 3 notifications, every signature valid"
    assert len(lines) == 8


async def test_each_incident_links_its_console_page_once_after_its_first_line() -> None:
    out = io.StringIO()
    console = DemoConsole(out, console_url="http://127.0.0.1:8080")
    console.version(_version("inc-a", 1, "open"))
    console.version(_version("inc-a", 2, "updated"))
    console.version(_version("inc-b", 1, "open"))
    lines = _lines(out)
    assert [line.strip() for line in lines if "console:" in line] == [
        "console: http://127.0.0.1:8080/incidents/inc-a", "console: http://127.0.0.1:8080/incidents/inc-b"]
    assert lines[1].strip() == "console: http://127.0.0.1:8080/incidents/inc-a"
    assert "inc-b" in lines[3]
    assert not any("console:" in line for line in _lines(_quiet()))


def _quiet() -> io.StringIO:
    out = io.StringIO()
    DemoConsole(out).version(_version("inc-a", 1, "open"))
    return out


async def test_an_invalid_signature_is_printed_at_once_and_in_the_summaries() -> None:
    out = io.StringIO()
    console = DemoConsole(out)
    console.version(_version("inc-a", 1, "open"))
    console.delivery("inc-a", 1, "open", signed=False)
    assert _lines(out)[-1] == "webhook: inc-a v1 open: signature INVALID"
    console.version(_version("inc-a", 2, "resolved"))
    console.delivery("inc-a", 2, "resolved", signed=True)
    assert _lines(out)[-2:] == [
        "webhook: inc-a received 1 of 2 versions (v2 resolved), 1 delivery with an INVALID signature",
        "demo: the only incident resolved; the webhook received 1 notification, 1 with an INVALID signature"]


async def test_a_resolve_never_delivered_is_reported_after_the_grace_period() -> None:
    out = io.StringIO()
    console = DemoConsole(out, grace_seconds=0.05)
    console.version(_version("inc-a", 1, "open"))
    console.delivery("inc-a", 1, "open", signed=True)
    console.version(_version("inc-a", 2, "resolved"))
    assert _lines(out)[-1].split()[1] == "RESOLVED"
    await asyncio.sleep(0.2)
    assert _lines(out)[-2:] == [
        "webhook: inc-a received 1 of 2 versions (v1 open), every signature valid; its resolve was not delivered "
        "within 0.05 s",
        "demo: the only incident resolved; the webhook received 1 notification, every signature valid"]


async def test_a_reopened_incident_is_announced_again_when_it_resolves_again() -> None:
    out = io.StringIO()
    console = DemoConsole(out)
    for number, status in ((1, "open"), (2, "resolved")):
        console.version(_version("inc-a", number, status))
        console.delivery("inc-a", number, status, signed=True)
    console.version(_version("inc-a", 3, "open"))
    console.delivery("inc-a", 3, "open", signed=True)
    assert "reopened" in _lines(out)[-1]
    console.version(_version("inc-a", 4, "resolved"))
    console.delivery("inc-a", 4, "resolved", signed=True)
    assert sum(line.startswith("demo: the only incident resolved") for line in _lines(out)) == 2
    assert _lines(out)[-2] == ("webhook: inc-a received 4 of 4 versions (v1 open, v2 resolved, v3 open, "
                               "v4 resolved), every signature valid")


def test_notification_note_states_the_interval_and_the_demo_speed_up() -> None:
    note = notification_note(AiopsConfig(), speedup=100.0)
    assert "at most every 5m of event time per incident (delivery.repeat_interval_seconds = 300)" in note
    assert "event time runs 100x faster here, so that is every 3s of wall time" in note
    every = AiopsConfig.model_validate({"delivery": {"repeat_interval_seconds": 0}})
    assert "every incident version" in notification_note(every, speedup=100.0)
