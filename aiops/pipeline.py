"""The pure pipeline: event in at a given event time, incident changes out; timers ticked explicitly.

`Pipeline` composes detection (events -> signals) and correlation (signals -> incidents) over an
in-memory state store. It is what `aiops replay`, `aiops eval` and unit tests run; the streaming worker
runs the same two stages split across Kafka (detection and correlation, each in batches on aiokafka) with
the same classes and the same event clock (`aiops.eventtime.EventClock`). Event time: the watermark is the
highest `ts` seen minus the allowed lateness, advanced after every event that moved it by a tick (1 s);
timers (log windows, group wait, quiet resolve) fire when the watermark passes them. Correlation holds each
signal until the watermark passes its event time and applies the released ones in a content-derived order
(`correlation.hold`), as the worker does. `finish()` (end of a replayed file) moves event time on in whole
seconds until every pending timer has fired and no signal is held, as the live worker's processing-time
fallback does once its input is idle.
"""

from __future__ import annotations

import math

from aiops.actions import Action
from aiops.config import AiopsConfig
from aiops.correlation.engine import CorrelationEngine
from aiops.correlation.stage import CorrelationStage
from aiops.correlation.state import InMemoryStore, StateStore, latest_ends_at
from aiops.correlation.topology import ServiceGraph, load_edges
from aiops.detectors.stage import DetectionStage
from aiops.events import InboundEvent
from aiops.eventtime import EventClock
from aiops.incidents import Incident

MAX_FINISH_ENDS_AT_SECONDS = 86_400.0
"""How far past the last event `Pipeline.finish` waits for a firing alert's endsAt (a day of 1 s ticks)."""
FINISH_EXTRA_TICKS = 3
"""Ticks `Pipeline.finish` adds at most while signals of the last ticks' timers are still held."""


def build_graph(config: AiopsConfig) -> ServiceGraph:
    """The topology: the service catalogue plus `correlation.topology_file` edges (read once here)."""
    path = config.correlation.topology_file
    return ServiceGraph(config.services, load_edges(path) if path else ())


def build_correlator(config: AiopsConfig) -> CorrelationEngine:
    return CorrelationEngine(config.correlation, build_graph(config), suppression=config.suppression)


class Pipeline:
    """Detection plus correlation in one process, on event time."""

    def __init__(self, config: AiopsConfig, store: StateStore | None = None) -> None:
        self.config = config
        self.detection = DetectionStage(config.detection)
        self.correlation = CorrelationStage(build_correlator(config), store or InMemoryStore())
        self.lateness = config.correlation.allowed_lateness_seconds
        self.clock = EventClock(self.lateness)

    @property
    def watermark(self) -> float:
        return self.clock.watermark

    def process(self, event: InboundEvent) -> list[Incident]:
        """One event in; incident changes out (including timers the new watermark makes due)."""
        out: list[Incident] = []
        for signal in self.detection.process(event):
            out.extend(self.correlation.receive(signal))
        watermark = self.clock.observe(event.epoch)
        if watermark is not None:
            out.extend(self._fire(watermark))
        return out

    def act(self, action: Action) -> list[Incident]:
        """Apply an operator action at its scope's event-time clock (`correlation.operator`)."""
        return self.correlation.act(action)

    def advance(self, now: float, *, input_ended: bool = False) -> list[Incident]:
        """Move the watermark to `now` (never backwards) and fire due timers (`input_ended`: past the end of
        the input, where no series is "missing")."""
        if not self.clock.advance_to(now):
            return []
        return self._fire(now, input_ended=input_ended)

    def _fire(self, now: float, *, input_ended: bool = False) -> list[Incident]:
        """Event time is now `now`: detection timers, their signals, then correlation timers."""
        out: list[Incident] = []
        for signal in self.detection.advance(now, input_ended=input_ended):
            out.extend(self.correlation.receive(signal))
        out.extend(self.correlation.advance(now))
        return out

    def finish(self) -> list[Incident]:
        """End of input: event time goes on in whole seconds from the last event's watermark (`EventClock.
        idle_ticks`, what the live worker does once its input is idle) until every window, wait, quiet and
        stale period and every firing member's endsAt (at most `MAX_FINISH_ENDS_AT_SECONDS` after the last
        event) has passed, so each open incident resolves at its own time, and no signal is held."""
        cfg = self.config.correlation
        horizon = max(cfg.resolve_quiet_seconds, cfg.group_wait_seconds, cfg.window_seconds)
        horizon = max(horizon, self.config.detection.logs.window_seconds) * 2 + self.lateness
        elapsed = self.lateness + horizon + cfg.stale_seconds + 1
        store = self.correlation.store
        ends_at = max((t for t in (latest_ends_at(store), store.hold.latest_ends_at()) if t is not None),
                      default=None)
        if ends_at is not None:
            ahead = min(ends_at - self.clock.newest, MAX_FINISH_ENDS_AT_SECONDS)
            elapsed = max(elapsed, self.lateness + ahead + horizon + 1)
        out: list[Incident] = []
        last = math.ceil(elapsed)
        for tick in self.clock.idle_ticks(last):
            out.extend(self._fire(tick, input_ended=True))
        while store.hold and last < math.ceil(elapsed) + FINISH_EXTRA_TICKS:  # timers' signals of the last tick
            last += 1
            for tick in self.clock.idle_ticks(last):
                out.extend(self._fire(tick, input_ended=True))
        return out
