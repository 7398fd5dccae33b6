"""Decision ledger contract: one record per correlation decision, published on `aiops.decisions`.

Every choice correlation makes about a member or an incident (joined an incident by a grouping rule,
topology or learned co-occurrence with a score; opened, reopened or resolved an incident; merged an
incident into another (on the survivor, `ref` = the merged incident, with the bridging rule and score); a
notification held by a silence, maintenance window or inhibition; a member held as flapping; a member
resolved because its alert's endsAt passed without a re-send (`expired`); updates summarised during a storm;
an operator action, applied or rejected (`action`: rule = the action's kind, ref = its id))
is a `Decision`, keyed by incident id on the topic so one incident's decisions stay ordered. The incident's
`explanation` carries a one-line summary of the same decisions. Models only: deciding is correlation's job,
publishing the runtime's.
"""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from aiops.events import UtcDatetime

DECISION_SCHEMA_VERSION = 1

DecisionKind = Literal[
    "joined", "opened", "reopened", "resolved", "suppressed", "inhibited", "flapping", "storm", "notified",
    "merged", "expired", "action",
]


class Decision(BaseModel):
    """One correlation decision, with the rule that made it and its score."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = DECISION_SCHEMA_VERSION
    id: str = Field(description="Deterministic: the same input gives the same id (receivers dedup by it).")
    ts: UtcDatetime = Field(description="Event time of the decision.")
    scope: str
    incident_id: str
    member: str = Field("", description="Fingerprint of the member concerned, if any.")
    kind: DecisionKind
    rule: str = Field(description="group_by, topology, co-occurrence, silence, maintenance, inhibition, "
                                  "flapping, storm, lifecycle, merge, ends_at.")
    score: float | None = Field(None, description="Strength of the rule's match (1.0 = exact), if it has one.")
    ref: str = Field("", description="What decided: silence id, inhibiting member, relation, ...")
    reason: str = ""
    actor: str = Field("", description="`action`: who asked.")
    comment: str = Field("", description="`action`: the operator's comment.")
    outcome: Literal["applied", "rejected"] | None = Field(None, description="`action`: applied or rejected "
                                                          "(the reason says why).")


def decision_id(incident_id: str, member: str, kind: str, ts: float, ref: str = "") -> str:
    seed = f"{incident_id}|{member}|{kind}|{ts:.3f}|{ref}"
    return "dec-" + hashlib.sha256(seed.encode()).hexdigest()[:16]
