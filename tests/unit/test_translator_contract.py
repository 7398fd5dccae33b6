"""Contract every ingest `Translator` must keep, run against each integration kind and route
(`aiops.ingest.registry.ROUTES`) with a known-good sample body each (tests/support/ingest_samples.py):

- deterministic: the same body and `Received` give equal events, reply and problems (twice on one translator,
  and on a fresh one);
- pure: no clock read (the clock functions raise during translation), time only from `Received.now`: moving
  `now` moves exactly the sample's now-defaulted fields, by exactly as much, and nothing else;
- every event round-trips through the wire contract as the front writes it and the detection worker reads it
  (`decode_event(event.model_dump_json().encode(), ...) == event`) and carries `source` = the integration's
  `source` or its name;
- robust: arbitrary JSON values and mutations of the sample (a key dropped, a value replaced by any JSON) give
  either a translation whose events keep the contract or a `PayloadRejectedError` whose detail starts with
  where (``alerts[0].labels: ...``); any other exception fails with the input. So do values nested as deep as
  the largest `max_json_depth` lets through. `decode_body` on arbitrary bytes, plain or gzip/deflate (whole or
  truncated), gives a JSON value or a `PayloadRejectedError`, nothing else.
"""

from __future__ import annotations

import copy
import gzip
import os
import re
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from functools import cache
from types import ModuleType
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from support.ingest_samples import NOW, Sample, samples

from aiops.errors import PayloadRejectedError
from aiops.events import AlertEvent, ChangeEvent, LogEvent, MetricEvent, decode_event
from aiops.ingest.base import Received, Translation
from aiops.ingest.config import MAX_JSON_DEPTH, HttpIngestConfig, IntegrationConfig
from aiops.ingest.payload import decode_body, nesting_within
from aiops.ingest.registry import ROUTES, translator_for

SAMPLES = {sample.id: sample for sample in samples()}
IDS = sorted(SAMPLES)
WIRE_LIMIT = 1 << 20
WHERE = re.compile(r"^[^\s:;]+: \S")
"""A rejection detail: ``<where>: <what>``, where a JSON path (``alerts[0].labels``) or a marker (``<body>``)."""
NAMED_WHERE = re.compile(r"^\S.*?: \S", re.DOTALL)
"""The same when the path may hold the body's own keys (which may hold spaces and colons)."""
EXAMPLES = int(os.environ.get("AIOPS_FUZZ_EXAMPLES", "25"))
"""Hypothesis examples per sample and property (``AIOPS_FUZZ_EXAMPLES=2000`` for a long exploratory run)."""
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EVENT_TYPES = (AlertEvent, ChangeEvent, LogEvent, MetricEvent)


def translate(sample: Sample, body: Any, now: float = NOW, config: IntegrationConfig | None = None) -> Translation:
    translator = translator_for(sample.name, config or sample.config)
    return translator.translate(body, Received(sample.name, now, sample.path))


def check_translation(translation: Translation, source: str) -> None:
    """Every event keeps the contract on the wire and names its source; reply and problems are sendable."""
    assert isinstance(translation, Translation)
    for event in translation.events:
        assert isinstance(event, EVENT_TYPES)
        assert decode_event(event.model_dump_json().encode(), WIRE_LIMIT) == event
        assert event.source == source
    orjson.dumps(translation.reply)
    for problem in translation.problems:
        assert NAMED_WHERE.match(problem), problem


def outcome(sample: Sample, body: Any) -> Translation | PayloadRejectedError:
    """The translation (checked) or the rejection of `body`; any other exception fails, naming the input."""
    try:
        translation = translate(sample, body)
    except PayloadRejectedError as error:
        rejected = error
    except Exception as error:
        raise AssertionError(f"{sample.id}: {type(error).__name__}: {error} for body {body!r}") from error
    else:
        check_translation(translation, sample.name)
        return translation
    assert rejected.reason, rejected
    assert NAMED_WHERE.match(rejected.detail), rejected
    return rejected


def test_samples_cover_every_route() -> None:
    covered = {(sample.config.kind, sample.path) for sample in SAMPLES.values()}
    assert covered == {(kind, path) for kind, paths in ROUTES.items() for path in paths}


@pytest.mark.parametrize("sample_id", IDS)
def test_sample_is_accepted_whole(sample_id: str) -> None:
    sample = SAMPLES[sample_id]
    translation = translate(sample, sample.body)
    assert translation.events
    assert translation.problems == []
    check_translation(translation, sample.name)


# --- determinism and purity -------------------------------------------------------------------------------------


@pytest.mark.parametrize("sample_id", IDS)
def test_deterministic(sample_id: str) -> None:
    sample = SAMPLES[sample_id]
    translator = translator_for(sample.name, sample.config)
    received = Received(sample.name, NOW, sample.path)
    body = copy.deepcopy(sample.body)
    first = translator.translate(body, received)
    assert body == sample.body, "the translator changed the body it was given"
    again = translator.translate(body, received)
    fresh = translator_for(sample.name, sample.config).translate(copy.deepcopy(sample.body), received)
    for other in (again, fresh):
        assert (other.events, other.reply, other.problems) == (first.events, first.reply, first.problems)


class ClockReadError(BaseException):
    """A translator read the clock (a BaseException: no `except Exception` in the code under test hides it)."""


def _refuse(*_args: Any, **_kwargs: Any) -> Any:
    raise ClockReadError("a translator read the clock; time must come from Received.now")


class _ClockFree:
    """Stands in for `datetime.datetime` / `datetime.date` in a module: everything but reading the clock
    (construction, class methods and `isinstance` go to the real class)."""

    CLOCK_READS = frozenset({"now", "utcnow", "today"})

    def __init__(self, real: type) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return _refuse if name in self.CLOCK_READS else getattr(self._real, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._real(*args, **kwargs)

    def __instancecheck__(self, instance: Any) -> bool:
        return isinstance(instance, self._real)


TIME_READS = ("time", "time_ns", "monotonic", "monotonic_ns", "perf_counter", "perf_counter_ns")


def clock_names() -> Iterator[tuple[ModuleType, str, type]]:
    """(module, name, class) of every `datetime` / `date` class bound in the ingest modules and the contract."""
    for module_name, module in list(sys.modules.items()):
        if module is None or not (module_name.startswith("aiops.ingest") or module_name == "aiops.events"):
            continue
        for name, value in vars(module).items():
            if value is datetime or value is date:
                yield module, name, value


@pytest.mark.parametrize("sample_id", IDS)
def test_no_clock_read(sample_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Translation under a clock that raises (`time.*`, and the `datetime`/`date` names the modules hold;
    ruff's banned-api rule forbids the other spellings). The guard is checked to bite first."""
    sample = SAMPLES[sample_id]
    guarded = list(clock_names())
    assert guarded, "no datetime name found to guard: the guard would check nothing"
    with monkeypatch.context() as patch:
        for name in TIME_READS:
            patch.setattr(time, name, _refuse)
        for module, name, real in guarded:
            patch.setattr(module, name, _ClockFree(real))
        for module, name, _real in guarded:
            with pytest.raises(ClockReadError):
                getattr(module, name).today()
        with pytest.raises(ClockReadError):
            time.time()
        guarded_translation = translate(sample, sample.body)
    assert guarded_translation.events == translate(sample, sample.body).events


@pytest.mark.parametrize("sample_id", IDS)
def test_time_only_from_received_now(sample_id: str) -> None:
    """Moving `now` moves the now-defaulted fields by exactly as much and leaves every other field alone."""
    sample = SAMPLES[sample_id]
    shift = 3600.25
    before, after = translate(sample, sample.body, now=NOW), translate(sample, sample.body, now=NOW + shift)
    moved: set[str] = set()
    for early, late in zip(before.events, after.events, strict=True):
        early_fields, late_fields = early.model_dump(), late.model_dump()
        for field, value in early_fields.items():
            if late_fields[field] != value:
                assert isinstance(value, datetime), (field, value, late_fields[field])
                assert late_fields[field] - value == timedelta(seconds=shift), field
                moved.add(field)
    assert moved == sample.now_fields
    assert (before.reply, before.problems) == (after.reply, after.problems)


@pytest.mark.parametrize("sample_id", IDS)
def test_source_is_configured_or_the_integration_name(sample_id: str) -> None:
    sample = SAMPLES[sample_id]
    check_translation(translate(sample, sample.body), sample.name)
    configured = sample.config.model_copy(update={"source": "from-config"})
    check_translation(translate(sample, sample.body, config=configured), "from-config")


# --- robustness --------------------------------------------------------------------------------------------------

INTERESTING_STRINGS = (
    "", " ", "firing", "resolved", "trigger", "acknowledge", "resolve", "critical", "P1", "1", "0", "NaN",
    "Infinity", "-1", "1e400", "9223372036854775808", "18446744073709551616", "1717243200000000000",
    "2024-06-01T12:00:00Z", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
    "1969-12-31T23:59:59Z", "2200-01-01T00:00:00Z", "2024-06-01", "12:00", "service.name", "\x00", "é", "🙂",
)
REPLACEMENTS: tuple[Any, ...] = (
    None, True, False, 0, -1, 2**63, 2**64 - 1, -(2**63), 1.5, -1e308, 1e-300, "", "x", "2024-06-01T12:00:00Z",
    [], [None], [{}], {}, {"": ""}, {"x": []},
)
"""Values each part of a sample is replaced by: every JSON type, edges orjson can produce."""


def _walk(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*path, index))


def _edited(body: Any, path: tuple[Any, ...], edit: Callable[[Any, Any], None]) -> Any:
    """A deep copy of `body` with `edit(container, key)` applied at `path` (not empty)."""
    result = copy.deepcopy(body)
    container = result
    for step in path[:-1]:
        container = container[step]
    edit(container, path[-1])
    return result


def dropped(body: Any, path: tuple[Any, ...]) -> Any:
    def drop(container: Any, key: Any) -> None:
        del container[key]
    return _edited(body, path, drop)


def replaced(body: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return copy.deepcopy(new)

    def put(container: Any, key: Any) -> None:
        container[key] = copy.deepcopy(new)
    return _edited(body, path, put)


@cache
def json_values(sample_id: str) -> st.SearchStrategy[Any]:
    """Arbitrary JSON values as orjson decodes them (64-bit integers, finite floats, no lone surrogates), with
    the sample's own keys and strings mixed in so that the values reach past the translators' first checks."""
    body = SAMPLES[sample_id].body
    parts = list(_walk(body))
    keys = sorted({str(path[-1]) for path, _ in parts if path and isinstance(path[-1], str)})
    strings = sorted({value for _, value in parts if isinstance(value, str)} | set(INTERESTING_STRINGS))
    scalars = (st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1)
               | st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from(strings) | st.text(max_size=12))
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.sampled_from(keys) | st.text(max_size=6), inner, max_size=6),
                        max_leaves=12)


@st.composite
def mutations(draw: st.DrawFn, sample_id: str) -> Any:
    """The sample with one to three random edits: a key or element dropped, or any part replaced by any JSON."""
    body = copy.deepcopy(SAMPLES[sample_id].body)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from([path for path, _ in _walk(body)]))
        if path and draw(st.booleans()):
            body = dropped(body, path)
        else:
            body = replaced(body, path, draw(json_values(sample_id)))
    return body


@pytest.mark.parametrize("sample_id", IDS)
@FUZZ
@given(data=st.data())
def test_arbitrary_json_is_translated_or_rejected(sample_id: str, data: st.DataObject) -> None:
    outcome(SAMPLES[sample_id], data.draw(json_values(sample_id), label="body"))


@pytest.mark.parametrize("sample_id", IDS)
@FUZZ
@given(data=st.data())
def test_mutated_sample_is_translated_or_rejected(sample_id: str, data: st.DataObject) -> None:
    outcome(SAMPLES[sample_id], data.draw(mutations(sample_id), label="body"))


def single_edits(body: Any) -> Iterator[tuple[str, Any]]:
    """(what, body) for every part of `body` dropped and replaced by each of `REPLACEMENTS`."""
    for path, value in _walk(body):
        if path:
            yield f"drop {path}", dropped(body, path)
        for new in REPLACEMENTS:
            if type(new) is not type(value) or new != value:
                yield f"{path} = {new!r}", replaced(body, path, new)


@pytest.mark.parametrize("sample_id", IDS)
def test_every_single_edit_is_translated_or_rejected_with_where(sample_id: str) -> None:
    """Exhaustive over the sample's parts: a rejection's detail starts with where (``payload.severity: ...``)."""
    sample = SAMPLES[sample_id]
    rejections = 0
    for what, body in single_edits(sample.body):
        result = outcome(sample, body)
        if isinstance(result, PayloadRejectedError):
            rejections += 1
            assert WHERE.match(result.detail), (what, result.detail)
    assert rejections, "no edit of the sample was rejected: the edits test nothing"


def deep_value(depth: int, shape: str) -> Any:
    """A value nesting at most `depth` arrays/objects: plain arrays or objects, or OTLP AnyValue arrays / kvlists
    (3 and 4 levels per nesting), the shapes that recurse in the translators."""
    leaf: Any = "x" if shape in ("array", "object") else {"stringValue": "x"}
    per_level = {"array": 1, "object": 1, "otlp_array": 3, "otlp_kvlist": 4}[shape]
    value = leaf
    for _ in range((depth - (0 if leaf == "x" else 1)) // per_level):
        if shape == "array":
            value = [value]
        elif shape == "object":
            value = {"k": value}
        elif shape == "otlp_array":
            value = {"arrayValue": {"values": [value]}}
        else:
            value = {"kvlistValue": {"values": [{"key": "k", "value": value}]}}
    return value


@pytest.mark.parametrize("sample_id", IDS)
def test_values_nested_to_the_largest_allowed_depth(sample_id: str) -> None:
    """Every part of the sample replaced by a value nesting as deep as `decode_body` can let through under the
    largest `max_json_depth`. Regression: 256 levels crashed PagerDuty's `custom_details` (orjson serializes
    at most 255), about 1000 crashed every kind (recursion in error messages, OTLP AnyValue, JMESPath), so the
    config caps the bound (`MAX_JSON_DEPTH`)."""
    sample = SAMPLES[sample_id]
    for path, _ in _walk(sample.body):
        for shape in ("array", "object", "otlp_array", "otlp_kvlist"):
            body = replaced(sample.body, path, deep_value(MAX_JSON_DEPTH - len(path), shape))
            assert nesting_within(orjson.dumps(body), MAX_JSON_DEPTH)
            assert not nesting_within(orjson.dumps(body), MAX_JSON_DEPTH - 4)
            outcome(sample, body)


def test_the_depth_bound_stops_what_crashed_before_the_translator() -> None:
    """The minimized crash: a PagerDuty trigger whose `custom_details` nest 256 deep. The largest allowed bound
    rejects it as `too_deep`; a bound above it is refused by the config."""
    raw = (b'{"routing_key": "k", "event_action": "trigger", "payload": {"summary": "s", "source": "h", '
           b'"severity": "info", "custom_details": ' + b"[" * 256 + b"]" * 256 + b"}}")
    with pytest.raises(PayloadRejectedError) as caught:
        decode_body(raw, "", 1 << 20, MAX_JSON_DEPTH)
    assert caught.value.reason == "too_deep"
    assert HttpIngestConfig(max_json_depth=MAX_JSON_DEPTH).max_json_depth == MAX_JSON_DEPTH
    with pytest.raises(ValidationError):
        HttpIngestConfig(max_json_depth=MAX_JSON_DEPTH + 1)


# --- decode_body ------------------------------------------------------------------------------------------------

BODY_LIMIT = 4096
DEPTH_LIMIT = 8


def decoded_or_rejected(raw: bytes, encoding: str) -> Any:
    """decode_body's value, or its rejection; any other exception fails, naming the input."""
    try:
        return decode_body(raw, encoding, BODY_LIMIT, DEPTH_LIMIT)
    except PayloadRejectedError as error:
        rejected = error
    except Exception as error:
        raise AssertionError(f"{type(error).__name__}: {error} for {encoding or 'identity'} body {raw!r}") from error
    assert rejected.reason, rejected
    assert rejected.detail, rejected
    return rejected


def signature(result: Any) -> Any:
    """A decoded value as itself, a rejection as its reason (exceptions do not compare equal)."""
    return ("rejected", result.reason) if isinstance(result, PayloadRejectedError) else ("value", result)


ENCODINGS = st.sampled_from(["", "identity", "gzip", "x-gzip", "deflate", " GZIP ", "br", "gzip, deflate"])
JSON_BYTES = json_values("otlp-logs").map(orjson.dumps)


@settings(max_examples=4 * EXAMPLES, deadline=None)
@given(raw=st.binary(max_size=300) | JSON_BYTES, encoding=ENCODINGS)
def test_decode_body_on_arbitrary_bytes(raw: bytes, encoding: str) -> None:
    decoded_or_rejected(raw, encoding)


@settings(max_examples=4 * EXAMPLES, deadline=None)
@given(raw=st.binary(max_size=300) | JSON_BYTES, cut=st.none() | st.integers(0, 400), deflate=st.booleans())
def test_decode_body_on_compressed_arbitrary_bytes(raw: bytes, cut: int | None, deflate: bool) -> None:
    """gzip / deflate of any bytes, whole or cut anywhere: the inflated bytes decoded, or a rejection."""
    compressed = zlib.compress(raw) if deflate else gzip.compress(raw)
    result = decoded_or_rejected(compressed[:cut], "deflate" if deflate else "gzip")
    if cut is None or cut >= len(compressed):
        assert signature(result) == signature(decoded_or_rejected(raw, "identity"))
    else:
        assert isinstance(result, PayloadRejectedError)


@settings(max_examples=4 * EXAMPLES, deadline=None)
@given(value=json_values("alertmanager"))
def test_decode_body_returns_the_json_value_it_was_given(value: Any) -> None:
    result = decoded_or_rejected(orjson.dumps(value), "")
    assert result == value or (isinstance(result, PayloadRejectedError) and result.reason in ("too_deep", "oversized"))
