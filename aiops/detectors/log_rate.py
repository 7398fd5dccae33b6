"""Log error-rate burst detector: the simple first log detector of the vertical slice.

Counts lines at or above an error level per service in tumbling event-time windows, keeps an EWMA
baseline of that count, and flags a burst when a window's count reaches `min_errors` and exceeds
`ratio_over_baseline` times the baseline: a `firing` signal at the end of the first bursting window and a
`resolved` signal at the end of the first normal window after it (each further bursting window re-sends
`firing`, a refresh). Evidence holds counts vs baseline and a
few sample lines. It does not mine templates (the log-intelligence issue does).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from aiops.events import LOG_LEVELS, LogEvent
from aiops.signals import Evidence, Signal, dt_from_epoch

_BASELINE_ALPHA = 0.2


@dataclass(slots=True)
class _ServiceWindow:
    window: int
    host: str
    errors: int = 0
    lines: int = 0
    samples: list[str] = field(default_factory=list)
    baseline: float = 0.0
    windows_seen: int = 0
    burst_start: float | None = None
    burst_peak: int = 0


def poisson_tail(count: int, rate: float) -> float:
    """P(X >= count) for X ~ Poisson(rate), computed in log space (count capped at 10,000)."""
    count = min(count, 10_000)
    log_term = -rate
    cdf = 0.0
    for k in range(count):
        if k:
            log_term += math.log(rate) - math.log(k)
        cdf += math.exp(log_term)
    return max(0.0, 1.0 - cdf)


class LogErrorRateDetector:
    """Per-service error-line bursts over tumbling event-time windows."""

    signal_name = "log_error_burst"

    def __init__(
        self,
        window_seconds: float = 60.0,
        min_errors: int = 5,
        ratio_over_baseline: float = 3.0,
        error_level: str = "error",
        max_samples: int = 5,
    ) -> None:
        self.window_seconds = window_seconds
        self.min_errors = min_errors
        self.ratio = ratio_over_baseline
        self.error_rank = LOG_LEVELS.get(error_level.lower(), 40)
        self.max_samples = max_samples
        self._services: dict[str, _ServiceWindow] = {}

    def observe(self, event: LogEvent) -> list[Signal]:
        window = math.floor(event.epoch / self.window_seconds)
        state = self._services.get(event.service)
        out: list[Signal] = []
        if state is None:
            state = _ServiceWindow(window=window, host=event.host)
            self._services[event.service] = state
        elif window > state.window:
            out.extend(self._close(event.service, state, window))
        state.lines += 1
        if event.level_rank >= self.error_rank:
            state.errors += 1
            state.host = event.host
            if len(state.samples) < self.max_samples:
                state.samples.append(event.message[:500])
        return out

    def advance(self, now: float) -> list[Signal]:
        current = math.floor(now / self.window_seconds)
        out: list[Signal] = []
        for service, state in self._services.items():
            if current > state.window:
                out.extend(self._close(service, state, current))
        return out

    def _close(self, service: str, state: _ServiceWindow, next_window: int) -> list[Signal]:
        end = (state.window + 1) * self.window_seconds
        bursting = state.errors >= self.min_errors and state.errors > self.ratio * max(state.baseline, 1.0)
        out: list[Signal] = []
        if bursting and state.burst_start is None:
            state.burst_start = state.window * self.window_seconds
            state.burst_peak = state.errors
            out.append(self._signal(service, state, end, "firing"))
        elif bursting:
            state.burst_peak = max(state.burst_peak, state.errors)
            out.append(self._signal(service, state, end, "firing"))  # refresh: the burst goes on
        elif state.burst_start is not None:
            out.append(self._signal(service, state, end, "resolved"))
            state.burst_start = None
        if not bursting:
            weight = _BASELINE_ALPHA if state.windows_seen else 1.0
            state.baseline += weight * (state.errors - state.baseline)
            state.windows_seen += 1
        # Windows with no lines at all between the closed one and `next_window` count as zero errors.
        skipped = next_window - state.window - 1
        if skipped > 0 and state.burst_start is None:
            state.baseline *= (1.0 - _BASELINE_ALPHA) ** min(skipped, 50)
        state.window, state.errors, state.lines, state.samples = next_window, 0, 0, []
        return out

    def _signal(self, service: str, state: _ServiceWindow, end: float, status: str) -> Signal:
        start = state.burst_start if state.burst_start is not None else end - self.window_seconds
        evidence = Evidence(
            detector="log_error_rate",
            score=1.0 - poisson_tail(state.errors, max(state.baseline, 0.5)),
            threshold=self.ratio,
            observed=float(state.errors),
            expected=state.baseline,
            onset=dt_from_epoch(start),
            details={"window_seconds": self.window_seconds, "lines_in_window": float(state.lines)},
            samples=list(state.samples),
        )
        return Signal(
            origin="log_anomaly",
            fingerprint=f"{service}|{self.signal_name}#{start:.0f}",
            name=self.signal_name,
            service=service,
            host=state.host,
            status="firing" if status == "firing" else "resolved",
            severity="high",
            ts=dt_from_epoch(end),
            started_at=dt_from_epoch(start),
            summary=f"{state.errors} error lines in {self.window_seconds:.0f}s (baseline {state.baseline:.1f})",
            evidence=evidence,
        )
