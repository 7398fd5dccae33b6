"""User templates (`string.Template`) for receiver titles and bodies, and the variables they can use.

`template_context` flattens an incident into strings (see `TEMPLATE_VARIABLES`); `render` substitutes
them (unknown names were already refused by config validation; `safe_substitute` keeps any leftover text
as written). Pure; no Jinja2 dependency.
"""

from __future__ import annotations

from string import Template

from aiops.incidents import Incident


def root_cause_text(incident: Incident) -> str:
    if not incident.root_cause:
        return "unknown"
    top = incident.root_cause[0]
    where = f"{top.service}@{top.host}" if top.host else top.service
    return f"{where} ({top.reason})" if top.reason else where


def incident_link(link_template: str, incident: Incident) -> str:
    return Template(link_template).safe_substitute(id=incident.id, version=str(incident.version))


def template_context(incident: Incident, link: str = "") -> dict[str, str]:
    change = incident.change
    change_text = change.reason or (f"+{len(change.added)} member(s), {len(change.resolved)} resolved"
                                    if change.added or change.resolved else "")
    return {
        "id": incident.id,
        "version": str(incident.version),
        "idempotency_key": incident.idempotency_key,
        "status": incident.status,
        "priority": incident.priority,
        "title": incident.title,
        "services": ", ".join(incident.services),
        "hosts": ", ".join(incident.hosts),
        "root_cause": root_cause_text(incident),
        "summary": incident.explanation.summary or incident.title,
        "owner": incident.context.owner or "",
        "runbook": incident.context.runbook or "",
        "link": link,
        "members": str(len(incident.members)),
        "first_seen": incident.first_seen.isoformat(),
        "last_seen": incident.last_seen.isoformat(),
        "change": change_text,
    }


def render(template: str, context: dict[str, str]) -> str:
    return Template(template).safe_substitute(context)
