"""Which firing members inhibit which, for a whole set of firing members at once. Pure.

`InhibitionIndex` answers `InhibitionRule.inhibiting_source` for every member of a set in O(rules) per
member instead of O(members x rules): it is built once per set, and per rule it keeps, for each tuple of
the rule's ``equal`` label values, the first source (in the set's order) and the first source that does not
also match the rule's target side. The answers are those of `InhibitionRule.inhibiting_source` over the
other members in the same order: a target matching ``target_matchers`` is inhibited by the first source
matching ``source_matchers`` with the same ``equal`` values, and a target matching both sides ignores
sources that match both sides (so nothing inhibits itself). It does not decide what is silenced.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aiops.correlation.suppression.matchers import all_match
from aiops.correlation.suppression.rules import InhibitionRule


@dataclass
class _Bucket:
    """The first source with one tuple of ``equal`` values, and the first one matching the source side only."""

    first: str
    first_one_sided: str | None


def _key(rule: InhibitionRule, attrs: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(attrs.get(label, "") for label in rule.equal)


class _RuleIndex:
    def __init__(self, rule: InhibitionRule, members: Sequence[tuple[str, Mapping[str, str]]]) -> None:
        self.rule = rule
        self.buckets: dict[tuple[str, ...], _Bucket] = {}
        for fingerprint, attrs in members:
            if not all_match(rule.source_matchers, attrs):
                continue
            one_sided = not all_match(rule.target_matchers, attrs)
            bucket = self.buckets.get(_key(rule, attrs))
            if bucket is None:
                self.buckets[_key(rule, attrs)] = _Bucket(fingerprint, fingerprint if one_sided else None)
            elif one_sided and bucket.first_one_sided is None:
                bucket.first_one_sided = fingerprint

    def source_of(self, attrs: Mapping[str, str]) -> str | None:
        """The fingerprint of the member inhibiting a member with `attrs` under this rule, or None."""
        if not all_match(self.rule.target_matchers, attrs):
            return None
        bucket = self.buckets.get(_key(self.rule, attrs))
        if bucket is None:
            return None
        if all_match(self.rule.source_matchers, attrs):  # two-sided: only one-sided sources count (not itself)
            return bucket.first_one_sided
        return bucket.first  # the target matches no source side, so it is not in the bucket


class InhibitionIndex:
    """The inhibition rules indexed over one set of firing members: (fingerprint, attributes) in order."""

    def __init__(self, rules: Sequence[InhibitionRule], members: Sequence[tuple[str, Mapping[str, str]]]) -> None:
        self._rules = [_RuleIndex(rule, members) for rule in rules]

    def inhibited_by(self, attrs: Mapping[str, str]) -> list[str]:
        """The fingerprints of the members inhibiting the member with `attrs` (one per rule, duplicates
        removed, in rule order)."""
        found = (index.source_of(attrs) for index in self._rules)
        return list(dict.fromkeys(fingerprint for fingerprint in found if fingerprint is not None))
