"""Where an operator action is applied among its partition's signals, the same before and after a crash.

Signals and actions are two topics read with separate offsets, so the batch that brings an action may hold
any number of its partition's signals. The first time a worker applies an action it places it after the
batch's signals and records that position (the next signals offset) in `placements`, which the worker
writes to the correlation-state topic before it publishes anything the batch caused. A worker that reads
the action again after a crash applies it at the recorded position, just before the first signal at or
past it, and holds it (with every later action) while the signals fetched so far do not reach it. So the
same records give the same sequence of signals and actions, whatever the batches. Planning only; no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

Step = tuple[Literal["signal", "action"], int]
"""Apply signal i or action i of the batch (indexes into the offsets given to `plan`)."""


@dataclass
class Plan:
    """The order to apply a partition's batch in, the new placements to record, and what to hold."""

    steps: list[Step] = field(default_factory=list)
    placed: dict[int, int] = field(default_factory=dict)
    """New placements: action offset -> signals position (the next signals offset when it was applied)."""
    held_from: int = 0
    """Index of the first action held for a later batch (= the number of actions when none is)."""


def plan(signal_offsets: Sequence[int], action_offsets: Sequence[int], placements: Mapping[int, int],
         position: int | None) -> Plan:
    """Interleave one partition's signals and actions (each in offset order) by their placements; an action
    not placed yet goes after the batch's signals (`position`: the next signals offset before the batch,
    None when no signal was ever processed)."""
    out = Plan()
    taken = 0
    for index, offset in enumerate(signal_offsets):
        while taken < len(action_offsets) and placements.get(action_offsets[taken], offset + 1) <= offset:
            out.steps.append(("action", taken))
            taken += 1
        out.steps.append(("signal", index))
    end = signal_offsets[-1] + 1 if signal_offsets else (position or 0)
    while taken < len(action_offsets):
        at = placements.get(action_offsets[taken])
        if at is None:
            at = out.placed[action_offsets[taken]] = end
        if at > end:
            break  # placed after signals not fetched yet: this action and the later ones wait for them
        out.steps.append(("action", taken))
        taken += 1
    out.held_from = taken
    return out
