"""The incident page's timeline: versions, correlation decisions, operator actions and notifications merged
by time, newest first, each one line a responder can read.

A version says what changed (members added, resolved, removed; the reason) and, when it records an operator
action, who did what; a decision says why a member joined, merged, was suppressed or what an action's outcome
was; a notification says who was paged through which receiver, when, and the outcome. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from aiops.console.markup import Markup, tag, when
from aiops.decisions import Decision
from aiops.sinks.notifications import NotificationRecord
from aiops.store.models import TimelineEntry


@dataclass(frozen=True)
class Moment:
    at: datetime
    kind: str
    text: str


def _version_text(entry: TimelineEntry) -> str:
    change = entry.change
    parts = [f"version {entry.version}: {entry.status}, {entry.priority}, {entry.members} members"]
    if change.action is not None:
        parts.append(f"{change.action} by {change.actor or 'someone'}")
    for label, items in (("added", change.added), ("resolved", change.resolved), ("removed", change.removed)):
        if items:
            parts.append(f"{label} {len(items)}: {', '.join(items[:3])}{' …' if len(items) > 3 else ''}")
    if change.reason:
        parts.append(change.reason)
    return "; ".join(parts)


def _decision_text(decision: Decision) -> str:
    parts = [decision.kind.replace("_", " ")]
    if decision.member:
        parts.append(decision.member)
    parts.append(f"rule {decision.rule}")
    if decision.score is not None:
        parts.append(f"score {decision.score:.2f}")
    if decision.actor:
        parts.append(f"by {decision.actor}" + (f" ({decision.outcome})" if decision.outcome else ""))
    if decision.reason:
        parts.append(decision.reason)
    if decision.comment:
        parts.append(f"“{decision.comment}”")
    return "; ".join(parts)


def _notification_text(record: NotificationRecord) -> str:
    text = f"{record.receiver} ({record.receiver_kind}): version {record.version} {record.outcome}"
    if record.attempt:
        text += f", attempt {record.attempt}"
    if record.status_code is not None:
        text += f", HTTP {record.status_code}"
    if record.error:
        text += f": {record.error}"
    return text


def moments(timeline: Sequence[TimelineEntry], decisions: Sequence[Decision],
            notifications: Sequence[NotificationRecord]) -> list[Moment]:
    """Everything that happened to the incident, newest first."""
    found = [Moment(entry.published_at or entry.last_seen,
                    "action" if entry.change.action is not None else "version", _version_text(entry))
             for entry in timeline]
    found += [Moment(d.ts, "action" if d.kind == "action" else "decision", _decision_text(d)) for d in decisions]
    found += [Moment(n.at, "notification", _notification_text(n)) for n in notifications]
    return sorted(found, key=lambda moment: moment.at, reverse=True)


def timeline_section(timeline: Sequence[TimelineEntry], decisions: Sequence[Decision],
                     notifications: Sequence[NotificationRecord], cut: bool) -> Markup:
    items = [tag("li", when(m.at), " ", tag("span", m.kind, class_=f"kind {m.kind}"), " ", m.text)
             for m in moments(timeline, decisions, notifications)]
    note = tag("p", "Only the latest items of each list are shown.", class_="muted") if cut else Markup("")
    return tag("section", tag("h2", "Timeline", id="timeline"), note, tag("ol", *items, class_="timeline"),
               aria_labelledby="timeline")
