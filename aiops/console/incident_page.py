"""The incident page: what broke, why aiops thinks so, and the forms to act on it.

Sections: the title with priority, status, acknowledgement and the factors behind the priority; the ranked
root-cause candidates (`charts.factor_bars`) with their reasons; context (owner, team, runbook, links); the
service graph (`graph.service_graph`); the members with their evidence (a chart per metric anomaly, the
template and example lines per log anomaly, split / unlink / silence per member); the timeline
(`timeline`). A responder gets the action forms (acknowledge, resolve, assign, note, snooze, merge); a
viewer sees none. Every form posts to ``/incidents/{id}/actions`` with the CSRF token. Pure.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from urllib.parse import urlencode

from aiops.console.charts import anomaly_chart, factor_bars
from aiops.console.graph import service_graph
from aiops.console.markup import Markup, Viewer, hidden_csrf, join, page, tag, when
from aiops.console.timeline import timeline_section
from aiops.incidents import Incident, Member
from aiops.store.models import IncidentDetail


def _action_form(incident_id: str, viewer: Viewer, kind: str, label: str, *fields: Markup) -> Markup:
    return tag("form", hidden_csrf(viewer), tag("input", type="hidden", name="kind", value=kind), *fields,
               tag("button", label, type="submit", data_action=kind),
               method="post", action=f"/incidents/{incident_id}/actions", class_=f"action {kind}")


def _field(name: str, label: str, *, kind: str = "text", required: bool = False, value: str = "",
           form: str = "") -> Markup:
    field_id = f"{form}-{name}" if form else name
    return tag("label", label, " ", tag("input", type=kind, name=name, id=field_id, value=value, required=required),
               for_=field_id)


def actions_section(incident: Incident, viewer: Viewer) -> Markup:
    if not viewer.may_act:
        return tag("p", "You can read this incident; acting on it needs a responder token.", class_="muted")
    i = incident.id
    toggles = [
        _action_form(i, viewer, "unacknowledge", "Unacknowledge") if incident.acknowledged_by else
        _action_form(i, viewer, "acknowledge", "Acknowledge"),
        _action_form(i, viewer, "reopen", "Reopen") if incident.status == "resolved" else
        _action_form(i, viewer, "resolve", "Resolve"),
    ]
    forms = [
        _action_form(i, viewer, "assign", "Assign", _field("owner", "Owner", form="assign"),
                     _field("team", "Team", form="assign")),
        _action_form(i, viewer, "note", "Add note", _field("comment", "Note", required=True, form="note")),
        _action_form(i, viewer, "snooze", "Snooze", _field("minutes", "Minutes", kind="number", value="60",
                                                           required=True, form="snooze")),
        _action_form(i, viewer, "merge", "Merge", _field("into", "Into incident", required=True, form="merge")),
    ]
    return tag("section", tag("h2", "Act", id="act"), tag("div", *toggles, class_="toggles"), *forms,
               aria_labelledby="act", class_="actions")


def _priority(incident: Incident) -> Markup:
    factors = incident.explanation.priority
    if not factors:
        return Markup("")
    items = [tag("li", tag("b", f.factor), f": {f.value} ", tag("small", f"(weight {f.weight:g})")) for f in factors]
    return tag("details", tag("summary", f"Why {incident.priority}"), tag("ul", *items), open=True, class_="why")


def _context(incident: Incident) -> Markup:
    c = incident.context
    rows = [("Owner", c.owner), ("Team", c.team), ("Tier", None if c.tier is None else str(c.tier))]
    cells = [tag("div", tag("dt", label), tag("dd", value)) for label, value in rows if value]
    if c.runbook:
        cells.append(tag("div", tag("dt", "Runbook"), tag("dd", tag("a", c.runbook, href=c.runbook, rel="noopener"))))
    cells += [tag("div", tag("dt", name), tag("dd", tag("a", url, href=url, rel="noopener")))
              for name, url in c.links.items()]
    if incident.snoozed_until is not None:
        cells.append(tag("div", tag("dt", "Snoozed until"), tag("dd", when(incident.snoozed_until))))
    return tag("dl", *cells, class_="context") if cells else tag("p", "No catalogue context.", class_="muted")


def silence_link(member: Member) -> str:
    """The silences page's form pre-filled with matchers for this member (edited there before creating)."""
    matchers = [f"name={member.name}", f"service={member.service}"]
    if member.host:
        matchers.append(f"host={member.host}")
    return "/silences?" + urlencode({"matchers": "\n".join(matchers), "comment": f"from incident member {member.name}"})


def _evidence(member: Member) -> Markup:
    e = member.evidence
    if e is None:
        return Markup("")
    figures = f"{e.detector}: score {e.score:.4g} (threshold {e.threshold:.4g})"
    if e.observed is not None:
        expected = "n/a" if e.expected is None else f"{e.expected:.4g}"
        figures += f"; observed {e.observed:.4g} vs expected {expected}"
    parts = [tag("p", figures, " · onset ", when(e.onset))]
    if member.origin == "metric_anomaly":
        parts.append(anomaly_chart(member.name, e))
    template = e.details.get("template") or member.annotations.get("template")
    if template:
        parts.append(tag("p", "Template: ", tag("code", template)))
    if e.samples:
        parts.append(tag("pre", "\n".join(e.samples[:5]), class_="samples", aria_label="Example lines"))
    return join(parts)


def _member(incident: Incident, member: Member, viewer: Viewer) -> Markup:
    where = member.service + (f"/{member.host}" if member.host else "")
    actions = Markup("")
    if viewer.may_act and incident.status != "resolved":
        member_field = tag("input", type="hidden", name="member", value=member.fingerprint)
        actions = tag("div", _action_form(incident.id, viewer, "split", "Split out", member_field),
                      _action_form(incident.id, viewer, "unlink", "Unlink", member_field),
                      tag("a", "Silence like this…", href=silence_link(member), class_="button"), class_="toggles")
    labels = ", ".join(f"{k}={v}" for k, v in sorted(member.labels.items()))
    return tag("li", tag("h3", member.name, " ", tag("small", f"{member.origin} · {where} · {member.status} · "
                                                               f"{member.severity}")),
               tag("p", member.summary) if member.summary else "",
               tag("p", tag("small", f"joined because: {member.joined_because}")) if member.joined_because else "",
               tag("p", tag("small", labels)) if labels else "",
               _evidence(member), actions, class_=f"member {member.status}", data_fingerprint=member.fingerprint)


def incident_page(detail: IncidentDetail, viewer: Viewer, *, depends_on: Mapping[str, Collection[str]],
                  cut: bool, flash: str = "") -> Markup:
    incident = detail.incident
    top = incident.root_cause[0].service if incident.root_cause else None
    ack = (join([" · acknowledged by ", tag("b", incident.acknowledged_by, id="acknowledged-by")])
           if incident.acknowledged_by else Markup(""))
    reasons = tag("ol", *(tag("li", tag("b", c.service), f": {c.reason}") for c in incident.root_cause if c.reason))
    members = [_member(incident, member, viewer) for member in incident.members]
    if incident.members_truncated:
        members.append(tag("li", f"… and {incident.members_truncated} more members not carried by this version"))
    body = join([
        tag("p", flash, role="status", class_="flash") if flash else "",
        tag("p", tag("a", "← Incidents", href="/"), " · ",
            tag("a", "Who it reaches, and why", href="/routing?" + urlencode({"incident": incident.id}))),
        tag("h1", tag("span", incident.priority, class_=f"prio {incident.priority}"), " ", incident.title),
        tag("p", tag("span", incident.status, class_=f"status {incident.status}", id="status"),
            f" · version {incident.version} · {incident.id} · first seen ", when(incident.first_seen),
            " · last seen ", when(incident.last_seen), ack,
            f" · merged into {incident.merged_into}" if incident.merged_into else ""),
        _priority(incident),
        actions_section(incident, viewer),
        tag("section", tag("h2", "Probable root cause", id="root-cause"), factor_bars(incident.root_cause), reasons,
            aria_labelledby="root-cause"),
        tag("section", tag("h2", "Context", id="context"), _context(incident), aria_labelledby="context"),
        tag("section", tag("h2", "Service graph", id="graph"),
            service_graph(depends_on, set(incident.services), top), aria_labelledby="graph"),
        tag("section", tag("h2", f"Members ({len(incident.members) + incident.members_truncated})", id="members"),
            tag("ul", *members, class_="members"), aria_labelledby="members"),
        timeline_section(detail.timeline, detail.decisions, detail.notifications, cut),
    ])
    return page(incident.title, body, viewer, data={"page": "incident", "incident": incident.id,
                                                     "version": str(incident.version)})
