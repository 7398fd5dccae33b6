"""What `aiops demo` prints about incidents: each version once, in order, and the webhook's view of them.

`DemoConsole` is the single writer for the demo's incident output (the incidents topic reader calls
`version`, the demo webhook `delivery`); it prints
- one line per incident version as read from the incidents topic (per incident in version order; a re-read
  or older copy is skipped), saying what changed in words (`incident_text.IncidentNarrator`), and after an
  incident's first line its page on the on-call console (`console_url`, when given);
- at once, any delivery whose HMAC signature did not verify;
- per incident, once its resolved version is on the topic *and* was delivered, one webhook line: which
  versions arrived (routing may hold some back: `delivery.repeat_interval_seconds`) and whether every
  signature was valid; if that delivery has not arrived `grace_seconds` after the last incident resolved,
  the line says so instead;
- ``demo: all N incidents resolved`` once every incident seen is resolved and has its webhook line.

Printing only; `now` comes from the event loop's timer (`call_later`).
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass, field
from typing import TextIO

from aiops.incidents import Incident
from aiops.runtime.incident_text import IncidentNarrator, plural


@dataclass(slots=True)
class _Tracked:
    """What the console knows of one incident: its latest version on the topic and its deliveries."""

    latest: Incident | None = None
    delivered: dict[int, str] = field(default_factory=dict)
    """Verified deliveries: version -> status."""
    invalid: int = 0
    summarised: bool = False


class DemoConsole:
    def __init__(self, out: TextIO = sys.stdout, grace_seconds: float = 35.0, console_url: str | None = None) -> None:
        self.out = out
        self.console_url = console_url
        self.grace_seconds = grace_seconds
        self.narrator = IncidentNarrator()
        self._incidents: dict[str, _Tracked] = {}
        self._announced = False
        self._grace: asyncio.TimerHandle | None = None

    def _print(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    def version(self, incident: Incident) -> None:
        """An incident version read from the incidents topic."""
        tracked = self._incidents.setdefault(incident.id, _Tracked())
        if tracked.latest is not None and incident.version <= tracked.latest.version:
            return
        self._print(self.narrator.line(incident))
        if tracked.latest is None and self.console_url is not None:
            self._print(f"         console: {self.console_url}/incidents/{incident.id}")
        tracked.latest = incident
        if incident.status != "resolved":
            tracked.summarised = False
            self._announced = False
        self._settle()

    def delivery(self, incident_id: str, version: int, status: str, signed: bool) -> None:
        """A delivery received by the demo webhook (`signed`: its HMAC signature verified)."""
        tracked = self._incidents.setdefault(incident_id, _Tracked())
        if signed:
            tracked.delivered[version] = status
        else:
            tracked.invalid += 1
            self._print(f"webhook: {incident_id} v{version} {status}: signature INVALID")
        self._settle()

    def _settle(self) -> None:
        for incident_id, tracked in self._incidents.items():
            latest = tracked.latest
            if latest is not None and latest.status == "resolved" and not tracked.summarised \
                    and tracked.delivered.get(latest.version) == "resolved":
                self._summarise(incident_id, tracked)
        if self._announced or not self._all_resolved():
            return
        if all(tracked.summarised for tracked in self._incidents.values()):
            self._announce()
        elif self._grace is None:
            self._grace = asyncio.get_running_loop().call_later(self.grace_seconds, self._grace_over)

    def _all_resolved(self) -> bool:
        return bool(self._incidents) and all(
            tracked.latest is not None and tracked.latest.status == "resolved" for tracked in self._incidents.values())

    def _summarise(self, incident_id: str, tracked: _Tracked) -> None:
        assert tracked.latest is not None
        received = ", ".join(f"v{version} {status}" for version, status in sorted(tracked.delivered.items()))
        line = (f"webhook: {incident_id} received {len(tracked.delivered)} of "
                f"{plural(tracked.latest.version, 'version')} ({received or 'none'}), {self._signatures(tracked)}")
        if tracked.delivered.get(tracked.latest.version) != "resolved":
            line += f"; its resolve was not delivered within {self.grace_seconds:g} s"
        self._print(line)
        tracked.summarised = True

    @staticmethod
    def _signatures(tracked: _Tracked) -> str:
        if tracked.invalid:
            return f"{plural(tracked.invalid, 'delivery', 'deliveries')} with an INVALID signature"
        return "every signature valid"

    def _grace_over(self) -> None:
        self._grace = None
        if self._announced or not self._all_resolved():
            return
        for incident_id, tracked in self._incidents.items():
            if not tracked.summarised:
                self._summarise(incident_id, tracked)
        self._announce()

    def _announce(self) -> None:
        count = len(self._incidents)
        delivered = sum(len(tracked.delivered) for tracked in self._incidents.values())
        invalid = sum(tracked.invalid for tracked in self._incidents.values())
        signatures = "every signature valid" if not invalid else f"{invalid} with an INVALID signature"
        subject = "the only incident" if count == 1 else f"all {count} incidents"
        self._print(f"demo: {subject} resolved; the webhook received {plural(delivered, 'notification')}, "
                    f"{signatures}")
        self._announced = True
