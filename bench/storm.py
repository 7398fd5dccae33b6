"""Alert storm: aiops `run` against Prometheus Alertmanager on the same deterministic workload.

Each system starts fresh on 127.0.0.1 (aiops on its embedded tansu broker, one worker process); both group by
service, group_wait 10 s, group_interval 30 s, and notify a webhook receiver inside the bench. Storm phases on
one fresh system: `new` (the first 10,000 alerts), `active` (up to 100,000 active), `resend` (every active
alert again, as Prometheus does each minute): alerts/s absorbed (aiops: until the correlation group
`<app_id>-correlate` committed the signals topic's true end; Alertmanager: until its POSTs returned), CPU
seconds per 10k alerts (aiops worker and broker apart), RSS, notifications. `waves`, both systems fresh and
fed together in real time: four waves of 740 alerts along dependency chains with resolves, then a drain until
each system has shown every alert resolved; notifications per wave, incidents, alerts first shown after they
resolved, time from an alert to the first notification showing it. Events carry the wall clock when sent.

    python bench/storm.py [--quick] [--active 10000,100000] [--phase new,active,resend,waves] [--system both|aiops|am]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from storm_report import PhaseResult, WaveResult, analyse_waves, markdown, shown_resolved
from storm_systems import AiopsSystem, AlertmanagerSystem, Receiver, cpu_seconds, rss_bytes
from storm_workload import FULL, QUICK, Alert, Scale, aiops_config, alertmanager_config, storm_order, wave_schedule

STORM = ("new", "active", "resend")
System = AiopsSystem | AlertmanagerSystem


def _make(kind: str, args: argparse.Namespace, workdir: Path) -> System:
    place = workdir / f"{kind}-{int(time.time() * 1000)}"
    place.mkdir(parents=True)
    if kind == "am":
        return AlertmanagerSystem(args.am_binary, place)
    return AiopsSystem(shlex.split(args.aiops_cmd), place)


async def _start(system: System, scale: Scale, receiver: Receiver) -> None:
    url = receiver.url(system.name)
    if isinstance(system, AiopsSystem):
        await system.start(aiops_config(scale, url, "storm"))
    else:
        await system.start(alertmanager_config(scale, url))


async def _send(system: System, items: list[tuple[Alert, str, float]], chunk: int = 8192) -> None:
    for i in range(0, len(items), chunk):
        await system.send(items[i: i + chunk], time.time())


async def _phase(system: System, name: str, alerts: list[Alert], started: dict[str, float],
                 within: float) -> PhaseResult:
    worker, broker = system.pids
    cpu0 = (cpu_seconds(worker), cpu_seconds(broker))
    t0 = time.time()
    await _send(system, [(a, "firing", started.setdefault(a.id, t0)) for a in alerts])
    share = await system.absorbed(max(1.0, within - (time.time() - t0)))
    seconds = time.time() - t0
    return PhaseResult(system.name, name, len(alerts), seconds, share, cpu_seconds(worker) - cpu0[0],
                       cpu_seconds(broker) - cpu0[1], rss_bytes(worker), rss_bytes(broker))


def _plan(scale: Scale, seed: int, phases: list[str]) -> list[tuple[str, list[Alert]]]:
    first, again = storm_order(scale, seed)
    plan: list[tuple[str, list[Alert]]] = []
    sent = 0
    for phase in phases:
        if phase == "new":
            plan.append((phase, first[sent: scale.new]))
            sent = max(sent, scale.new)
        elif phase == "active":
            plan.append((phase, first[sent: scale.active]))
            sent = scale.active
        elif phase == "resend" and sent:
            active = {a.id for a in first[:sent]}
            plan.append((phase, [a for a in again if a.id in active]))
    return [(phase, alerts) for phase, alerts in plan if alerts]


async def run_storm(kind: str, args: argparse.Namespace, scale: Scale, receiver: Receiver,
                    workdir: Path) -> list[PhaseResult]:
    plan = _plan(scale, args.seed, [p for p in STORM if p in args.phases])
    if not plan:
        return []
    system = _make(kind, args, workdir)
    results: list[PhaseResult] = []
    started: dict[str, float] = {}
    try:
        await _start(system, scale, receiver)
        # long enough for a notification of the phase's last alert and one group_interval of updates
        settle = scale.timed(scale.group_wait + scale.group_interval) + system.lag + (5.0 if scale.time >= 1.0 else 0.5)
        for name, alerts in plan:
            mark = time.time()
            result = await _phase(system, name, alerts, started, args.timeout)
            results.append(result)
            _progress(result)
            if result.absorbed < 1.0:
                print(f"  {kind}: {name} not absorbed within {args.timeout:.0f} s; later phases not run",
                      file=sys.stderr)
                break
            await asyncio.sleep(settle)
            result.notifications = receiver.count(system.name, since=mark)
    finally:
        await system.stop()
    return results


def _progress(result: PhaseResult) -> None:
    print(f"  {result.system} {result.phase}: {result.alerts} alerts, {result.absorbed:.0%} absorbed in "
          f"{result.seconds:.1f} s ({result.rate:,.0f}/s), cpu {result.cpu_worker:.1f}+{result.cpu_broker:.1f} s, "
          f"rss {result.rss_worker >> 20} MiB", file=sys.stderr)


async def _feed(systems: list[System], scale: Scale, seed: int) -> tuple[dict[str, float], dict[str, float],
                                                                          dict[str, int]]:
    """Send the waves schedule to every system at once; (first fired, resolved, wave) per alert id."""
    schedule = wave_schedule(scale, seed)
    fired: dict[str, float] = {}
    resolved: dict[str, float] = {}
    wave_of = {step.alert.id: step.wave for step in schedule}
    begin = time.time()
    i = 0
    while i < len(schedule):
        await asyncio.sleep(max(0.0, begin + schedule[i].at - time.time()))
        now = time.time()
        due = []
        while i < len(schedule) and begin + schedule[i].at <= now:
            step = schedule[i]
            started = fired.setdefault(step.alert.id, now)
            if step.status == "resolved":
                resolved[step.alert.id] = now
            due.append((step.alert, step.status, started))
            i += 1
        await asyncio.gather(*(system.send(due, now) for system in systems))
    return fired, resolved, wave_of


async def _drain(systems: list[System], receiver: Receiver, alerts: set[str], scale: Scale) -> None:
    """Wait until every system has shown every alert resolved, or at most its drain time."""
    cap = time.time() + max(system.drain for system in systems) + (5.0 if scale.time >= 1.0 else 1.0)
    while time.time() < cap:
        shown = {system.name: set[str]() for system in systems}
        for name, _, body in receiver.hooks:
            if name in shown:
                shown[name] |= shown_resolved(name, body)
        if all(alerts <= seen for seen in shown.values()):
            return
        await asyncio.sleep(0.5)


async def run_waves(kinds: list[str], args: argparse.Namespace, scale: Scale, receiver: Receiver,
                    workdir: Path) -> list[WaveResult]:
    systems = [_make(kind, args, workdir) for kind in kinds]
    try:
        started = await asyncio.gather(*(_start(system, scale, receiver) for system in systems), return_exceptions=True)
        for failure in started:
            if isinstance(failure, BaseException):
                raise failure
        receiver.hooks.clear()
        receiver.keep_bodies = True
        print(f"  waves: {scale.waves} x {scale.wave_alerts} alerts, real time", file=sys.stderr)
        fired, resolved, wave_of = await _feed(systems, scale, args.seed)
        await _drain(systems, receiver, set(fired), scale)
    finally:
        for system in systems:
            await system.stop()
    hooks = list(receiver.hooks)
    receiver.keep_bodies = False
    receiver.hooks.clear()
    return [analyse_waves(kind, [(at, body) for name, at, body in hooks if name == kind], fired, resolved,
                          wave_of, scale) for kind in kinds]


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny scale and timings (smoke test)")
    parser.add_argument("--phase", default="new,active,resend,waves", help="comma-separated phases to run")
    parser.add_argument("--system", choices=["both", "aiops", "am"], default="both")
    parser.add_argument("--active", help="NEW,ACTIVE: alerts of the `new` phase and active after `active` "
                        "(default 10000,100000; --quick 500,1000)")
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds a storm phase may take")
    parser.add_argument("--aiops-cmd", default=f"{shlex.quote(sys.executable)} -m aiops",
                        help="command that runs the aiops CLI (PYTHONPATH is passed through)")
    parser.add_argument("--am-binary", default=AlertmanagerSystem.find(), help="alertmanager binary")
    parser.add_argument("--workdir", type=Path, help="keep configs and logs here (default: a temporary dir)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    args = parser.parse_args(argv)
    args.phases = [p.strip() for p in args.phase.split(",") if p.strip()]
    if args.active is not None:
        sizes = [int(n) for n in args.active.split(",")]
        if len(sizes) != 2 or not 0 < sizes[0] <= sizes[1]:
            parser.error("--active takes NEW,ACTIVE with 0 < NEW <= ACTIVE")
        args.sizes = sizes
    unknown = set(args.phases) - {*STORM, "waves"}
    if unknown:
        parser.error(f"unknown phase(s): {', '.join(sorted(unknown))}")
    return args


def _loadavg() -> list[str]:
    return Path("/proc/loadavg").read_text().split()[:3]


def _kinds(args: argparse.Namespace) -> list[str]:
    kinds = ["am", "aiops"] if args.system == "both" else [args.system]
    if "am" in kinds and not args.am_binary:
        print("Alertmanager not found (`apt-get install prometheus-alertmanager`): its side is skipped",
              file=sys.stderr)
        kinds.remove("am")
    return kinds


async def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    scale = QUICK if args.quick else FULL
    if args.active is not None:
        scale = replace(scale, new=args.sizes[0], active=args.sizes[1])
    kinds = _kinds(args)
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, asyncio.current_task().cancel)  # type: ignore[union-attr]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="aiops-storm-"))
    receiver = Receiver()
    await receiver.start()
    ok = False
    try:
        load = [_loadavg()]
        phases = [r for kind in kinds for r in await run_storm(kind, args, scale, receiver, workdir)]
        waves = await run_waves(kinds, args, scale, receiver, workdir) if "waves" in args.phases and kinds else []
        load.append(_loadavg())
        print(markdown(phases, waves, scale))
        print(f"\nload average (1, 5, 15 min) at start {' '.join(load[0])}, at end {' '.join(load[1])} "
              f"({os.cpu_count()} CPUs)")
        payload: dict[str, Any] = {"scale": asdict(scale), "phases": [asdict(r) for r in phases],
                                   "waves": [asdict(w) for w in waves], "loadavg": load}
        if args.json:
            args.json.write_text(json.dumps(payload, indent=1))
        print(json.dumps(payload))
        ok = True
    finally:
        await receiver.stop()
        if args.workdir is None and ok:
            shutil.rmtree(workdir, ignore_errors=True)
        elif not ok:
            print(f"configs and logs kept in {workdir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main()))
    except KeyboardInterrupt:
        sys.exit(130)
