"""Receiver configuration models (`delivery.receivers.<kind>.<name>`), one model per receiver kind.

Each receiver has reliability settings (deadline, backoff, rate limit, circuit breaker), an optional
fallback receiver and `string.Template` title/body templates checked against `TEMPLATE_VARIABLES`.
Fields documented as *secret* take a literal, ``${ENV:NAME}`` or ``file:/path`` (resolved when the sink
is built, by `aiops.sinks.security`). Models only; no I/O.
"""

from __future__ import annotations

from string import Template
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from aiops.config_base import StrictModel
from aiops.incidents import Priority

TEMPLATE_VARIABLES = frozenset({
    "id", "version", "idempotency_key", "status", "priority", "title", "services", "hosts", "root_cause",
    "summary", "owner", "runbook", "link", "members", "first_seen", "last_seen", "change",
})
DEFAULT_TITLE = "[$priority] $title"
DEFAULT_BODY = "Status: $status (v$version)\nServices: $services\nRoot cause: $root_cause\n$summary"
SECRET = "Secret: literal, ${ENV:NAME} or file:/path."  # noqa: S105 (help text)


class ReliabilityConfig(StrictModel):
    timeout_seconds: float = Field(5.0, gt=0, description="Per attempt.")
    deadline_seconds: float = Field(300.0, gt=0, description="Then fallback, then dead letter.")
    initial_backoff_seconds: float = Field(0.5, gt=0)
    max_backoff_seconds: float = Field(30.0, gt=0)
    rate_limit_per_second: float = Field(10.0, gt=0, description="Token bucket refill rate.")
    rate_limit_burst: int = Field(20, ge=1)
    circuit_failure_threshold: int = Field(5, ge=1, description="Consecutive failures that open the circuit.")
    circuit_open_seconds: float = Field(30.0, gt=0, description="Open this long, then one trial request.")


class ReceiverBase(StrictModel):
    reliability: ReliabilityConfig = ReliabilityConfig()
    fallback: str | None = Field(None, description="Receiver tried when this one finally fails.")
    title_template: str = DEFAULT_TITLE
    body_template: str = DEFAULT_BODY

    @field_validator("title_template", "body_template")
    @classmethod
    def _template(cls, value: str) -> str:
        template = Template(value)
        if not template.is_valid():
            raise ValueError("invalid template (use $name or ${name}; $$ for a dollar)")
        unknown = set(template.get_identifiers()) - TEMPLATE_VARIABLES
        if unknown:
            raise ValueError(f"unknown template variables {sorted(unknown)}; known: {sorted(TEMPLATE_VARIABLES)}")
        return value


class WebhookReceiverConfig(ReceiverBase):
    """Generic JSON webhook, HMAC-SHA256 signed when `signing_secret` is set."""

    url: str = Field(description=SECRET)
    signing_secret: str | None = Field(None, description=SECRET)
    headers: dict[str, str] = Field(default_factory=dict, description="Values may be secret references.")


class SlackReceiverConfig(ReceiverBase):
    url: str = Field(description="Incoming-webhook URL. " + SECRET)


class TeamsReceiverConfig(ReceiverBase):
    url: str = Field(description="Incoming-webhook / workflow URL. " + SECRET)


PagerDutySeverity = Literal["critical", "error", "warning", "info"]
PRIORITIES: tuple[Priority, ...] = ("P1", "P2", "P3", "P4", "P5")


def _severities() -> dict[Priority, PagerDutySeverity]:
    return {"P1": "critical", "P2": "error", "P3": "warning", "P4": "info", "P5": "info"}


def _urgencies() -> dict[Priority, str]:
    return {"P1": "1", "P2": "1", "P3": "2", "P4": "3", "P5": "3"}


def _jira_priorities() -> dict[Priority, str]:
    return {"P1": "Highest", "P2": "High", "P3": "Medium", "P4": "Low", "P5": "Lowest"}


def _complete(value: dict[Priority, Any]) -> dict[Priority, Any]:
    missing = [p for p in PRIORITIES if p not in value]
    if missing:
        raise ValueError(f"give a value for every priority; missing {missing}")
    return value


class PagerDutyReceiverConfig(ReceiverBase):
    url: str = "https://events.pagerduty.com/v2/enqueue"
    routing_key: str = Field(description="Integration key. " + SECRET)
    on_update: Literal["trigger", "acknowledge", "skip"] = Field(
        "trigger", description="Event action sent for `updated` versions."
    )
    severity: dict[Priority, PagerDutySeverity] = Field(default_factory=_severities)
    source: str = "aiops"

    _check_severity = field_validator("severity")(_complete)


class ServiceNowReceiverConfig(ReceiverBase):
    instance_url: str = Field(description="https://<instance>.service-now.com. " + SECRET)
    table: str = "incident"
    username: str = Field(description=SECRET)
    password: str = Field(description=SECRET)
    correlation_field: str = "correlation_id"
    version_field: str = Field("u_aiops_version", description="Stores the last applied incident version.")
    resolved_state: str = "6"
    acknowledged_state: str = Field("2", description="State set when an operator acknowledges (2: In Progress).")
    new_state: str = Field("1", description="State set on an operator's unacknowledge or reopen (1: New).")
    close_code: str = "Solved (Permanently)"
    urgency: dict[Priority, str] = Field(default_factory=_urgencies, description="Also used as impact.")
    assignment_group: str = Field("", description="'' leaves it to ServiceNow's assignment rules.")

    _check_urgency = field_validator("urgency")(_complete)


class JiraReceiverConfig(ReceiverBase):
    base_url: str = Field(description="https://<site>.atlassian.net. " + SECRET)
    project_key: str
    issue_type: str = "Bug"
    email: str = Field(description=SECRET)
    api_token: str = Field(description=SECRET)
    labels: list[str] = Field(default_factory=lambda: ["aiops"])
    resolve_transition: str = "Done"
    reopen_transition: str = "Reopen"
    reopen_within_seconds: float = Field(
        86400.0, ge=0, description="A done issue updated within this long is reopened; later, a new issue "
                                   "is created; 0 never reopens."
    )
    priority_names: dict[Priority, str] = Field(default_factory=_jira_priorities)

    _check_priorities = field_validator("priority_names")(_complete)


ReceiverConfig = (
    WebhookReceiverConfig | SlackReceiverConfig | TeamsReceiverConfig | PagerDutyReceiverConfig
    | ServiceNowReceiverConfig | JiraReceiverConfig
)
KINDS = ("webhook", "slack", "teams", "pagerduty", "servicenow", "jira")


class ReceiversConfig(StrictModel):
    """Receivers by kind, each keyed by its name (names are unique across kinds)."""

    webhook: dict[str, WebhookReceiverConfig] = Field(default_factory=dict)
    slack: dict[str, SlackReceiverConfig] = Field(default_factory=dict)
    teams: dict[str, TeamsReceiverConfig] = Field(default_factory=dict)
    pagerduty: dict[str, PagerDutyReceiverConfig] = Field(default_factory=dict)
    servicenow: dict[str, ServiceNowReceiverConfig] = Field(default_factory=dict)
    jira: dict[str, JiraReceiverConfig] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _unique_names(self) -> ReceiversConfig:
        seen: dict[str, str] = {}
        for kind in KINDS:
            for name in getattr(self, kind):
                if name in seen:
                    raise ValueError(f"receiver name {name!r} is used by both {seen[name]} and {kind}")
                seen[name] = kind
        return self

    def by_name(self) -> dict[str, ReceiverConfig]:
        found: dict[str, ReceiverConfig] = {}
        for kind in KINDS:
            found.update(getattr(self, kind))
        return found

    def kind_of(self, name: str) -> str:
        return next(kind for kind in KINDS if name in getattr(self, kind))

    def config_key(self, name: str) -> str:
        """The receiver's config key path, ``delivery.receivers.<kind>.<name>``, as errors name it."""
        return f"delivery.receivers.{self.kind_of(name)}.{name}"
