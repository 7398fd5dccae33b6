"""The operator side's pure parts: API config and roles, problem details, audit entries, silences mapping.

What the HTTP operator API (`aiops.runtime.api_http`) decides without I/O: who may do what (`auth`), the
RFC 9457 bodies it answers errors with (`problems`), what an audit entry holds and where it goes
(`audit`), how an action request becomes an `aiops.actions.Action` (`requests`), how Alertmanager's
silences map to aiops's (`silences`) and the OpenAPI document (`openapi`). No clock, no Kafka, no HTTP.
"""
