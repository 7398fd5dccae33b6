"""Incident sinks: deliver `Incident` versions to receivers (webhook, Slack, Teams, PagerDuty, ServiceNow,
Jira, and an in-memory recorder for tests) with retry.

Sinks classify failures as retryable (`DeliveryError`) or permanent (`DeliveryRejectedError`), over HTTP in
`aiops.sinks.http`; the retry policy lives in `aiops.sinks.retry`, not in the sinks themselves.
"""
