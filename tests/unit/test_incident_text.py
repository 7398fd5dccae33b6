"""`aiops tail` / `aiops demo` lines: one per version, saying what changed in words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aiops.incidents import Incident
from aiops.runtime.incident_text import IncidentNarrator, describe, span

T0 = datetime(2024, 5, 1, 6, 50, tzinfo=UTC)


def _member(fingerprint: str, service: str, name: str, resolved: bool = False) -> dict[str, Any]:
    return {"fingerprint": fingerprint, "origin": "metric_anomaly", "name": name, "service": service,
            "status": "resolved" if resolved else "firing", "severity": "warning", "first_seen": T0,
            "last_seen": T0}


def version(number: int, status: str, members: list[dict[str, Any]], *, priority: str = "P2",
            added: tuple[str, ...] = (), resolved: tuple[str, ...] = (), root: str = "postgres",
            at: float = 0.0, **extra: Any) -> Incident:
    services = sorted({m["service"] for m in members})
    return Incident.model_validate({
        "id": "inc-1", "version": number, "idempotency_key": f"inc-1:{number}", "status": status,
        "priority": priority, "title": "[postgres] latency_p99_ms above baseline", "scope": "s",
        "services": services, "hosts": [], "first_seen": T0, "last_seen": T0 + timedelta(seconds=at),
        "members": members, "root_cause": [{"service": root, "score": 1.0}],
        "change": {"added": list(added), "resolved": list(resolved), "reason": extra.pop("reason", "")},
        **extra,
    })


PG = _member("a", "postgres", "latency_p99_ms")
PAY = _member("b", "payments", "error_rate")
CHK = _member("c", "checkout", "latency_p99_ms")


def test_open_line_has_the_title_members_and_root_cause() -> None:
    line = describe(version(1, "open", [PG], added=("a",)))
    assert line == ("06:50:00 OPEN     P2 inc-1 v1  [postgres] latency_p99_ms above baseline; 1 member (postgres); "
                    "root cause postgres")


def test_update_names_added_members_and_counts_resolved_of_all() -> None:
    members = [{**PG, "status": "resolved"}, {**PAY, "status": "resolved"}, CHK,
               _member("d", "frontend", "x"), _member("e", "frontend", "y"), _member("f", "frontend", "z")]
    line = describe(version(4, "updated", members, added=("c", "d", "e", "f"), resolved=("b",), at=90))
    assert line.startswith("06:51:30 UPDATED  P2 inc-1 v4  +4 members: checkout latency_p99_ms, frontend x, "
                           "frontend y and 1 more; 2 of 6 members resolved; 6 members (checkout, frontend, ")
    assert "2 resolved" not in line.replace("2 of 6 members resolved", "")


def test_priority_and_root_cause_changes_need_the_previous_version() -> None:
    before = version(2, "updated", [PG, PAY], priority="P2", root="payments", added=("b",))
    after = version(3, "updated", [PG, PAY, CHK], priority="P1", added=("c",), at=30)
    line = describe(after, before)
    assert "priority P2 -> P1; +1 member: checkout latency_p99_ms;" in line
    assert line.endswith("root cause postgres (was payments)")
    assert "priority" not in describe(after)


def test_resolved_line_says_how_long_it_was_quiet_and_how_long_it_lasted() -> None:
    members = [{**PG, "status": "resolved"}]
    resolved_at = T0 + timedelta(minutes=20)
    line = describe(version(5, "resolved", members, at=480, resolved_at=resolved_at))
    assert line.startswith("07:10:00 RESOLVED P2 inc-1 v5  resolved after 12m quiet, 20m after it began; 1 member")


def test_merged_and_unchanged_versions() -> None:
    merged = version(3, "resolved", [PG], merged_into="inc-9", resolved_at=T0)
    assert "merged into inc-9" in describe(merged)
    repeat = version(6, "updated", [PG], reason="repeat: unchanged since last notification")
    assert "no member change (repeat: unchanged since last notification)" in describe(repeat)
    assert "v2  reopened; +1 member" in describe(version(2, "open", [PG, PAY], added=("b",)))


def test_narrator_remembers_the_previous_version_and_ignores_re_reads() -> None:
    narrator = IncidentNarrator()
    narrator.line(version(1, "open", [PG], priority="P3", added=("a",)))
    escalated = version(2, "updated", [PG, PAY], priority="P1", added=("b",))
    assert "priority P3 -> P1" in narrator.line(escalated)
    assert "priority" not in narrator.line(escalated)  # a re-read of v2 is not a change from v2
    assert "priority" not in narrator.line(version(3, "updated", [PG, PAY], priority="P1", resolved=("a",)))


@pytest.mark.parametrize(("seconds", "text"), [(0, "0s"), (45, "45s"), (120, "2m"), (500, "8m 20s"),
                                               (3900, "1h 05m")])
def test_span(seconds: float, text: str) -> None:
    assert span(seconds) == text
