"""Secrets of a configuration: find every secret reference, resolve them all, report every failure at once.

Receiver fields documented as secrets (URLs, keys, tokens, passwords, header values; see
`aiops.sinks.receiver_config.SECRET`), ingest integration tokens, operator API tokens and `store.url` take a literal,
``${ENV:NAME}`` (an environment variable) or ``file:/path`` (a file's content, trailing newline stripped);
`aiops.sinks.security.resolve_secret` reads one. NAME may not start with ``AIOPS_``: every ``AIOPS_*``
variable is a config override (`aiops.config`).

`check_delivery` is what ``aiops check-config``, ``aiops run`` and ``aiops deliver`` call before anything
starts: it resolves every reference and raises one `ConfigError` (one line) naming each failing key with its
variable or file, then builds the receivers exactly as the delivery workers will (destination allowlist,
fallbacks; their errors name the same keys), so a file that passes ``check-config`` does not fail on its
secrets or receivers at run time. It reads the environment and secret files; it opens no connection and never
puts a secret's value in a message.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from pydantic import BaseModel

from aiops.config import AiopsConfig
from aiops.errors import ConfigError
from aiops.sinks.factory import build_receivers
from aiops.sinks.receiver_config import SECRET
from aiops.sinks.security import resolve_secret

_SECRET_MAPPING_MARKER = "secret references"  # noqa: S105 (`headers`' description: every value may be one)


@dataclass(frozen=True)
class SecretReference:
    """One secret-capable value: its config key path and the value as written (literal or reference)."""

    where: str
    value: str

    @property
    def is_reference(self) -> bool:
        """True for ``${ENV:NAME}`` and ``file:/path`` values (read at start-up), False for literals."""
        return self.value.startswith(("${", "file:"))


@dataclass(frozen=True)
class DeliveryCheck:
    """What `check_delivery` verified: receivers built, secret references (variables, files) resolved."""

    receivers: int
    secrets: int


def _secret_values(model: BaseModel, where: str) -> Iterator[SecretReference]:
    for name, field in type(model).model_fields.items():
        description = field.description or ""
        value = getattr(model, name)
        # Every URL is resolved like a secret when the sink is built (`aiops.sinks.factory`), documented or not.
        if (SECRET in description or name.endswith("url")) and isinstance(value, str):
            yield SecretReference(f"{where}.{name}", value)
        elif _SECRET_MAPPING_MARKER in description and isinstance(value, dict):
            for key, item in value.items():
                yield SecretReference(f"{where}.{name}.{key}", item)


def secret_references(config: AiopsConfig) -> list[SecretReference]:
    """Every secret-capable value of the configured receivers, ingest integrations and API tokens, in config
    order."""
    receivers = config.delivery.receivers
    found: list[SecretReference] = []
    for name, receiver in receivers.by_name().items():
        found.extend(_secret_values(receiver, receivers.config_key(name)))
    for name, integration in config.ingest.http.integrations.items():
        if integration.token is not None:
            found.append(SecretReference(f"ingest.http.integrations.{name}.token", integration.token))
    for name, api_token in config.api.tokens.items():
        found.append(SecretReference(f"api.tokens.{name}.token", api_token.token))
    if config.store.url is not None:
        found.append(SecretReference("store.url", config.store.url))
    return found


def unresolved_secrets(config: AiopsConfig, environ: Mapping[str, str] | None = None) -> list[str]:
    """One message per secret that cannot be resolved (unset variable, unreadable file, reserved name)."""
    problems: list[str] = []
    for reference in secret_references(config):
        try:
            resolve_secret(reference.value, reference.where, environ)
        except ConfigError as error:
            problems.append(str(error))
    return problems


def check_delivery(config: AiopsConfig, origin: str | None = None,
                   environ: Mapping[str, str] | None = None) -> DeliveryCheck:
    """Resolve every secret and build every receiver; one `ConfigError`, one line, naming every unresolved
    secret."""
    problems = unresolved_secrets(config, environ)
    place = f" in {origin}" if origin else ""
    if len(problems) == 1:
        raise ConfigError(f"cannot resolve a secret{place}: {problems[0]}")
    if problems:
        raise ConfigError(f"{len(problems)} secrets cannot be resolved{place} (set the variables, or create the "
                          f"files): {'; '.join(problems)}")
    built = build_receivers(config.delivery, environ)
    references = [reference for reference in secret_references(config) if reference.is_reference]
    return DeliveryCheck(receivers=len(built), secrets=len(references))
