"""`aiops run` and `aiops demo`: the whole service, and the service plus the built-in scenario.

`run` checks every secret and hands the config to `aiops.runtime.service.run_service`. `demo` adds the
scenario's catalogue, a local HMAC-checking webhook receiver, the scenario feeder and the incident printer,
takes a free port for the embedded broker when `kafka.embedded_port` is busy, and runs the same service.
Only the wiring lives here; the runtime modules (Kafka, HTTP) are imported when a command runs.
"""

from __future__ import annotations

import argparse
import secrets
from typing import Any

from aiops.cli.common import add_command, config_from_args
from aiops.config import AiopsConfig, load_config

ANY_ADDRESS = ("0.0.0.0", "::", "")  # noqa: S104 (names of "every interface", not a bind)


def cmd_run(args: argparse.Namespace) -> int:
    from aiops.config_secrets import check_delivery
    from aiops.runtime.service import run_service

    config = config_from_args(args)
    check_delivery(config, args.config)  # every missing secret at once, as `aiops check-config` reports them
    return run_service(config, stop_after=args.stop_after)


def _demo_config(args: argparse.Namespace, url: str, secret: str, http_port: int) -> AiopsConfig:
    """The user's config plus the scenario's catalogue, the demo webhook, the HTTP listener (console, API) on
    `http_port` and, unless `logging.level` is set, service logs at WARNING (the demo prints every incident
    version itself)."""
    from aiops.scenario import SCENARIO_SERVICES

    webhook = {"url": url, "signing_secret": secret, "reliability": {"deadline_seconds": 30}}
    delivery = {"default_receivers": ["demo-webhook"], "security": {"allow_loopback": True},
                "receivers": {"webhook": {"demo-webhook": webhook}}}
    logging_set = "level" in load_config(getattr(args, "config", None)).logging.model_fields_set
    quiet: dict[str, Any] = {} if logging_set else {"logging": {"level": "WARNING"}}
    return config_from_args(args, services=SCENARIO_SERVICES, http={"port": http_port}, delivery=delivery,
                            **quiet)


def cmd_demo(args: argparse.Namespace) -> int:
    from aiops.runtime.broker import free_loopback_port
    from aiops.runtime.demo import DemoWebhookReceiver, IncidentPrinter, ScenarioFeeder, notification_note
    from aiops.runtime.demo_console import DemoConsole
    from aiops.runtime.service import Runner, run_service

    port = free_loopback_port()
    url = f"http://127.0.0.1:{port}/incidents"
    secret = secrets.token_hex(16)  # the demo receiver checks every delivery's HMAC signature with it
    config = _demo_broker_port(_demo_config(args, url, secret, free_loopback_port()))
    console_url = _console_url(config)
    console = DemoConsole(console_url=console_url)
    receiver = DemoWebhookReceiver(port, secret, console)

    def runners(bootstrap: str, cfg: AiopsConfig) -> list[Runner]:
        feeder = ScenarioFeeder(bootstrap, cfg)
        print(f"demo: broker {bootstrap}; incidents on topic {cfg.topics.incidents}; webhook {url}\n"
              f"{notification_note(cfg, feeder.speedup)}\n"
              f"{_console_note(cfg, console_url)}"
              f"demo: service logs on stderr at {cfg.logging.level} and above (set logging.level or "
              "AIOPS_LOGGING__LEVEL=INFO for more)", flush=True)
        return [receiver, IncidentPrinter(bootstrap, cfg, console), feeder]

    return run_service(config, extra_runners=runners, stop_after=args.duration)


def _console_url(config: AiopsConfig) -> str | None:
    """Where a browser on this machine finds the console (None when `api.console` or `api` is off)."""
    if not (config.api.enabled and config.api.console):
        return None
    host = "127.0.0.1" if config.http.host in ANY_ADDRESS else config.http.host
    return f"http://{host}:{config.http.port}"


def _console_note(config: AiopsConfig, console_url: str | None) -> str:
    if console_url is None:
        return ""
    who = "sign in with a token of api.tokens" if config.api.tokens else "no sign-in needed on loopback"
    return (f"demo: the on-call console at {console_url}/ shows the incidents as they come ({who}); each "
            "incident's page is linked below its first line\n")


def _demo_broker_port(config: AiopsConfig) -> AiopsConfig:
    """The demo's embedded broker takes a free port when `kafka.embedded_port` is busy, and says so."""
    from aiops.runtime.startup import embedded_port_error

    port = config.kafka.embedded_port
    problem = None if config.kafka.bootstrap else embedded_port_error(port)
    if problem is None:
        return config
    print(f"demo: 127.0.0.1:{port} is busy ({problem}), so the embedded broker takes a free port instead "
          "(shown below)", flush=True)
    return config.model_copy(update={"kafka": config.kafka.model_copy(update={"embedded_port": 0})})


def add_commands(subparsers: Any) -> None:
    """Register ``aiops run`` and ``aiops demo`` on the main parser's subparsers object."""
    run = add_command(subparsers, "run", cmd_run, "run the service (embedded broker unless a bootstrap is set)",
                      kafka=True)
    run.add_argument("--stop-after", type=float, default=None, help="stop after this many seconds")
    demo = add_command(subparsers, "demo", cmd_demo, "service + built-in cascading-failure scenario, prints "
                       "incidents", kafka=True)
    demo.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
