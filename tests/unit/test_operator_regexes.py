"""API-provided regexes: the catastrophic forms refused (nested or repeated-alternation quantifiers,
backreferences, too many unbounded quantifiers, too long), everyday Alertmanager patterns accepted, and
every accepted pattern of a random sample quick on a hostile value."""

from __future__ import annotations

import random
import re
import time

import pytest
from pydantic import ValidationError

from aiops.correlation.suppression.matchers import Matcher, MatcherSyntaxError
from aiops.operator.regexes import MAX_PATTERN_CHARS, check_api_regex, regex_refusal
from aiops.operator.requests import SilenceRequest
from aiops.operator.silences import AmMatcher, parse_filter


@pytest.mark.parametrize("pattern", [
    "check.*", ".*foo.*bar.*", "(foo|bar)", "(?:foo|bar)-[0-9]+", "(https?://)?host", "a{2}b{1,5}", r"\d+\.\d+",
    "[(*)]+x", r"\(a+\)+", "(?i)disk.*", "(?i:disk)+", "(?P<n>ab)+", "(ab)+", "x{}", "", "(a?)?", "(?<=a)b+",
    "[]a]+", "[^]a]*", "prod-(eu|us)-[a-z]+",
])
def test_everyday_patterns_are_accepted(pattern: str) -> None:
    assert regex_refusal(pattern) is None
    assert check_api_regex(pattern) == pattern


@pytest.mark.parametrize(("pattern", "words"), [
    ("(.*)*x", "nested quantifiers"), ("(a+)+", "nested quantifiers"), ("(a|ab)*x", "alternation"),
    ("((a|b)c)*", "alternation"), ("(a*){2,}", "nested"), ("(x.{0,50})+", "nested"), ("(?:a{1,20})+", "nested"),
    ("(?i:a+)+", "nested"), ("(?P<n>a*)+", "nested"), (r"(a)\1", "backreferences"),
    ("(?P<x>a)(?P=x)", "backreferences"), ("(a)(?(1)b|c)", "conditional"),
    (".*a.*a.*a.*x", "more than 3 unbounded"), ("a" * (MAX_PATTERN_CHARS + 1), f"longer than {MAX_PATTERN_CHARS}"),
    ("(", "not a valid regex"),
])
def test_catastrophic_forms_are_refused_saying_why(pattern: str, words: str) -> None:
    reason = regex_refusal(pattern)
    assert reason is not None
    assert words in reason
    with pytest.raises(MatcherSyntaxError, match="refused"):
        check_api_regex(pattern)


def test_the_reviewers_pattern_would_take_minutes_and_is_refused_in_every_api_model() -> None:
    with pytest.raises(MatcherSyntaxError, match="nested quantifiers"):
        parse_filter(['instance=~"(.*)*x"'])
    assert parse_filter(['instance="(.*)*x"'])[0].op == "=", "an equality value is no regex"
    with pytest.raises(ValidationError, match="nested quantifiers"):
        AmMatcher(name="instance", value="(.*)*x", isRegex=True)
    assert AmMatcher(name="instance", value="(.*)*x", isRegex=False).value == "(.*)*x"
    with pytest.raises(ValidationError, match="nested quantifiers"):
        SilenceRequest.model_validate({"matchers": ['instance!~"(a+)+"'], "comment": "c", "duration_seconds": 60})
    assert Matcher.parse('instance=~"(.*)*x"').op == "=~", "config files and the CLI stay unchecked"


def test_accepted_random_patterns_stay_quick_on_a_hostile_value() -> None:
    chooser = random.Random(7)
    pieces = ["a", "b", ".", "*", "+", "?", "(", ")", "|", "[ab]", "{2,}", "{0,3}", "(?:", r"\d", "x"]
    accepted = 0
    slowest = 0.0
    for _ in range(3000):
        pattern = "".join(chooser.choice(pieces) for _ in range(chooser.randint(1, 14)))
        try:
            re.compile(pattern)
        except re.error:
            continue
        if regex_refusal(pattern) is not None:
            continue
        accepted += 1
        started = time.perf_counter()
        re.fullmatch(pattern, "a" * 40 + "!")
        slowest = max(slowest, time.perf_counter() - started)
    assert accepted > 200
    assert slowest < 0.05
