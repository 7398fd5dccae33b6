"""Incident lifecycle on event time: open, updated, resolved, reopened, forgotten; and what is held.

- pending -> open once `group_wait_seconds` passed and `min_active_members` members fire; the first
  notification (`open`) is sent unless a suppression holds the incident (never held by a storm);
- open: `updated` at most once per `group_interval_seconds` with what changed (during a storm, at least
  `storm_added_interval_seconds` when members were added, else `storm_summary_interval_seconds`: `due.
  update_interval`), re-sent unchanged after `repeat_interval_seconds`; held while suppressed;
- resolved once no member is live (firing or flapping) and `resolve_quiet_seconds` passed since the last
  resolve; the resolve of a notified incident is always sent, even while it is suppressed;
- a resolved incident stays `reopen_seconds` and reopens (same id, acknowledgement cleared) when a member
  fires again in it (resolved by hand: members still firing then do not count); an incident pending too long
  is dropped silently;
- an incident merged into another (`merge`) resolves at once, its final version naming the survivor in
  `merged_into` (sent when receivers know it, even while suppressed), and is forgotten. Operator actions
  (`operator`): a snooze holds like a silence; an incident reopened by hand stays open until a member fires.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Literal

from aiops.correlation.attrs import attributes
from aiops.correlation.builder import BuildContext, build_incident
from aiops.correlation.config import CorrelationConfig
from aiops.correlation.due import update_interval
from aiops.correlation.incident_state import IncidentState
from aiops.correlation.ledger import Ledger
from aiops.correlation.state import ScopeState, due_index, index_of, remember_closed
from aiops.correlation.suppression.config import SuppressionConfig
from aiops.correlation.suppression.flapping import settle_flapping
from aiops.correlation.suppression.rules import SuppressionPolicy
from aiops.incidents import Incident

FiringAttrs = Callable[[], Sequence[Mapping[str, str]]]


class Lifecycle:
    def __init__(self, config: CorrelationConfig, context: BuildContext, ledger: Ledger,
                 suppression: SuppressionConfig) -> None:
        self.config = config
        self.suppression = suppression
        self.context = context
        self.ledger = ledger
        self.policy: SuppressionPolicy | None = None

    def emit_due(self, state: ScopeState, incident: IncidentState, now: float) -> list[Incident]:
        if incident.status == "resolved" and not self._reopen(state, incident, now):
            return []
        if incident.status == "pending" and not self._open(state, incident, now):
            return []
        quiet = now >= incident.last_resolve + self.config.resolve_quiet_seconds
        if quiet and not due_index(state).tally(incident).live and not self._held_open(state, incident):
            return self._resolve(state, incident, now)
        if not incident.notified:
            if self._held(state, incident, now):
                return []
            incident.notified = True
            incident.last_notified = now
            if incident.opened_at is None:
                incident.opened_at = now
            reason = "reopened" if incident.reopened else "new incident"
            self.ledger.record(incident, "notified", "lifecycle", now, reason)
            return [self._build(state, incident, "open", reason)]
        return self._update(state, incident, now)

    def _update(self, state: ScopeState, incident: IncidentState, now: float) -> list[Incident]:
        cfg = self.config
        pending = incident.pending
        changed = bool(pending.added or pending.resolved)
        storm = state.storm.active
        due = changed and now >= incident.last_notified + update_interval(incident, cfg, storm)
        repeat = cfg.repeat_interval_seconds > 0 and now >= incident.last_notified + cfg.repeat_interval_seconds
        if not (due or repeat) or self._held(state, incident, now):
            return []
        incident.last_notified = now
        reason = "members changed" if changed else "repeat: unchanged since last notification"
        if storm and changed:
            count = len(pending.added) + len(pending.resolved)
            reason = f"storm: {count} change(s) summarised"
            self.ledger.record(incident, "storm", "storm", now, reason, score=state.storm.rate)
        self.touch(state, incident)
        return [self._build(state, incident, "updated", reason)]

    def _open(self, state: ScopeState, incident: IncidentState, now: float) -> bool:
        waited = now >= incident.first_seen + self.config.group_wait_seconds
        active = _active(state, incident)
        if waited and active >= self.config.min_active_members:
            incident.status = "open"
            self.touch(state, incident)
            self.ledger.record(incident, "opened", "lifecycle", now, f"{active} active member(s) after group wait")
            return True
        if active == 0 and now > incident.last_seen + self.config.window_seconds:
            self.forget(state, incident)
        return False

    def _held_open(self, state: ScopeState, incident: IncidentState) -> bool:
        """Reopened by hand: it stays open until a member fires (then the usual rules apply)."""
        if incident.held_open and _active(state, incident) > 0:
            incident.held_open = False
            self.touch(state, incident)
        return incident.held_open

    def _reopen(self, state: ScopeState, incident: IncidentState, now: float) -> bool:
        """A member fires in it again (resolved by hand: one that fired again or joined since)."""
        if _active(state, incident) > 0 and (not incident.resolved_by or incident.pending.added):
            incident.status = "open"
            incident.resolved_at = None
            incident.resolved_by = incident.acknowledged_by = ""
            incident.acknowledged_at = None
            incident.reopened += 1
            self.touch(state, incident)
            self.ledger.record(incident, "reopened", "lifecycle", now, "a member fired again within reopen window")
            return True
        if incident.resolved_at is not None and now >= incident.resolved_at + self.config.reopen_seconds:
            self.forget(state, incident, remember=True)
        return False

    def _resolve(self, state: ScopeState, incident: IncidentState, now: float) -> list[Incident]:
        was_notified = incident.notified
        incident.status = "resolved"
        incident.resolved_at = now
        incident.notified = False
        self.ledger.record(incident, "resolved", "lifecycle", now, "all members resolved and quiet")
        out = [self._build(state, incident, "resolved", "all members resolved and quiet")] if was_notified else []
        incident.clear_pending()
        self.touch(state, incident)
        if self.config.reopen_seconds <= 0:
            self.forget(state, incident, remember=True)
        return out

    def close_merged(self, state: ScopeState, incident: IncidentState, into: IncidentState, now: float,
                     reason: str) -> list[Incident]:
        """`incident` is merged into `into`: it resolves now (not reopenable) and, when receivers know it, its
        final `resolved` version says `merged_into`; sent even while it is suppressed, like every resolve.
        The caller moves its members and then `forget`s it."""
        was_notified = incident.notified
        incident.status = "resolved"
        incident.resolved_at = now
        incident.notified = False
        self.ledger.record(incident, "resolved", "merge", now, reason, ref=into.id)
        if not was_notified:
            return []
        built = self._build(state, incident, "resolved", reason)
        return [built.model_copy(update={"merged_into": into.id})]

    def _held(self, state: ScopeState, incident: IncidentState, now: float) -> bool:
        """Whether suppression holds the incident now; records a decision when that changes."""
        tally = due_index(state).tally(incident)
        if tally.all_flapping:
            return True
        if incident.snoozed_until is not None and now < incident.snoozed_until:
            if incident.held_by != "snooze":
                incident.held_by = "snooze"
                self.touch(state, incident)
            return True
        held_by = ""
        if self.policy is not None and tally.live:  # silences match members: the live ones, by fingerprint
            firing = sorted(tally.members.values(), key=lambda m: m.fingerprint)
            context = LazyFiringAttrs(state)
            verdicts = [self.policy.check(attributes(m), now, context) for m in firing]
            for member, verdict in zip(firing, verdicts, strict=True):
                member.suppressed_by = f"{verdict.by}:{verdict.ref}" if verdict.suppressed else ""
            if all(v.suppressed for v in verdicts):
                first = verdicts[0]
                by, ref = first.by or "suppression", first.ref or ""
                held_by = f"{by}:{ref}"
                if held_by != incident.held_by:
                    kind: Literal["inhibited", "suppressed"] = "inhibited" if by == "inhibition" else "suppressed"
                    self.ledger.record(incident, kind, by, now, first.reason, ref=ref)
        if held_by != incident.held_by:
            incident.held_by = held_by
            self.touch(state, incident)
        return bool(held_by)

    def settle(self, state: ScopeState, incident: IncidentState, now: float) -> None:
        """Flapping members quiet for a window stop flapping; their current status is reported once."""
        tally = due_index(state).tally(incident)
        for member in sorted(tally.flapping.values(), key=lambda m: m.fingerprint):  # few: flapping members
            if settle_flapping(member, now, self.suppression.flapping):
                tally.apply(member, member.status == "firing", True)
                (incident.note_added if member.status == "firing" else incident.note_resolved)(member)
                if member.status == "resolved":
                    incident.last_resolve = max(incident.last_resolve, now)
                self.touch(state, incident, member.fingerprint)

    def forget(self, state: ScopeState, incident: IncidentState, remember: bool = False) -> None:
        """Drop the incident from its scope; `remember`: a closed incident, whose members re-processed
        signals must not bring back (`state.remember_closed`)."""
        if remember:
            remember_closed(state, incident)
        index_of(state).remove(incident)
        state.incidents.pop(incident.id, None)
        for fingerprint in incident.members:
            if state.index.get(fingerprint) == incident.id:
                del state.index[fingerprint]
        state.dirty.removed[incident.id] = list(incident.members)
        state.dirty.incidents.discard(incident.id)
        self.context.forget(incident.id)

    @staticmethod
    def touch(state: ScopeState, incident: IncidentState, fingerprint: str | None = None) -> None:
        if incident.id in state.incidents:
            state.touch(incident.id, fingerprint)

    def _build(self, state: ScopeState, incident: IncidentState,
               status: Literal["open", "updated", "resolved"], why: str) -> Incident:
        self.touch(state, incident)
        return build_incident(incident, self.context.for_scope(state), status, why)


def _active(state: ScopeState, incident: IncidentState) -> int:
    """Firing members (`incident.active_members`, counted by the due index)."""
    return due_index(state).tally(incident).firing


class LazyFiringAttrs:
    """`firing_attrs(state)`, computed on first iteration only (only inhibition rules read it: without them,
    checking a member costs nothing per scope member), then reused for every member checked."""

    def __init__(self, state: ScopeState) -> None:
        self.state = state
        self.items: list[dict[str, str]] | None = None

    def __iter__(self) -> Iterator[dict[str, str]]:
        if self.items is None:
            self.items = firing_attrs(self.state)
        return iter(self.items)


def firing_attrs(state: ScopeState) -> list[dict[str, str]]:
    """Attributes of every firing member of the scope (inhibition sources)."""
    return [attributes(m) for inc in state.incidents.values() for m in inc.members.values() if m.status == "firing"]
