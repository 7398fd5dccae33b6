"""ITSM receivers that keep one record per incident: ServiceNow (table API) and Jira (REST v2).

Both look the record up again on every delivery (ServiceNow by the correlation field = incident id, Jira
by the label ``aiops-<id>``), so a retry after a lost response never creates a second record. Both store
the last applied incident version on the record (ServiceNow: `version_field`; Jira: the ``aiops`` issue
property, written last) and skip versions at or below it, so duplicates and stale replays are no-ops.
ServiceNow updates in place and resolves by setting `resolved_state` (an operator's acknowledgement:
`acknowledged_state`, In Progress). Jira comments on updates (an operator action's who and why first),
transitions on resolve, and reopens a done issue updated within `reopen_within_seconds` (later: a new
issue). One HTTP exchange sequence per `deliver`; retrying is done around these sinks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from aiops.errors import DeliveryRejectedError
from aiops.incidents import Incident
from aiops.sinks.receiver_config import JiraReceiverConfig, ServiceNowReceiverConfig
from aiops.sinks.receivers import ReceiverSink, SinkOptions

JIRA_PROPERTY = "aiops"


def servicenow_fields(incident: Incident, config: ServiceNowReceiverConfig, title: str, body: str
                      ) -> dict[str, str]:
    fields = {
        "short_description": title[:160], "description": body, "urgency": config.urgency[incident.priority],
        "impact": config.urgency[incident.priority], config.correlation_field: incident.id,
        config.version_field: str(incident.version),
        "work_notes": f"aiops {incident.idempotency_key} {incident.status}: {incident.change.reason or body[:200]}",
    }
    if config.assignment_group:
        fields["assignment_group"] = config.assignment_group
    if incident.status == "resolved":
        fields.update({"state": config.resolved_state, "close_code": config.close_code, "close_notes": body})
    elif incident.change.action == "acknowledge":
        fields["state"] = config.acknowledged_state
    elif incident.change.action in ("unacknowledge", "reopen"):
        fields["state"] = config.new_state
    return fields


def jira_comment(incident: Incident, body: str) -> str:
    """The comment of one version: an operator action's who and why first (a note's text), then the body."""
    head = f"{incident.idempotency_key} {incident.status}"
    change = incident.change
    if change.action is not None:
        head += f"\n{change.reason}"  # "<kind> by <actor>: <comment>"
    return f"{head}\n{body}"


class ServiceNowSink(ReceiverSink):
    def __init__(self, name: str, config: ServiceNowReceiverConfig, options: SinkOptions, *, instance_url: str,
                 username: str, password: str) -> None:
        super().__init__(name, config, options)
        self.config = config
        self.table_url = f"{instance_url.rstrip('/')}/api/now/table/{config.table}"
        self.auth = (username, password)

    async def find(self, incident_id: str) -> dict[str, Any] | None:
        c = self.config
        query = quote(f"{c.correlation_field}={incident_id}", safe="=")
        url = (f"{self.table_url}?sysparm_query={query}&sysparm_limit=1"
               f"&sysparm_fields=sys_id,state,{c.correlation_field},{c.version_field}")
        found = await self.client.request("GET", url, auth=self.auth)
        results = found.get("result", []) if isinstance(found, dict) else []
        return results[0] if results else None

    async def deliver(self, incident: Incident) -> None:
        title, body, link = self.texts(incident)
        if link:
            body = f"{body}\n{link}"
        record = await self.find(incident.id)
        fields = servicenow_fields(incident, self.config, title, body)
        if record is None:
            await self.client.request("POST", self.table_url, json_body=fields, auth=self.auth)
            return
        if _int(record.get(self.config.version_field)) >= incident.version:
            return  # already applied (duplicate or stale replay)
        await self.client.request("PATCH", f"{self.table_url}/{record['sys_id']}", json_body=fields, auth=self.auth)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


class JiraSink(ReceiverSink):
    def __init__(self, name: str, config: JiraReceiverConfig, options: SinkOptions, *, base_url: str, email: str,
                 api_token: str) -> None:
        super().__init__(name, config, options)
        self.config = config
        self.api = f"{base_url.rstrip('/')}/rest/api/2"
        self.auth = (email, api_token)

    def label(self, incident: Incident) -> str:
        return f"aiops-{incident.id}"

    async def find(self, incident: Incident) -> dict[str, Any] | None:
        jql = quote(f'labels = "{self.label(incident)}" ORDER BY created DESC')
        url = (f"{self.api}/search?jql={jql}&maxResults=1&fields=status,resolutiondate"
               f"&properties={JIRA_PROPERTY}")
        found = await self.client.request("GET", url, auth=self.auth)
        issues = found.get("issues", []) if isinstance(found, dict) else []
        return issues[0] if issues else None

    async def create(self, incident: Incident, title: str, body: str) -> None:
        c = self.config
        fields = {"project": {"key": c.project_key}, "issuetype": {"name": c.issue_type}, "summary": title[:250],
                  "description": body, "labels": [*c.labels, self.label(incident)],
                  "priority": {"name": c.priority_names[incident.priority]}}
        created = await self.client.request("POST", f"{self.api}/issue", auth=self.auth, json_body={
            "fields": fields, "properties": [{"key": JIRA_PROPERTY, "value": _marker(incident)}]})
        if incident.status == "resolved" and isinstance(created, dict):
            await self.transition(str(created["key"]), c.resolve_transition)

    async def transition(self, key: str, name: str) -> None:
        found = await self.client.request("GET", f"{self.api}/issue/{key}/transitions", auth=self.auth)
        transitions = found.get("transitions", []) if isinstance(found, dict) else []
        match = next((t for t in transitions if str(t.get("name", "")).lower() == name.lower()), None)
        if match is None:
            raise DeliveryRejectedError(f"{self.name}: issue {key} has no transition named {name!r}")
        await self.client.request("POST", f"{self.api}/issue/{key}/transitions", auth=self.auth,
                                  json_body={"transition": {"id": match["id"]}})

    async def deliver(self, incident: Incident) -> None:
        title, body, link = self.texts(incident)
        if link:
            body = f"{body}\n{link}"
        issue = await self.find(incident)
        if issue is None:
            await self.create(incident, title, body)
            return
        applied = _int((issue.get("properties") or {}).get(JIRA_PROPERTY, {}).get("version"))
        if applied >= incident.version:
            return
        fields = issue.get("fields") or {}
        done = ((fields.get("status") or {}).get("statusCategory") or {}).get("key") == "done"
        if done and incident.status != "resolved":
            if not self._may_reopen(fields.get("resolutiondate"), incident):
                await self.create(incident, title, body)
                return
            await self.transition(issue["key"], self.config.reopen_transition)
        elif not done and incident.status == "resolved":
            await self.transition(issue["key"], self.config.resolve_transition)
        await self.client.request("PUT", f"{self.api}/issue/{issue['key']}", auth=self.auth, json_body={
            "fields": {"summary": title[:250], "priority": {"name": self.config.priority_names[incident.priority]}},
            "update": {"comment": [{"add": {"body": jira_comment(incident, body)}}]},
            "properties": [{"key": JIRA_PROPERTY, "value": _marker(incident)}],
        })

    def _may_reopen(self, resolved_at: Any, incident: Incident) -> bool:
        window = self.config.reopen_within_seconds
        if window <= 0:
            return False
        try:
            when = datetime.fromisoformat(str(resolved_at).replace("Z", "+00:00"))
        except ValueError:
            return True  # unknown resolution time: reopen rather than fork the history
        if when.tzinfo is None:
            return True
        return (incident.last_seen - when).total_seconds() <= window


def _marker(incident: Incident) -> dict[str, Any]:
    return {"incident": incident.id, "version": incident.version}
