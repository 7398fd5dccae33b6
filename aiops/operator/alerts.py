"""Alertmanager API v2 alerts over aiops's incidents: gettableAlerts and alertGroups. Pure (`now` passed in).

An alert is a firing member of an open incident: ``labels`` are the member's labels over ``alertname`` (the
member's name), ``service``, ``instance`` (its host), ``severity`` and ``incident`` (the member's own labels
win); ``annotations`` its annotations (plus ``summary``); ``startsAt``/``updatedAt`` its first/last seen;
``endsAt`` `RESOLVE_AFTER` past the later of now and its last sighting (aiops resolves members itself, as
Alertmanager's resolve_timeout would); ``receivers`` the receivers the delivery routes pick for its incident;
``generatorURL`` the incident in this API. ``status.silencedBy`` lists the active silences (static and
dynamic) matching the member's attributes, as the correlation stage reads them, plus ``maintenance:<name>``
for an active maintenance window; ``inhibitedBy`` the fingerprints of firing members that inhibit it under
`suppression.inhibitions` (indexed once per view); ``state`` is ``suppressed`` when either is non-empty,
else ``active``. At most `MAX_FIRING` members (newest incidents first). `AlertQuery` filters as Alertmanager
does (matchers, ``active``/``silenced``/``inhibited``/``unprocessed``, a ``receiver`` regex checked by
`aiops.operator.regexes`). A group is one open incident (labels ``incident``, ``priority``, ``service``;
receiver its first routed receiver, ``none`` without one) with its alerts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiops.correlation.suppression.matchers import Matcher
from aiops.correlation.suppression.rules import SuppressionPolicy
from aiops.incidents import Incident, Member
from aiops.operator.inhibitions import InhibitionIndex
from aiops.operator.regexes import check_api_regex
from aiops.operator.silences import parse_filter, rfc3339

RESOLVE_AFTER = timedelta(minutes=5)
MAX_FIRING = 10_000
"""Firing members an `AlertView` considers (those of the newest incidents first); the rest are left out."""
FLAGS = ("active", "silenced", "inhibited", "unprocessed")
_TRUE = {"1", "t", "true"}
_FALSE = {"0", "f", "false"}


@dataclass(frozen=True)
class AlertQuery:
    """Alertmanager's GET /api/v2/alerts parameters (every flag defaults to true)."""

    filters: Sequence[Matcher] = ()
    active: bool = True
    silenced: bool = True
    inhibited: bool = True
    unprocessed: bool = True
    receiver: re.Pattern[str] | None = None


def _flag(query: Mapping[str, Sequence[str]], name: str) -> bool:
    values = query.get(name) or ["true"]
    text = values[-1].strip().lower()
    if text not in _TRUE | _FALSE:
        raise ValueError(f"{name}: {values[-1]!r} is not a boolean")
    return text in _TRUE


def parse_alert_query(query: Mapping[str, Sequence[str]]) -> AlertQuery:
    """`query`: parameter -> values; `ValueError` (a `ConfigError` for a matcher) naming what is wrong."""
    receiver_text = (query.get("receiver") or [""])[-1]
    try:
        receiver = re.compile(f"^(?:{check_api_regex(receiver_text)})$") if receiver_text else None
    except (re.error, ValueError) as error:
        raise ValueError(f"receiver: {error}") from None
    flags = {name: _flag(query, name) for name in FLAGS}
    return AlertQuery(filters=parse_filter(query.get("filter", ())), receiver=receiver, **flags)


def member_attributes(member: Member) -> dict[str, str]:
    """What suppression matchers read (as in `aiops.correlation.attrs.attributes`)."""
    attrs = dict(member.labels)
    attrs.update(service=member.service, name=member.name, alertname=member.name, origin=member.origin,
                 severity=member.severity)
    if member.host:
        attrs["host"] = member.host
    return attrs


def alert_labels(incident: Incident, member: Member) -> dict[str, str]:
    labels = {"alertname": member.name, "service": member.service, "severity": member.severity,
              "incident": incident.id}
    if member.host:
        labels["instance"] = member.host
    labels.update(member.labels)
    return labels


@dataclass
class _Firing:
    incident: Incident
    member: Member
    attrs: dict[str, str] = field(default_factory=dict)


def _silenced_by(policy: SuppressionPolicy, attrs: Mapping[str, str], at: float) -> list[str]:
    found = [s.id for s in (*policy.static_silences, *policy.silences) if s.active(at) and s.matches(attrs)]
    found += [f"maintenance:{w.name}" for w in policy.maintenance if w.matches(attrs) and w.active(at)]
    return found


class AlertView:
    """The alerts of a set of open incidents at `now` (see the module docstring)."""

    def __init__(self, incidents: Iterable[Incident], policy: SuppressionPolicy, now: datetime,
                 receivers_of: Callable[[Incident], list[str]], base_url: str) -> None:
        incidents = list(incidents)
        self.now = now
        self.policy = policy
        self.base_url = base_url.rstrip("/")
        self.receivers = {incident.id: receivers_of(incident) for incident in incidents
                          if incident.status != "resolved"}
        seen: set[str] = set()
        self.firing: list[_Firing] = []
        for incident in incidents:  # newest first: a fingerprint in two incidents shows in the newer one
            if incident.id not in self.receivers:
                continue
            for member in incident.members:
                if member.status == "firing" and member.fingerprint not in seen and len(seen) < MAX_FIRING:
                    seen.add(member.fingerprint)
                    self.firing.append(_Firing(incident, member, member_attributes(member)))
        self.inhibitions = InhibitionIndex(policy.inhibitions,
                                           [(item.member.fingerprint, item.attrs) for item in self.firing])

    def _alert(self, item: _Firing) -> dict[str, Any]:
        member, incident = item.member, item.incident
        silenced, inhibited = [], []
        if not self.policy.disabled:
            silenced = _silenced_by(self.policy, item.attrs, self.now.timestamp())
            inhibited = self.inhibitions.inhibited_by(item.attrs)
        annotations = dict(member.annotations)
        if member.summary:
            annotations.setdefault("summary", member.summary)
        return {
            "labels": alert_labels(incident, member), "annotations": annotations,
            "startsAt": rfc3339(member.first_seen), "updatedAt": rfc3339(member.last_seen),
            "endsAt": rfc3339(max(self.now, member.last_seen) + RESOLVE_AFTER),
            "fingerprint": member.fingerprint,
            "receivers": [{"name": name} for name in self.receivers[incident.id]],
            "status": {"state": "suppressed" if silenced or inhibited else "active", "silencedBy": silenced,
                       "inhibitedBy": inhibited},
            "generatorURL": f"{self.base_url}/api/v1/incidents/{incident.id}",
        }

    def _wanted(self, alert: Mapping[str, Any], query: AlertQuery) -> bool:
        status = alert["status"]
        if not query.active and status["state"] == "active":
            return False
        if not query.silenced and status["silencedBy"]:
            return False
        if not query.inhibited and status["inhibitedBy"]:
            return False
        if query.receiver is not None and not any(query.receiver.match(r["name"]) for r in alert["receivers"]):
            return False
        return all(matcher.matches(alert["labels"]) for matcher in query.filters)

    def _selected(self, query: AlertQuery) -> list[tuple[Incident, dict[str, Any]]]:
        found = ((item.incident, self._alert(item)) for item in self.firing)
        return sorted(((incident, alert) for incident, alert in found if self._wanted(alert, query)),
                      key=lambda pair: str(pair[1]["fingerprint"]))

    def alerts(self, query: AlertQuery) -> list[dict[str, Any]]:
        """gettableAlerts, sorted by fingerprint as Alertmanager sorts them."""
        return [alert for _, alert in self._selected(query)]

    def groups(self, query: AlertQuery) -> list[dict[str, Any]]:
        """alertGroups: one per open incident (newest first) with at least one alert left by `query`."""
        grouped: dict[str, tuple[Incident, list[dict[str, Any]]]] = {}
        for incident, alert in self._selected(query):
            grouped.setdefault(incident.id, (incident, []))[1].append(alert)
        groups = []
        for incident_id, receivers in self.receivers.items():
            if incident_id not in grouped:
                continue
            incident, alerts = grouped[incident_id]
            groups.append({"labels": {"incident": incident.id, "priority": incident.priority,
                                      "service": ",".join(incident.services)},
                           "receiver": {"name": receivers[0] if receivers else "none"}, "alerts": alerts})
        return groups
