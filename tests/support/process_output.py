"""Test support: the output of a running `aiops` subprocess, read by threads as it comes.

Reading a text pipe after `select` misses lines that arrived in the same chunk as the previous one (they sit
in Python's buffer, the pipe looks empty), so a test could wait for a line that was already printed. Here
one thread per stream reads everything, so no line is missed and no pipe ever fills up.
"""

from __future__ import annotations

import queue
import subprocess
import threading
import time
from collections.abc import Iterator


class ProcessOutput:
    """stdout lines of `process` as they come (`lines`, `line_with`) and its stderr once it ends (`finish`)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self._stdout: queue.Queue[str | None] = queue.Queue()
        self._stderr: list[str] = []
        self._readers = [threading.Thread(target=self._read_stdout, daemon=True)]
        if process.stderr is not None:
            self._readers.append(threading.Thread(target=self._read_stderr, daemon=True))
        for reader in self._readers:
            reader.start()

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._stdout.put(line)
        self._stdout.put(None)  # end of output

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        self._stderr.extend(self.process.stderr)

    def lines(self, seconds: float) -> Iterator[str]:
        """stdout lines (newline stripped) as they come, for at most `seconds` or until the output ends."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._stdout.get(timeout=left)
            except queue.Empty:
                return
            if line is None:
                self._stdout.put(None)  # later calls see the end too
                return
            yield line.rstrip("\n")

    def line_with(self, fragment: str, seconds: float) -> str:
        """The first stdout line containing `fragment`; fails when none comes within `seconds`."""
        for line in self.lines(seconds):
            if fragment in line:
                return line
        raise AssertionError(f"no line with {fragment!r} within {seconds} s (exit code {self.process.poll()})")

    def finish(self, seconds: float) -> tuple[int, str]:
        """Exit code and stderr once the process has ended (within `seconds`)."""
        code = self.process.wait(timeout=seconds)
        for reader in self._readers:
            reader.join(timeout=seconds)
        return code, "".join(self._stderr)
