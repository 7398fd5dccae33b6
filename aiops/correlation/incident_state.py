"""The working state of one incident and its members: plain, serialisable data (JSON round-trip).

`IncidentState` is what the engine keeps of an incident between signals (status, timers, members, why
members joined); `MemberState` one member with its status history. What changed since the last version is
kept on the members (`added_seq`/`resolved_seq` against the incident's `change_seq`/`shown_seq`), so the
incident record stays O(1)-sized however many members join between two versions; `IncidentState.pending`
is the ordered view of it, rebuilt from the members after a load. The rules that change them live in the
engine, the lifecycle and the guards; the scope they belong to is `state.ScopeState`. Plain slots hold what
is not serialised, compared nor copied: a member's last outbound `Member` (`builder`) and its entries on the
expiry heaps (`due`), an incident's pending view.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from aiops.incidents import Member, OperatorNote
from aiops.signals import Evidence

BuiltMember = tuple[tuple[str, float, int], Member, Evidence | None]
"""((status, last_seen, id(evidence)), the outbound member, the evidence it was built with)."""


class MemberState(BaseModel):
    __slots__ = ("_built", "_ending", "_queued")
    if TYPE_CHECKING:
        _built: BuiltMember | None
        _ending: float | None
        _queued: bool

    fingerprint: str
    origin: Literal["metric_anomaly", "log_anomaly", "alert"]
    name: str
    service: str
    host: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    status: Literal["firing", "resolved"]
    severity: str
    first_seen: float
    last_seen: float
    ends_at: float | None = Field(
        None, description="While firing: resolved when event time reaches it without a re-send (the alert's "
        "endsAt, replaced by every newer signal); None: stale_seconds after last_seen.")
    summary: str = ""
    annotations: dict[str, str] = Field(default_factory=dict)
    evidence: Evidence | None = None
    joined_because: str = ""
    member_type: str = ""
    transitions: list[float] = Field(default_factory=list, description="Recent status-change times.")
    flapping: bool = False
    suppressed_by: str = Field("", description="rule:ref of the suppression holding this member, if any.")
    added_seq: int = Field(0, description="The incident's change number when it last joined or fired again.")
    resolved_seq: int = Field(0, description="The incident's change number when it last resolved.")

    @property
    def built(self) -> BuiltMember | None:
        """The outbound member last built from this one (see `builder`), if any."""
        try:
            return self._built
        except AttributeError:  # never built (the slot starts empty; a copy starts without it)
            return None

    @built.setter
    def built(self, value: BuiltMember) -> None:
        object.__setattr__(self, "_built", value)

    @property
    def queued(self) -> bool:
        """Whether it has an entry on its scope's stale heap (`due.DueIndex.queue`)."""
        try:
            return self._queued
        except AttributeError:
            return False

    @queued.setter
    def queued(self, value: bool) -> None:
        object.__setattr__(self, "_queued", value)

    @property
    def ending(self) -> float | None:
        """The time of its valid entry on its scope's endsAt heap (`due.DueIndex.queue`); None: none."""
        try:
            return self._ending
        except AttributeError:
            return None

    @ending.setter
    def ending(self, value: float | None) -> None:
        object.__setattr__(self, "_ending", value)


class Pending:
    """Members added (joined or firing again) and resolved since the last version, in change order."""

    __slots__ = ("added", "resolved")

    def __init__(self, incident: IncidentState) -> None:
        shown = incident.shown_seq
        members = incident.members.values()
        added = sorted((m.added_seq, m.fingerprint) for m in members if m.added_seq > shown)
        resolved = sorted((m.resolved_seq, m.fingerprint) for m in members if m.resolved_seq > shown)
        self.added: dict[str, None] = dict.fromkeys(fp for _, fp in added)
        self.resolved: dict[str, None] = dict.fromkeys(fp for _, fp in resolved)


class IncidentState(BaseModel):
    __slots__ = ("_pending",)
    if TYPE_CHECKING:
        _pending: Pending

    id: str
    scope: str
    status: Literal["pending", "open", "resolved"] = "pending"
    version: int = 0
    first_seen: float
    last_seen: float
    last_resolve: float = 0.0
    last_notified: float = 0.0
    resolved_at: float | None = None
    opened_at: float | None = Field(None, description="Event time its first `open` was sent (None: not yet).")
    members: dict[str, MemberState] = Field(default_factory=dict)
    change_seq: int = Field(0, description="Number of the latest member change (see MemberState.added_seq).")
    shown_seq: int = Field(0, description="Change number the latest version covered.")
    grouping: list[str] = Field(default_factory=list)
    group_key: str = ""
    merged_keys: list[str] = Field(default_factory=list, description="Group keys of incidents merged into this one.")
    notified: bool = Field(False, description="Receivers know this incident (its open was sent).")
    held_by: str = Field("", description="Suppression currently holding its notifications (rule:ref).")
    reopened: int = 0
    notes: list[str] = Field(default_factory=list, description="Decision summaries for the explanation.")
    acknowledged_by: str = Field("", description="Operator who acknowledged it ('': not acknowledged).")
    acknowledged_at: float | None = None
    resolved_by: str = Field("", description="Operator who resolved it by hand: only a member firing again (or "
                             "a new member) after that reopens it, not members still firing then.")
    held_open: bool = Field(False, description="Reopened by hand: it does not resolve by itself until a member "
                            "fires again.")
    snoozed_until: float | None = Field(None, description="Notifications held until then (event time).")
    owner: str | None = Field(None, description="Set by `assign` (replaces the catalogue's owner).")
    team: str | None = None
    operator_notes: list[OperatorNote] = Field(default_factory=list, description="The latest operator notes.")
    unlinked: list[str] = Field(default_factory=list, description="Members an operator split out or unlinked: "
                                "never joined to this incident again.")
    apart: list[str] = Field(default_factory=list, description="Incidents an operator split this one from (or "
                             "it from): never merged with it automatically.")

    @property
    def pending(self) -> Pending:
        """What changed since the last version (built from the members on first use)."""
        try:
            return self._pending
        except AttributeError:
            pending = Pending(self)
            object.__setattr__(self, "_pending", pending)
            return pending

    @property
    def pending_added(self) -> list[str]:
        return list(self.pending.added)

    @property
    def pending_resolved(self) -> list[str]:
        return list(self.pending.resolved)

    def note_added(self, member: MemberState) -> None:
        """`member` joined or fires again: reported as added by the next version."""
        member.added_seq = self._note(self.pending.added, member.fingerprint)

    def note_resolved(self, member: MemberState) -> None:
        """`member` resolved: reported as resolved by the next version."""
        member.resolved_seq = self._note(self.pending.resolved, member.fingerprint)

    def _note(self, bucket: dict[str, None], fingerprint: str) -> int:
        """Move `fingerprint` to the end of `bucket` (latest change last); the change's sequence number."""
        self.change_seq += 1
        bucket.pop(fingerprint, None)
        bucket[fingerprint] = None
        return self.change_seq

    def clear_pending(self) -> None:
        """A version covered every change so far."""
        self.shown_seq = self.change_seq
        pending = self.pending
        pending.added.clear()
        pending.resolved.clear()

    @property
    def active_members(self) -> int:
        return sum(1 for member in self.members.values() if member.status == "firing")

    @property
    def services(self) -> list[str]:
        return sorted({member.service for member in self.members.values()})

    @property
    def nodes(self) -> set[str]:
        """Topology nodes the incident touches: its services and hosts."""
        found = {member.service for member in self.members.values()}
        found.update(member.host for member in self.members.values() if member.host)
        return found
