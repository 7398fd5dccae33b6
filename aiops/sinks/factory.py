"""Build the receivers of a configuration: resolve secrets, check destinations, wrap in guards.

`build_receivers` turns `DeliveryConfig.receivers` into `Receiver` plans: the guarded sink (rate limit +
circuit breaker), its reliability policy, kind and fallback name. Secrets are resolved here (``${ENV:NAME}``,
``file:``) and every destination must pass `delivery.security` (again at send time, per DNS answer); the
injected wall clock reaches every sink.
It starts no I/O: HTTP sessions open on first delivery. Errors are `ConfigError` naming the field only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aiohttp.abc import AbstractResolver

from aiops.clock import Wall, utc_now
from aiops.sinks.base import Sink
from aiops.sinks.circuit import CircuitBreaker, CircuitState, GuardedSink, TokenBucket
from aiops.sinks.config import DeliveryConfig, SecurityConfig
from aiops.sinks.itsm import JiraSink, ServiceNowSink
from aiops.sinks.receiver_config import (
    JiraReceiverConfig,
    PagerDutyReceiverConfig,
    ReceiverConfig,
    ReliabilityConfig,
    ServiceNowReceiverConfig,
    SlackReceiverConfig,
    TeamsReceiverConfig,
    WebhookReceiverConfig,
)
from aiops.sinks.receivers import PagerDutySink, SignedWebhookSink, SinkOptions, SlackSink, TeamsSink
from aiops.sinks.security import check_destination, resolve_secret

OnCircuit = Callable[[str, CircuitState], None]


@dataclass
class Receiver:
    name: str
    kind: str
    sink: GuardedSink
    reliability: ReliabilityConfig
    fallback: str | None


class _Resolver:
    """Resolves one receiver's secrets; errors name the key as written in the file
    (``delivery.receivers.<kind>.<name>.<field>``, as `aiops.config_secrets` does)."""

    def __init__(self, key: str, security: SecurityConfig, environ: Mapping[str, str] | None) -> None:
        self.key = key
        self.security = security
        self.environ = environ

    def secret(self, field: str, value: str) -> str:
        return resolve_secret(value, f"{self.key}.{field}", self.environ)

    def url(self, field: str, value: str) -> str:
        url = self.secret(field, value)
        check_destination(url, self.security, f"{self.key}.{field}")
        return url


def _sink(name: str, config: ReceiverConfig, delivery: DeliveryConfig, environ: Mapping[str, str] | None,
          wall: Wall, resolver: AbstractResolver | None) -> Sink:
    r = _Resolver(delivery.receivers.config_key(name), delivery.security, environ)
    options = SinkOptions(delivery.link_template, delivery.security.verify_tls, wall, delivery.security, resolver)
    if isinstance(config, WebhookReceiverConfig):
        secret = r.secret("signing_secret", config.signing_secret) if config.signing_secret else None
        headers = {key: r.secret(f"headers.{key}", value) for key, value in config.headers.items()}
        return SignedWebhookSink(name, config, options, url=r.url("url", config.url), secret=secret, headers=headers)
    if isinstance(config, SlackReceiverConfig):
        return SlackSink(name, config, options, url=r.url("url", config.url))
    if isinstance(config, TeamsReceiverConfig):
        return TeamsSink(name, config, options, url=r.url("url", config.url))
    if isinstance(config, PagerDutyReceiverConfig):
        return PagerDutySink(name, config, options, routing_key=r.secret("routing_key", config.routing_key),
                             url=r.url("url", config.url))
    if isinstance(config, ServiceNowReceiverConfig):
        return ServiceNowSink(name, config, options, instance_url=r.url("instance_url", config.instance_url),
                              username=r.secret("username", config.username),
                              password=r.secret("password", config.password))
    assert isinstance(config, JiraReceiverConfig)
    return JiraSink(name, config, options, base_url=r.url("base_url", config.base_url),
                    email=r.secret("email", config.email), api_token=r.secret("api_token", config.api_token))


def guard(sink: Sink, reliability: ReliabilityConfig, on_circuit: OnCircuit | None = None) -> GuardedSink:
    name = sink.name

    def changed(state: CircuitState) -> None:
        if on_circuit is not None:
            on_circuit(name, state)

    breaker = CircuitBreaker(reliability.circuit_failure_threshold, reliability.circuit_open_seconds,
                             on_change=changed)
    return GuardedSink(sink, breaker, TokenBucket(reliability.rate_limit_per_second, reliability.rate_limit_burst))


def build_receiver(name: str, delivery: DeliveryConfig, environ: Mapping[str, str] | None = None,
                   on_circuit: OnCircuit | None = None, wall: Wall = utc_now,
                   resolver: AbstractResolver | None = None) -> Receiver:
    """One receiver; `resolver` is the DNS lookup its destination guard checks (default: the system's)."""
    config = delivery.receiver(name)
    return Receiver(name, delivery.receivers.kind_of(name),
                    guard(_sink(name, config, delivery, environ, wall, resolver), config.reliability, on_circuit),
                    config.reliability, config.fallback)


def build_receivers(delivery: DeliveryConfig, environ: Mapping[str, str] | None = None,
                    on_circuit: OnCircuit | None = None, wall: Wall = utc_now,
                    resolver: AbstractResolver | None = None) -> dict[str, Receiver]:
    """Every configured receiver by name."""
    return {name: build_receiver(name, delivery, environ, on_circuit, wall, resolver)
            for name in delivery.receivers.by_name()}
