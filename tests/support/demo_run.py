"""`aiops demo` as a subprocess for the console's browser test and the README screenshot script.

`running_demo` starts the real CLI (embedded broker on a free port, a private ``$TMPDIR`` for its run-file)
and stops it with SIGTERM; `DemoRun` reads its stdout: the console URL, broker and incidents topic the demo
prints, and the incident version lines (`VERSION_LINE`, as `aiops tail` prints them) as they come.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from support.process_output import ProcessOutput

VERSION_LINE = re.compile(
    r"^\d\d:\d\d:\d\d (OPEN|UPDATED|RESOLVED)\s+(P\d) (inc-[0-9a-f]+) v(\d+)  .*?(\d+) members? .*; "
    r"root cause (\S+)( \(was \S+\))?$")
CONSOLE_LINE = re.compile(r"^demo: the on-call console at (http://\S+)/ ")
BROKER_LINE = re.compile(r"^demo: broker (\S+); incidents on topic (\S+);")


@dataclass(frozen=True)
class Version:
    status: str
    priority: str
    incident: str
    version: int
    members: int
    root_cause: str


@dataclass
class DemoRun:
    output: ProcessOutput
    console_url: str = ""
    bootstrap: str = ""
    incidents_topic: str = ""
    seen: list[Version] = field(default_factory=list)

    def ready(self, seconds: float = 120.0) -> str:
        """Wait for the service's banner; the console URL the demo printed before it."""
        for line in self.output.lines(seconds):
            found = CONSOLE_LINE.match(line)
            if found:
                self.console_url = found.group(1)
            broker = BROKER_LINE.match(line)
            if broker:
                self.bootstrap, self.incidents_topic = broker.groups()
            if line.startswith("aiops ready:"):
                assert self.console_url, "the demo printed no console URL"
                return self.console_url
        raise AssertionError("the demo did not start")

    def version(self, wanted: Callable[[Version], bool], seconds: float) -> Version:
        """The next incident version line that `wanted` accepts (all lines seen are kept in `seen`)."""
        for line in self.output.lines(seconds):
            found = VERSION_LINE.match(line)
            if found is None:
                continue
            status, priority, incident, number, members, root, _was = found.groups()
            version = Version(status, priority, incident, int(number), int(members), root)
            self.seen.append(version)
            if wanted(version):
                return version
        raise AssertionError(f"no such incident version within {seconds} s; seen: {self.seen}")


@contextmanager
def running_demo(tmp: Path, duration: float = 300.0, config: Path | None = None) -> Iterator[DemoRun]:
    """`aiops demo` (with `--config config` when given) until the block ends."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIOPS_")}
    env.update(AIOPS_KAFKA__EMBEDDED_PORT="0", TMPDIR=str(tmp))
    flags = ["--config", str(config)] if config is not None else []
    process = subprocess.Popen([sys.executable, "-m", "aiops", "demo", "--duration", str(duration), *flags],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=tmp)
    try:
        yield DemoRun(ProcessOutput(process))
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
