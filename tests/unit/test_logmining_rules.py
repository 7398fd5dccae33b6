"""Masking rules per token class: what each rule masks, what it leaves, and that the miner groups by it."""

from __future__ import annotations

import random

import pytest

from aiops.logmining.masking import VariableMasker, sanitize_line
from aiops.logmining.miner import TemplateMiner
from aiops.logmining.rules import (
    _KEY_VALUE,
    _KEY_VALUE_HINT,
    LINE_REWRITES,
    may_rewrite,
    random_letters,
    rewrite_line,
)


def _mask(text: str) -> str:
    return VariableMasker().mask(sanitize_line(text, 4096))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # host names and FQDNs (lowercase labels, 2+ dots, or one dot before a common TLD)
        ("connect to db.prod.example.com now", "connect to <*> now"),
        ("resolve api.internal failed", "resolve <*> failed"),
        # a reverse-DNS name that starts with the address is one host, not an IP with a tail
        ("connection from 62.99.164.82 (62.99.164.82.sh.example.at) at", "connection from <*> (<*>) at"),
        # host:port, alphabetic or dotted
        ("upstream kafka-broker:9092 down", "upstream <*> down"),
        ("proxy www.example.co.uk:443 open", "proxy <*> open"),
        # IPv4 (with port) and IPv6 (full, compressed, loopback, with zone)
        ("from 10.0.0.1:5432 ok", "from <*> ok"),
        ("peer fe80::1ff:fe23:4567:890a%eth0 up", "peer <*> up"),
        ("bind ::1 and 2001:db8::8a2e:370:7334", "bind <*> and <*>"),
        ("peer 2001:0db8:85a3:0000:0000:8a2e:0370:7334 up", "peer <*> up"),
        # URLs and paths with ids and query strings inside
        ("GET https://api.example.io/v1/users/42?page=3 done", "GET <*> done"),
        ("open /var/lib/nova/instances/_base/a489c868f0c3 ok", "open <*> ok"),
        ("serve /v2/54fadb412c4e/servers/detail?limit=10 ok", "serve <*> ok"),
        # UUIDs and request ids
        ("job 123e4567-e89b-12d3-a456-426614174000 done", "job <*> done"),
        ("[req-0b7a3b4e-1a2b-4c3d-9e8f-001122334455 admin] start", "[<*> admin] start"),
        ("request req_8f3a9c2b1d7e done", "request <*> done"),
        ("request req_UzGNRzoPsoKfWNzy done", "request <*> done"),  # a random part without digits
        ("resolve web.billing.internal ok", "resolve <*> ok"),
        # hex and base64 blobs, digit-free random ids
        ("addr 0x7fef9fb9b6d sha a489c868f0c37da93b76227c91bb03908ac0e742", "addr <*> sha <*>"),
        ("payload dGhpcyBpcyBhIHRlc3Q= end", "payload <*> end"),
        ("session AbCdEfGhIjKlMnOpQrSt end", "session <*> end"),
        # numbers with units, glued or apart, with a comparison sign
        ("took 12ms then 3.5 KB and 250 µs", "took <*> then <*> and <*>"),
        ("lifetime <1 sec", "lifetime <*>"),
        ("lifetime 00:02", "lifetime <*>"),
        ("size 16.0 MB, free 2.4 GB)", "size <*>, free <*>)"),
        # quoted words; a quoted HTTP request line keeps its method
        ('user "alice" said "hello there"', 'user "<*>" said "hello there"'),
        ('"GET /v2/abc/servers/detail HTTP/1.1" status: 200', '"GET <*> <*>" status: <*>'),
        # key=value pairs (a plain-word value is left to the miner) and JSON fragments
        ("request_id=ab12cd34 flag=true x=\"a b\" user=root", "request_id=<*> flag=<*> x=<*> user=root"),
        ('event {"user": "bob", "n": 3, "o": {"k": "a b"}} ok', 'event {"user": <*>, "n": <*>, "o": {"k": <*>}} ok'),
        # timestamps inside messages: ISO, textual, common log format, time of day
        ("at 2024-01-02T03:04:05.123Z start", "at <*> start"),
        ("at Mon Jan 2 03:04:05 2024 start", "at <*> start"),
        ("at [12/Mar/2024:10:11:12 +0000] start", "at [<*>] start"),
        ("at 12:30:45,123 start", "at <*> start"),
        # an empty value is a value
        ("connection from 1.2.3.4 () at x", "connection from <*> (<*>) at x"),
    ],
)
def test_token_class_is_masked(text: str, expected: str) -> None:
    assert _mask(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "java.io.IOException: org.apache.hadoop.mapred.Task failed",  # class names are not hosts
        "std::vector<int> resized",  # C++ scopes are not IPv6
        "AbstractSingletonProxyFactoryBean created",  # CamelCase is not a random id
        "Failed password for invalid user admin",  # plain words stay
        "some_long_identifier_name set",  # snake_case parts are words
        "can't open file.txt here",  # apostrophes and one-dot names stay
    ],
)
def test_constant_text_is_left_alone(text: str) -> None:
    assert _mask(text) == text


def test_random_letters_tells_blobs_from_camel_case() -> None:
    assert random_letters("qWeRtYuIoPaSdFgHjK")
    assert not random_letters("NullPointerException")
    assert not random_letters("short")
    assert not random_letters("abc1defghijklmnopq")  # digits: the digit rules decide


@pytest.mark.parametrize(
    "lines",
    [
        [f"{host}:{port} close, {n} bytes sent, lifetime {life}" for host, port, n, life in
         [("www.example.com", 443, 0, "<1 sec"), ("cdn.example.net", 80, 1190, "00:02"),
          ("proxy.corp.example.org", 5070, 35, "02:05")]],
        [f'{ip} "GET /v2/{tenant}/servers/detail HTTP/1.1" status: 200 len: {n} time: 0.{n}' for ip, tenant, n in
         [("10.11.10.1", "54fadb412c4e40cd", 1893), ("10.11.10.2", "e9746973ac574c6b", 211)]],
        [f"[instance: {uid}] Took {t} seconds to spawn" for uid, t in
         [("b9000564-fe1a-409b-b8cc-1e88b294cd1d", "19.84"), ("c1000564-fe1a-409b-b8cc-1e88b294cd1e", "2.1")]],
    ],
)
def test_lines_that_differ_only_in_variables_share_one_template(lines: list[str]) -> None:
    miner = TemplateMiner()
    assert len({miner.add(line).template_id for line in lines}) == 1


def test_http_methods_stay_apart() -> None:
    miner = TemplateMiner()
    get = miner.add('1.2.3.4 "GET /v2/ab12/servers HTTP/1.1" status: 200')
    post = miner.add('1.2.3.4 "POST /v2/ab12/servers HTTP/1.1" status: 200')
    assert get.template_id != post.template_id


def _random_lines(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    pieces = [*"0aZ_-.,;:&)]}<>=\"'({[ ", "==", "=ok", "=ok,", "=a1", "key", "x=", '"k": ', "''", '""', "()",
              "[]", "{}", "Jan", "Mon", "Mar 3 2024", "12/Mar/2024:10:11:12", "Dec", "May", "ok", "\\"]
    return [" ".join("".join(rng.choices(pieces, k=rng.randint(1, 8))).split()) for _ in range(count)]


def test_rewrite_hints_only_skip_lines_that_no_rewrite_changes() -> None:
    skipped = 0
    for line in _random_lines(5, 20_000):
        if may_rewrite(line) is None:
            skipped += 1
            assert rewrite_line(line, LINE_REWRITES, True) == line, line
        if _KEY_VALUE_HINT(line) is None:
            assert _KEY_VALUE.search(line) is None, line
    assert 1_000 < skipped < 19_000  # both kinds of line were drawn

