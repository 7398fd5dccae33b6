"""Log anomaly detector: template-aware signals on event time (implements `LogDetector`).

Lines are mined into templates (`aiops.logmining.TemplateMiner`) and counted per service and template in
tumbling event-time windows; episodes (new template, keyword, template spike/drop, error burst) emit one
``firing`` and one ``resolved`` signal each (rules, evidence, snapshots: `LogAnomalyDetector`). A template
that stops after an anomaly raised it (an error log ending at recovery) is recovery: it resolves, never
fires. Only `event.ts` is time; memory is bounded by `max_keys`. No cross-service correlation or storage.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from aiops.detectors.logs.counters import Closed, Counter, dump_counter, load_counter
from aiops.events import LOG_LEVELS, LogEvent
from aiops.logmining.masking import mask_secrets
from aiops.logmining.miner import TemplateMiner
from aiops.signals import Evidence, Signal, dt_from_epoch

DETECTOR = "log_anomaly"
SNAPSHOT_VERSION = 1
DEFAULT_KEYWORDS: tuple[str, ...] = (
    "panic", "out of memory", "oom", "segfault", "segmentation fault", "core dumped", "stack overflow",
    "deadlock", "corrupt", "kernel bug", "fatal", "killed process", "data loss",
)
_SEVERITY = {
    "log_new_template": "warning", "log_keyword": "high", "log_error_burst": "high",
    "log_template_spike": "warning", "log_template_drop": "warning",
}


@dataclass(slots=True)
class _Episode:
    kind: str
    service: str
    template_id: str
    host: str
    start: float
    observed: float
    expected: float
    samples: list[str] = field(default_factory=list)
    last_hit: float = 0.0


class LogAnomalyDetector:
    """Template-aware log anomaly detector.

    - ``log_new_template``: a (service, template) never seen before, after the service's warm-up, on a line
      at or above `new_template_level`; fires on that line.
    - ``log_keyword``: a line containing one of `keywords` (case-insensitive: panic, out of memory...);
      fires on that line, one episode per (service, template).
    - ``log_template_spike`` / ``log_template_drop``: at a window close, a template's count is above
      `rate_ratio` x its EWMA baseline (and at least `min_rate_count`), or it is zero although its normal
      baseline (windows without an open log episode of the service) is at least `min_rate_count`; needs
      `warmup_windows` windows of history for that template (of normal history for a drop). A template at
      or above `error_level` that stops, or one whose rate came from an anomaly (an error template born in
      an incident), is recovery, not a drop: it ends that template's open new-template/keyword episodes.
    - ``log_error_burst``: at a window close, the service's lines at or above `error_level` reach
      `min_errors` and exceed `ratio_over_baseline` x their EWMA baseline.

    Each episode emits one ``firing`` Signal at its start and one ``resolved`` Signal at the close of the
    first window in which it is no longer anomalous (for line-triggered kinds: the first window close at
    least `quiet_seconds` after the last such line). Fingerprint = service | signal | template id | start of
    the window the episode started in. Evidence holds the template, counts vs baseline and up to
    `max_samples` sample lines with secrets masked. Each line counts in its own window; windows close on
    `advance(now)` (the stream drives it with the event-time watermark, so lines arriving out of order
    within the allowed lateness count exactly; later ones count in the oldest open window), or on `observe`
    too with `advance_on_observe` (in-order replays). The least recently seen keys are dropped beyond
    `max_keys`. `snapshot()`/`restore()` carry all state (templates, open windows' counts, baselines,
    episodes) across a restart as versioned JSON.
    """

    def __init__(
        self,
        *,
        miner: TemplateMiner | None = None,
        window_seconds: float = 60.0,
        warmup_seconds: float = 600.0,
        warmup_windows: int = 5,
        new_template_level: str = "warning",
        error_level: str = "error",
        min_errors: int = 5,
        ratio_over_baseline: float = 3.0,
        min_rate_count: int = 10,
        rate_ratio: float = 4.0,
        baseline_alpha: float = 0.2,
        keywords: Iterable[str] = DEFAULT_KEYWORDS,
        max_samples: int = 5,
        max_sample_chars: int = 512,
        max_keys: int = 100_000,
        quiet_seconds: float = 900.0,
        advance_on_observe: bool = True,
    ) -> None:
        self.quiet_seconds = quiet_seconds
        self.advance_on_observe = advance_on_observe
        self.miner = miner if miner is not None else TemplateMiner()
        self.window_seconds = window_seconds
        self.warmup_seconds = warmup_seconds
        self.warmup_windows = warmup_windows
        self.new_template_rank = LOG_LEVELS.get(new_template_level.lower(), 30)
        self.error_rank = LOG_LEVELS.get(error_level.lower(), 40)
        self.min_errors = min_errors
        self.ratio_over_baseline = ratio_over_baseline
        self.min_rate_count = min_rate_count
        self.rate_ratio = rate_ratio
        self.alpha = baseline_alpha
        self.keywords = tuple(k.lower() for k in keywords)
        # Whole words only: "oom" must not match "room" or "boom".
        self._keyword_pattern = (
            re.compile(r"\b(?:" + "|".join(re.escape(k) for k in self.keywords) + r")\b", re.IGNORECASE)
            if self.keywords else None
        )
        self.max_samples = max_samples
        self.max_sample_chars = max_sample_chars
        self.max_keys = max_keys
        self._window: int | None = None
        self._service_start: dict[str, float] = {}
        self._templates: dict[tuple[str, str], Counter] = {}
        self._errors: dict[tuple[str, str], Counter] = {}
        self._episodes: dict[tuple[str, str, str], _Episode] = {}
        self.last_flags: tuple[str, ...] = ()
        """Kinds of open episodes the last observed line belongs to (for line-level evaluation)."""

    def snapshot(self) -> dict[str, Any]:
        """JSON-serialisable, versioned state: miner, current window, counters, warm-up starts, episodes."""
        return {
            "version": SNAPSHOT_VERSION, "miner": self.miner.snapshot(), "window": self._window,
            "service_start": dict(self._service_start),
            "templates": [[*key, dump_counter(c)] for key, c in self._templates.items()],
            "errors": [[*key, dump_counter(c)] for key, c in self._errors.items()],
            "episodes": [asdict(episode) for episode in self._episodes.values()],
        }

    @classmethod
    def restore(cls, state: dict[str, Any], *, miner_settings: dict[str, Any] | None = None,
                **params: Any) -> LogAnomalyDetector:
        """Rebuild a detector from `snapshot()` output; `params` are the constructor parameters (without
        `miner`), `miner_settings` the `TemplateMiner` ones. Raises ValueError on another version."""
        if state.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"unsupported log detector snapshot version {state.get('version')!r}")
        detector = cls(miner=TemplateMiner.restore(state["miner"], **(miner_settings or {})), **params)
        detector._window = None if state["window"] is None else int(state["window"])
        detector._service_start = {str(k): float(v) for k, v in state["service_start"].items()}
        for table, name in ((detector._templates, "templates"), (detector._errors, "errors")):
            for service, template_id, counter in state[name]:
                table[(str(service), str(template_id))] = load_counter(counter)
        for item in state["episodes"]:
            episode = _Episode(**item)
            detector._episodes[(episode.service, episode.kind, episode.template_id)] = episode
        return detector

    def observe(self, event: LogEvent) -> list[Signal]:
        """Mine and count one line in its own window; return the episodes it starts (and, with
        `advance_on_observe`, the signals of the windows its time closes)."""
        ts = event.epoch
        signals = self.advance(ts) if self.advance_on_observe else []
        match = self.miner.add(event.message)
        service = event.service
        first_seen = self._service_start.setdefault(service, ts)
        key = (service, match.template_id)
        counter = self._templates.get(key)
        is_new = counter is None
        if counter is None:
            counter = self._new_counter(self._templates, key)
        sample = self._sample(event.message)
        self._count(counter, ts, event.host, sample)
        rank = event.level_rank
        counter.top_level = max(counter.top_level, rank)
        if rank >= self.error_rank:
            error_key = (service, "*")
            errors = self._errors.get(error_key) or self._new_counter(self._errors, error_key)
            self._count(errors, ts, event.host, sample)
        flags: list[str] = []
        if is_new and rank >= self.new_template_rank and ts - first_seen >= self.warmup_seconds:
            signals += self._line_episode("log_new_template", event, match.template_id, sample, flags)
        if self._keyword_pattern is not None and self._keyword_pattern.search(event.message):
            signals += self._line_episode("log_keyword", event, match.template_id, sample, flags)
        self._note_open_episodes(event, match.template_id, sample, flags)
        self.last_flags = tuple(flags)
        return signals

    def advance(self, now: float) -> list[Signal]:
        """Close every window that ends at or before `now` (event time), oldest first."""
        window = int(now // self.window_seconds)
        if self._window is None:
            self._window = min(self._earliest_counted(), window)
        signals: list[Signal] = []
        while self._window < window:
            signals += self._close_window(self._window)
            self._window += 1
            following = min(self._earliest_counted(), window)
            if following > self._window:  # a gap of empty windows: close one (drops show), skip the others
                signals += self._close_window(self._window)
                signals += self._end_line_episodes(following * self.window_seconds)
                self._window = following
        return signals

    def _earliest_counted(self) -> int:
        """Oldest window holding a count (lines may be counted ahead of the watermark); a large number if none."""
        earliest = 1 << 62
        for table in (self._templates, self._errors):
            for counter in table.values():
                if counter.counts:
                    earliest = min(earliest, *counter.counts)
        return earliest

    def _new_counter(self, table: dict[tuple[str, str], Counter], key: tuple[str, str]) -> Counter:
        if len(table) >= self.max_keys:
            del table[min(table, key=lambda k: table[k].last_seen)]
        counter = Counter(last_window=self._window or 0)
        table[key] = counter
        return counter

    def _count(self, counter: Counter, ts: float, host: str, sample: str) -> None:
        window = int(ts // self.window_seconds)
        if self._window is not None and window < self._window:
            window = self._window  # later than its closed window: count it in the oldest open one
        counter.counts[window] = counter.counts.get(window, 0) + 1
        counter.last_seen = max(counter.last_seen, ts)
        counter.host = host
        samples = counter.samples.setdefault(window, [])
        if len(samples) < self.max_samples:
            samples.append(sample)

    def _sample(self, message: str) -> str:
        return mask_secrets(message[: self.max_sample_chars])

    def _line_episode(self, kind: str, event: LogEvent, template_id: str, sample: str,
                      flags: list[str]) -> list[Signal]:
        flags.append(kind)
        key = (event.service, kind, template_id)
        episode = self._episodes.get(key)
        if episode is not None:
            return self._hit(episode, event.epoch, sample)
        episode = _Episode(kind, event.service, template_id, event.host, event.epoch, 1.0, 0.0, [sample],
                           last_hit=event.epoch)
        self._episodes[key] = episode
        return [self._signal(episode, "firing", event.epoch)]

    def _note_open_episodes(self, event: LogEvent, template_id: str, sample: str, flags: list[str]) -> None:
        service = event.service
        for kind in ("log_template_spike", "log_new_template"):
            episode = self._episodes.get((service, kind, template_id))
            if kind not in flags and episode is not None:
                flags.append(kind)
                if kind == "log_new_template":
                    self._hit(episode, event.epoch, sample)
        if event.level_rank >= self.error_rank and (service, "log_error_burst", "*") in self._episodes:
            flags.append("log_error_burst")

    def _hit(self, episode: _Episode, ts: float, sample: str) -> list[Signal]:
        episode.last_hit = ts
        episode.observed += 1
        if len(episode.samples) < self.max_samples:
            episode.samples.append(sample)
        return []

    def _close_window(self, window: int) -> list[Signal]:
        end = (window + 1) * self.window_seconds
        signals: list[Signal] = []
        troubled = {service for service, _, _ in self._episodes}  # services with a log anomaly in this window
        for key, counter in self._templates.items():
            signals += self._judge_rate(key, counter, window, end, key[0] not in troubled)
        for key, counter in self._errors.items():
            signals += self._judge_errors(key, counter, window, end)
        signals += self._end_line_episodes(end)
        return signals

    def _roll(self, counter: Counter, window: int, normal: bool = False) -> tuple[int, float, int]:
        """Return (count, baseline before, history windows) of `window`, then fold it into the baseline (and
        into the normal baseline when the window was `normal`)."""
        idle = window - counter.last_window
        if idle > 0:  # windows skipped in a gap of event time counted zero
            counter.baseline *= (1.0 - self.alpha) ** idle
            counter.windows += idle
            counter.normal_baseline *= (1.0 - self.alpha) ** idle
            counter.normal_windows += idle
        count, baseline, history = counter.counts.pop(window, 0), counter.baseline, counter.windows
        counter.baseline = count if counter.windows == 0 else (1 - self.alpha) * baseline + self.alpha * count
        counter.windows += 1
        counter.last_window = window + 1
        if normal:
            usual = counter.normal_baseline
            counter.normal_baseline = count if counter.normal_windows == 0 else usual + self.alpha * (count - usual)
            counter.normal_windows += 1
        return count, baseline, history

    def _judge_rate(
        self, key: tuple[str, str], counter: Counter, window: int, end: float, normal: bool
    ) -> list[Signal]:
        samples = counter.samples.pop(window, [])
        usual, usual_history = counter.normal_baseline, counter.normal_windows
        count, baseline, history = self._roll(counter, window, normal)
        closed = Closed(count, baseline, samples, end)
        spike = (history >= self.warmup_windows and count >= self.min_rate_count
                 and count > self.rate_ratio * max(baseline, 1.0))
        stopped = count == 0 and baseline >= self.min_rate_count
        errors = counter.top_level >= self.error_rank  # errors that stop are good news
        drop = stopped and not errors and usual_history >= self.warmup_windows and usual >= self.min_rate_count
        signals = self._transition("log_template_spike", key, counter.host, spike, closed)
        signals += self._transition("log_template_drop", key, counter.host, drop, closed)
        if stopped and not drop:
            signals += self._recovered(key, end)
        return signals

    def _recovered(self, key: tuple[str, str], end: float) -> list[Signal]:
        """A template that ran above its normal rate stopped: resolve its line-triggered episodes now."""
        service, template_id = key
        signals: list[Signal] = []
        for kind in ("log_new_template", "log_keyword"):
            episode = self._episodes.pop((service, kind, template_id), None)
            if episode is not None:
                signals.append(self._signal(episode, "resolved", end))
        return signals

    def _judge_errors(self, key: tuple[str, str], counter: Counter, window: int, end: float) -> list[Signal]:
        samples = counter.samples.pop(window, [])
        count, baseline, _ = self._roll(counter, window)
        burst = count >= self.min_errors and count > self.ratio_over_baseline * baseline
        closed = Closed(count, baseline, samples, end)
        return self._transition("log_error_burst", key, counter.host, burst, closed)

    def _transition(self, kind: str, key: tuple[str, str], host: str, anomalous: bool,
                    closed: Closed) -> list[Signal]:
        service, template_id = key
        episode_key = (service, kind, template_id)
        episode = self._episodes.get(episode_key)
        if anomalous and episode is None:
            start = closed.end - self.window_seconds
            episode = _Episode(kind, service, template_id, host, start, closed.observed, closed.baseline,
                               closed.samples)
            self._episodes[episode_key] = episode
            return [self._signal(episode, "firing", closed.end)]
        if anomalous and episode is not None:
            episode.observed = max(episode.observed, closed.observed)
        if not anomalous and episode is not None:
            del self._episodes[episode_key]
            episode.observed, episode.expected = closed.observed, closed.baseline
            return [self._signal(episode, "resolved", closed.end)]
        return []

    def _end_line_episodes(self, end: float) -> list[Signal]:
        signals: list[Signal] = []
        for key, episode in list(self._episodes.items()):
            if episode.kind not in ("log_new_template", "log_keyword"):
                continue
            if end - episode.last_hit >= self.quiet_seconds:
                del self._episodes[key]
                signals.append(self._signal(episode, "resolved", end))
        return signals

    def _signal(self, episode: _Episode, status: Literal["firing", "resolved"], ts: float) -> Signal:
        template = self._template_text(episode.template_id)
        window_start = episode.start // self.window_seconds * self.window_seconds
        score = 1.0 if episode.kind in ("log_new_template", "log_keyword") else _ratio_score(episode)
        evidence = Evidence(
            detector=DETECTOR, score=score, threshold=self._threshold(episode.kind),
            observed=episode.observed, expected=episode.expected, onset=dt_from_epoch(episode.start),
            peak_at=dt_from_epoch(ts), samples=list(episode.samples),
            details={"signal": episode.kind, "template": template, "template_id": episode.template_id,
                     "count": episode.observed, "baseline": round(episode.expected, 3),
                     "window_seconds": self.window_seconds},
        )
        return Signal(
            origin=DETECTOR, name=episode.kind, service=episode.service, host=episode.host,
            # Window-aligned, so lines of one episode arriving out of order within a window keep one identity.
            fingerprint=f"{episode.service}|{episode.kind}|{episode.template_id}|{window_start:.3f}",
            labels={"template_id": episode.template_id}, status=status,
            severity=_SEVERITY[episode.kind], ts=dt_from_epoch(ts), started_at=dt_from_epoch(episode.start),
            summary=_summary(episode, template), annotations={"template": template}, evidence=evidence,
        )

    def _template_text(self, template_id: str) -> str:
        cluster = self.miner.clusters.get(template_id)
        return mask_secrets(cluster.template) if cluster is not None else template_id

    def _threshold(self, kind: str) -> float:
        return {"log_error_burst": self.ratio_over_baseline, "log_template_spike": self.rate_ratio}.get(kind, 1.0)


def _ratio_score(episode: _Episode) -> float:
    observed, expected = episode.observed, episode.expected
    return round(abs(observed - expected) / max(observed, expected, 1e-9), 4)


def _summary(episode: _Episode, template: str) -> str:
    what = {
        "log_new_template": "new log template", "log_keyword": "severity keyword in logs",
        "log_error_burst": "burst of error logs", "log_template_spike": "log template rate spike",
        "log_template_drop": "log template disappeared",
    }[episode.kind]
    counts = f"{episode.observed:g} vs baseline {episode.expected:.2f}"
    return f"{episode.service}: {what} ({counts}): {template[:160]}"
