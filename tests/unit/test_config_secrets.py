"""Secrets beside the AIOPS_* override scheme: every rule of `aiops.config_secrets` and `resolve_secret`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from support.example_config import EXAMPLE, example_header_variables

from aiops.config import AiopsConfig, load_config
from aiops.config_secrets import check_delivery, secret_references, unresolved_secrets
from aiops.errors import ConfigError
from aiops.sinks.factory import build_receivers
from aiops.sinks.security import resolve_secret


def _with_receivers(receivers: dict[str, Any], **delivery: Any) -> AiopsConfig:
    return AiopsConfig.model_validate({"delivery": {"receivers": receivers, **delivery}})


def test_env_reference_file_reference_and_literal_resolve(tmp_path: Path) -> None:
    secret_file = tmp_path / "token"
    secret_file.write_text("from-file\n", encoding="utf-8")
    assert resolve_secret("${ENV:PD_KEY}", "k", {"PD_KEY": "from-env"}) == "from-env"
    assert resolve_secret(f"file:{secret_file}", "k", {}) == "from-file"
    assert resolve_secret("plain", "k", {}) == "plain"


def test_reserved_aiops_prefix_is_refused_with_the_key_and_a_new_name() -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_secret("${ENV:AIOPS_WEBHOOK_SECRET}", "delivery.receivers.webhook.w.signing_secret",
                       {"AIOPS_WEBHOOK_SECRET": "set-anyway"})
    message = str(caught.value)
    assert message.startswith("delivery.receivers.webhook.w.signing_secret: ")
    assert "reserved AIOPS_ prefix" in message
    assert "WEBHOOK_SECRET" in message
    assert "set-anyway" not in message


def test_a_shell_style_reference_is_an_error_not_a_literal_secret() -> None:
    with pytest.raises(ConfigError, match=r"\$\{SLACK_URL\} is not a secret reference: write \$\{ENV:NAME\}"):
        resolve_secret("${SLACK_URL}", "delivery.receivers.slack.s.url", {"SLACK_URL": "x"})


def test_a_braced_value_that_is_no_reference_is_refused_without_being_shown() -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_secret("${pa55 w0rd!}", "delivery.receivers.servicenow.n.password", {})
    assert "a ${...} value is not a secret reference" in str(caught.value)
    assert "pa55" not in str(caught.value)


def test_every_missing_secret_is_reported_at_once_naming_key_and_variable(tmp_path: Path) -> None:
    config = _with_receivers({
        "servicenow": {"snow": {"instance_url": "https://x.service-now.com", "username": "${ENV:SNOW_USER}",
                                "password": "${ENV:SNOW_PASSWORD}"}},
        "teams": {"t": {"url": f"file:{tmp_path}/absent"}},
        "webhook": {"w": {"url": "https://hooks.example.com/a", "headers": {"Authorization": "${ENV:HOOK_AUTH}"}}},
    })
    with pytest.raises(ConfigError) as caught:
        check_delivery(config, "aiops.yaml", environ={"SNOW_USER": "u"})
    assert str(caught.value) == (
        "3 secrets cannot be resolved in aiops.yaml (set the variables, or create the files): "
        "delivery.receivers.webhook.w.headers.Authorization: environment variable HOOK_AUTH is not set; "
        f"delivery.receivers.teams.t.url: cannot read secret file {tmp_path}/absent: No such file or directory; "
        "delivery.receivers.servicenow.snow.password: environment variable SNOW_PASSWORD is not set")


def test_resolved_secrets_still_pass_the_destination_check_as_at_run_time() -> None:
    config = _with_receivers({"slack": {"s": {"url": "${ENV:SLACK_URL}"}}},
                             security={"allowed_hosts": ["hooks.slack.com"]})
    assert check_delivery(config, environ={"SLACK_URL": "https://hooks.slack.com/services/x"}).secrets == 1
    with pytest.raises(ConfigError, match=r"^delivery\.receivers\.slack\.s\.url: .*not in .*allowed_hosts"):
        check_delivery(config, environ={"SLACK_URL": "https://evil.example/x"})


def test_the_receivers_name_a_failing_secret_by_the_same_key_as_the_check() -> None:
    """Built at run time (`build_receivers`), a receiver names the key as written in the file, kind included."""
    config = _with_receivers({"pagerduty": {"p": {"routing_key": "${ENV:PD_KEY}"}}})
    with pytest.raises(ConfigError) as built:
        build_receivers(config.delivery, {})
    assert [str(built.value)] == unresolved_secrets(config, {})
    assert str(built.value).startswith("delivery.receivers.pagerduty.p.routing_key: ")


class _Recording(Mapping[str, str]):
    """An environment that answers every variable and remembers which ones were read."""

    def __init__(self) -> None:
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        return "https://hooks.example.com/x" if key.endswith("URL") else "value"

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def test_the_references_checked_are_exactly_those_the_receivers_resolve_at_run_time() -> None:
    """Every field the sink factory resolves is found by `secret_references`, and nothing else."""
    config = _with_receivers({
        "webhook": {"w": {"url": "${ENV:W_URL}", "signing_secret": "${ENV:W_SIGN}", "headers": {"X": "${ENV:W_H}"}}},
        "slack": {"s": {"url": "${ENV:S_URL}"}},
        "teams": {"t": {"url": "${ENV:T_URL}"}},
        "pagerduty": {"p": {"url": "${ENV:P_URL}", "routing_key": "${ENV:P_KEY}"}},
        "servicenow": {"n": {"instance_url": "${ENV:N_URL}", "username": "${ENV:N_USER}", "password": "${ENV:N_PW}"}},
        "jira": {"j": {"base_url": "${ENV:J_URL}", "project_key": "OPS", "email": "${ENV:J_MAIL}",
                       "api_token": "${ENV:J_TOKEN}"}},
    })
    environ = _Recording()
    build_receivers(config.delivery, environ)
    found = {reference.value[len("${ENV:"):-1] for reference in secret_references(config)}
    assert found == environ.read
    assert len(found) == 13


def test_the_example_config_needs_exactly_the_variables_its_header_lists() -> None:
    variables = example_header_variables()
    assert len(variables) == 10
    config = load_config(EXAMPLE, environ={})
    assert check_delivery(config, str(EXAMPLE), environ=variables).secrets == 10
    for name in variables:
        without = {key: value for key, value in variables.items() if key != name}
        problems = unresolved_secrets(config, without)
        assert len(problems) == 1
        assert f"environment variable {name} is not set" in problems[0]


def test_an_aiops_variable_that_is_no_config_key_names_the_variable_and_the_secret_syntax() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(None, environ={"AIOPS_WEBHOOK_SECRET": "s3cret"})
    message = str(caught.value)
    assert "webhook_secret: unknown key" in message
    assert "set by environment variable AIOPS_WEBHOOK_SECRET" in message
    assert "${ENV:NAME}" in message
    assert "s3cret" not in message


def test_a_wrong_override_value_names_its_variable() -> None:
    with pytest.raises(ConfigError, match=r"http\.port: .*\(set by environment variable AIOPS_HTTP__PORT\)"):
        load_config(None, environ={"AIOPS_HTTP__PORT": "eighty"})
