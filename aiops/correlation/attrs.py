"""Member attributes and the keys derived from them: dedup key and group key.

A member's attributes are its labels plus `service`, `host`, `name` (also as `alertname`), `origin` and
`severity`; grouping rules (`group_by`), dedup rules (`dedup_by`) and suppression matchers all read this
one view. Pure functions; no state.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from aiops.correlation.incident_state import MemberState
from aiops.signals import Signal


def attributes(item: Signal | MemberState) -> dict[str, str]:
    """Labels plus the member's own fields (own fields win over equally named labels)."""
    attrs = dict(item.labels)
    attrs.update(service=item.service, name=item.name, alertname=item.name, origin=item.origin,
                 severity=item.severity)
    if item.host:
        attrs["host"] = item.host
    return attrs


def key_of(attrs: dict[str, str], keys: Sequence[str]) -> str:
    """`k=v` pairs of the listed attributes (missing ones empty), in the listed order."""
    return "|".join(f"{name}={attrs.get(name, '')}" for name in keys)


def dedup_key(signal: Signal, dedup_by: Sequence[str]) -> str:
    """The member's identity: the signal's fingerprint, or a hash of the `dedup_by` attributes."""
    if not dedup_by:
        return signal.fingerprint
    digest = hashlib.sha256(key_of(attributes(signal), dedup_by).encode()).hexdigest()[:16]
    return f"dd-{digest}"


def group_key(attrs: dict[str, str], group_by: Sequence[str]) -> str:
    """Members with equal, non-empty group keys group by rule; '' never groups."""
    if not group_by or all(not attrs.get(name) for name in group_by):
        return ""
    return key_of(attrs, group_by)

