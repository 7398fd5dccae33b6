"""The `aiops` command line: run, demo, produce, tail, replay, scenario, check-config, eval.

Parses arguments, loads and validates config, and hands over to the runtime or the pure replay. Kafka and
Faust modules are imported lazily so `check-config`, `replay` and `eval` start fast and need no broker.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import random
import secrets
import sys
from datetime import UTC, datetime
from typing import Any

from aiops.cli_common import (
    error_line,
    open_input,
    open_output,
    package_version,
    quiet_kafka_client_logs,
    require_bootstrap,
)
from aiops.cli_delivery import add_commands as add_delivery_commands
from aiops.cli_relations import add_commands as add_relations_commands
from aiops.cli_silences import add_commands as add_silence_commands
from aiops.config import AiopsConfig, load_config
from aiops.errors import AiopsError, UsageError

EVALUATIONS = ("nab", "loghub", "petshop", "alarms")
NEEDS_EVAL_EXTRA = "aiops eval needs the eval extra: pip install 'aiops[eval]'"


def _config(args: argparse.Namespace, **overrides: Any) -> AiopsConfig:
    config = load_config(getattr(args, "config", None))
    bootstrap = getattr(args, "bootstrap", None)
    if bootstrap:
        overrides.setdefault("kafka", {})["bootstrap"] = bootstrap
    if not overrides:
        return config
    data = config.model_dump(by_alias=True)
    for section, values in overrides.items():
        if isinstance(values, dict):
            data.setdefault(section, {}).update(values)
        else:
            data[section] = values
    return AiopsConfig.model_validate(data)


def cmd_check_config(args: argparse.Namespace) -> int:
    from aiops.config_secrets import check_delivery

    config = load_config(args.path)
    checked = check_delivery(config, args.path)  # exactly what `aiops run` checks before it starts
    port = config.kafka.embedded_port
    embedded = f"embedded on 127.0.0.1:{port}" if port else "embedded on a free 127.0.0.1 port"
    print(f"{args.path}: OK ({len(config.services)} services, "
          f"{checked.receivers} receivers, {checked.secrets} secret references resolved, "
          f"bootstrap={config.kafka.bootstrap or embedded})")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from aiops.replay import replay_lines

    config = _config(args)
    dead = 0
    with open_input(args.file) as handle:  # a missing file is the one error line, before any note
        if not config.services:
            print("replay: no service catalogue (`services:` in --config), so incidents group by time and labels, "
                  "not along depends_on; the demo scenario's: aiops scenario --services FILE", file=sys.stderr)
        for item in replay_lines(handle, config, datetime.now(tz=UTC), source=args.file):
            if item.incident is not None:
                print(item.incident.model_dump_json(), flush=True)
            elif item.dead is not None:
                dead += 1
                print(f"dead-letter line {item.dead.source_offset}: {item.dead.reason}: {item.dead.detail}",
                      file=sys.stderr)
    if dead:
        print(f"{dead} line(s) rejected", file=sys.stderr)
    return 0


def cmd_scenario(args: argparse.Namespace) -> int:
    from aiops.scenario import SCENARIO_SERVICES, scenario_events

    out = sys.stdout if args.out == "-" else open_output(args.out)
    try:
        for event in scenario_events(args.start, random.Random(args.seed)):
            out.write(json.dumps(event) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    if args.services:
        with open_output(args.services) as catalogue:
            catalogue.write(json.dumps({"services": SCENARIO_SERVICES}, indent=2) + "\n")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from aiops.config_secrets import check_delivery
    from aiops.runtime.service import run_service

    config = _config(args)
    check_delivery(config, args.config)  # every missing secret at once, as `aiops check-config` reports them
    run_service(config, stop_after=args.stop_after)
    return 0


def _demo_config(args: argparse.Namespace, url: str, secret: str) -> AiopsConfig:
    """The user's config plus the scenario's catalogue, the demo webhook and, unless `logging.level` is set,
    service logs at WARNING (the demo prints every incident version itself)."""
    from aiops.scenario import SCENARIO_SERVICES

    webhook = {"url": url, "signing_secret": secret, "reliability": {"deadline_seconds": 30}}
    delivery = {"default_receivers": ["demo-webhook"], "security": {"allow_loopback": True},
                "receivers": {"webhook": {"demo-webhook": webhook}}}
    logging_set = "level" in load_config(getattr(args, "config", None)).logging.model_fields_set
    quiet: dict[str, Any] = {} if logging_set else {"logging": {"level": "WARNING"}}
    return _config(args, services=SCENARIO_SERVICES, http={"port": 0}, delivery=delivery, **quiet)


def cmd_demo(args: argparse.Namespace) -> int:
    from aiops.runtime.broker import free_loopback_port
    from aiops.runtime.demo import DemoWebhookReceiver, IncidentPrinter, ScenarioFeeder, notification_note
    from aiops.runtime.demo_console import DemoConsole
    from aiops.runtime.service import Runner, run_service

    port = free_loopback_port()
    url = f"http://127.0.0.1:{port}/incidents"
    secret = secrets.token_hex(16)  # the demo receiver checks every delivery's HMAC signature with it
    config = _demo_broker_port(_demo_config(args, url, secret))
    console = DemoConsole()
    receiver = DemoWebhookReceiver(port, secret, console)

    def runners(bootstrap: str, cfg: AiopsConfig) -> list[Runner]:
        feeder = ScenarioFeeder(bootstrap, cfg)
        print(f"demo: broker {bootstrap}; incidents on topic {cfg.topics.incidents}; webhook {url}\n"
              f"{notification_note(cfg, feeder.speedup)}\n"
              f"demo: service logs on stderr at {cfg.logging.level} and above (set logging.level or "
              "AIOPS_LOGGING__LEVEL=INFO for more)", flush=True)
        return [receiver, IncidentPrinter(bootstrap, cfg, console), feeder]

    run_service(config, extra_runners=runners, stop_after=args.duration)
    return 0


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


def cmd_produce(args: argparse.Namespace) -> int:
    from aiops.runtime.kafka_io import produce_lines

    config = _config(args)
    with open_input(args.file) as handle:  # a missing file fails before any connection is tried
        bootstrap = require_bootstrap(config)
        quiet_kafka_client_logs()
        sent = asyncio.run(produce_lines(bootstrap, args.topic or config.topics.events, handle,
                                         request_timeout_ms=config.kafka.request_timeout_ms))
    print(f"produced {sent} event(s) to {args.topic or config.topics.events} at {bootstrap}")
    return 0


def cmd_tail(args: argparse.Namespace) -> int:
    from aiops.runtime.incident_text import IncidentNarrator
    from aiops.runtime.kafka_io import follow_incidents

    config = _config(args)
    bootstrap = require_bootstrap(config)
    quiet_kafka_client_logs()
    narrator = IncidentNarrator()  # says what changed since the previous version of each incident

    async def follow() -> None:
        async for incident in follow_incidents(bootstrap, config.topics.incidents, not args.new, args.idle_exit,
                                               request_timeout_ms=config.kafka.request_timeout_ms):
            print(incident.model_dump_json() if args.json else narrator.line(incident), flush=True)

    asyncio.run(follow())
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """Run an evaluation from `aiops_eval`, loaded by name so the service never imports it; without the
    ``eval`` extra (the package or one of its modules missing) one `UsageError` line says how to get it."""
    try:
        extra = importlib.import_module("aiops_eval")
    except ModuleNotFoundError as error:
        if error.name != "aiops_eval":
            raise
        raise UsageError(NEEDS_EVAL_EXTRA) from None
    missing = extra.missing_extra_modules()
    if missing:
        raise UsageError(f"{NEEDS_EVAL_EXTRA} ({', '.join(missing)} missing)")
    module = importlib.import_module(f"aiops_eval.{args.name}")
    result: int = module.main(args.rest)
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aiops", description="AIOps event correlation service")
    parser.add_argument("--version", action="version", version=f"aiops {package_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, handler: Any, help_text: str, kafka: bool = False) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        if name != "check-config":
            p.add_argument("--config", help="YAML config file (default: built-in defaults + AIOPS_* env)")
        if kafka:
            p.add_argument("--bootstrap", metavar="HOST:PORT", help="use this Kafka instead of the config's")
        return p

    run = command("run", cmd_run, "run the service (embedded broker unless a bootstrap is set)", kafka=True)
    run.add_argument("--stop-after", type=float, default=None, help="stop after this many seconds")
    demo = command("demo", cmd_demo, "service + built-in cascading-failure scenario, prints incidents",
                   kafka=True)
    demo.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    produce = command("produce", cmd_produce, "send a JSONL file of events to the input topic (finds a local "
                      "embedded broker without flags)", kafka=True)
    produce.add_argument("file")
    produce.add_argument("--topic", default=None)
    tail = command("tail", cmd_tail, "follow the incidents topic (finds a local embedded broker without flags)",
                   kafka=True)
    tail.add_argument("--json", action="store_true", help="one JSON incident per line")
    tail.add_argument("--new", action="store_true", help="only incidents produced from now on")
    tail.add_argument("--idle-exit", type=float, default=None, help="exit after this many idle seconds")
    replay = command("replay", cmd_replay, "run the pipeline over a JSONL file, no broker; incidents on stdout")
    replay.add_argument("file")
    scenario = command("scenario", cmd_scenario, "write the demo scenario's events as JSONL")
    scenario.add_argument("--out", default="-")
    scenario.add_argument("--start", type=float, default=1_700_000_000.0, help="epoch of the first event")
    scenario.add_argument("--seed", type=int, default=7)
    scenario.add_argument("--services", default=None, help="also write the scenario's service catalogue (YAML)")
    check = command("check-config", cmd_check_config, "validate a config file")
    check.add_argument("path")
    evaluate = sub.add_parser("eval", help="evaluate on a labelled dataset directory")
    evaluate.add_argument("name", choices=EVALUATIONS)
    evaluate.add_argument("rest", nargs=argparse.REMAINDER)
    evaluate.set_defaults(handler=cmd_eval)
    add_silence_commands(sub)
    add_delivery_commands(sub)
    add_relations_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except AiopsError as error:
        print(error_line(error), file=sys.stderr)
        return 2
    except BrokenPipeError:  # `aiops replay FILE | head`: the reader left; not an error
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:  # Ctrl-C (e.g. on `aiops tail`): clients are closed on the way out
        print("aiops: interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
