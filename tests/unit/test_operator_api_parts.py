"""The operator API's pure parts: token roles, problem bodies, action and silence requests, the Alertmanager
silence mapping and filter, the OpenAPI document, and API tokens among the checked secrets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from aiops.config import AiopsConfig
from aiops.config_secrets import secret_references
from aiops.correlation.suppression.matchers import Matcher
from aiops.correlation.suppression.rules import Silence
from aiops.operator.audit import AuditEntry, MemoryAuditSink
from aiops.operator.auth import Credential, TokenTable, anonymous_role, bearer_token
from aiops.operator.openapi import docs_page, openapi_document
from aiops.operator.problems import problem, validation_problem
from aiops.operator.requests import ActionRequest, SilenceRequest, SilenceView, build_action, build_silence
from aiops.operator.silences import (
    AmMatcher,
    PostableSilence,
    am_matcher,
    gettable_silence,
    matches_filter,
    parse_filter,
    silence_from_postable,
    to_matcher,
)

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
TABLE = TokenTable([Credential("alice", b"a-secret", "responder"), Credential("victor", b"v-secret", "viewer")], None)


def test_tokens_give_their_name_and_role_and_nothing_else_gets_in() -> None:
    alice = TABLE.authenticate("a-secret")
    assert alice is not None
    assert (alice.name, alice.role) == ("alice", "responder")
    assert alice.may("act")
    assert not alice.may("admin")
    victor = TABLE.authenticate("v-secret")
    assert victor is not None
    assert victor.may("read")
    assert not victor.may("act")
    assert TABLE.authenticate(None) is None
    assert TABLE.authenticate("a-secre") is None
    assert "a-secret" not in repr(Credential("alice", b"a-secret", "admin"))


def test_without_tokens_loopback_is_admin_and_any_other_listener_reads_only() -> None:
    assert anonymous_role(True, "127.0.0.1") is None
    assert anonymous_role(False, "127.0.0.1") == "admin"
    assert anonymous_role(False, "::1") == "admin"
    assert anonymous_role(False, "localhost") == "admin"
    assert anonymous_role(False, "0.0.0.0") == "viewer"
    open_table = TokenTable([], "viewer")
    anonymous = open_table.authenticate("whatever")
    assert anonymous is not None
    assert (anonymous.name, anonymous.role) == ("anonymous", "viewer")


@pytest.mark.parametrize(("header", "token"), [
    ("Bearer abc", "abc"), ("bearer  abc ", "abc"), ("Basic abc", None), ("Bearer ", None), (None, None)])
def test_bearer_token(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


def test_problem_bodies_follow_rfc_9457() -> None:
    body = problem("forbidden", "viewer may not act", "/api/v1/silences").body()
    assert body == {"type": "urn:aiops:problem:forbidden", "title": "Forbidden", "status": 403,
                    "detail": "viewer may not act", "instance": "/api/v1/silences"}
    with pytest.raises(ValidationError) as caught:
        ActionRequest.model_validate({"kind": "explode", "colour": "red"})
    invalid = validation_problem(caught.value.errors(), "/x").body()
    assert invalid["status"] == 422
    assert {error["field"] for error in invalid["errors"]} == {"kind", "colour"}


def test_an_action_request_becomes_the_contract_action() -> None:
    request = ActionRequest(kind="assign", owner="bob", comment="yours")
    action = build_action(request, action_id="a1", incident_id="inc-1", scope="checkout", actor="alice",
                          requested_at=NOW)
    assert (action.kind, action.owner, action.actor, action.origin, action.key) == (
        "assign", "bob", "alice", "api", b"checkout")
    with pytest.raises(ValidationError, match="assign needs owner or team"):
        build_action(ActionRequest(kind="assign"), action_id="a2", incident_id="inc-1", scope="s", actor="alice",
                     requested_at=NOW)


def test_a_silence_request_becomes_a_silence() -> None:
    request = SilenceRequest.model_validate({"matchers": ['service="checkout"', {"name": "name", "op": "=~",
                                                          "value": "Disk.*"}], "comment": "deploy",
                                             "duration_seconds": 3600})
    silence = build_silence(request, silence_id="s1", actor="alice", now=NOW)
    assert (silence.author, silence.starts_at, silence.ends_at) == ("alice", NOW, NOW + timedelta(hours=1))
    assert [str(m) for m in silence.matchers] == ['service="checkout"', 'name=~"Disk.*"']
    with pytest.raises(ValidationError, match="exactly one"):
        SilenceRequest.model_validate({"matchers": ["a=b"], "comment": "c"})
    past = SilenceRequest.model_validate({"matchers": ["a=b"], "comment": "c", "starts_at": "2019-01-01T00:00:00Z",
                                   "ends_at": "2020-01-01T00:00:00Z"})
    with pytest.raises(ValueError, match="already be over"):
        build_silence(past, silence_id="s2", actor="alice", now=NOW)
    view = SilenceView.of(silence, NOW, NOW + timedelta(hours=2))
    assert view.state == "expired"
    assert view.updated_at == NOW


@pytest.mark.parametrize(("is_regex", "is_equal", "op"), [
    (False, True, "="), (False, False, "!="), (True, True, "=~"), (True, False, "!~")])
def test_alertmanager_matchers_map_both_ways(is_regex: bool, is_equal: bool, op: str) -> None:
    matcher = to_matcher(AmMatcher(name="alertname", value="X", isRegex=is_regex, isEqual=is_equal))
    assert matcher.op == op
    assert am_matcher(matcher) == {"name": "alertname", "value": "X", "isRegex": is_regex, "isEqual": is_equal}


def test_postable_silence_in_gettable_silence_out() -> None:
    posted = PostableSilence.model_validate({
        "matchers": [{"name": "alertname", "value": "X", "isRegex": False}], "startsAt": "2026-12-07T11:00:00Z",
        "endsAt": "2026-12-07T13:00:00Z", "createdBy": "amtool-user", "comment": "c"})
    silence = silence_from_postable(posted, silence_id="s1", now=NOW)
    assert silence.starts_at == NOW, "a start in the past becomes now"
    got = gettable_silence(silence, NOW, NOW)
    assert got == {"id": "s1", "status": {"state": "active"}, "updatedAt": "2026-12-07T12:00:00Z",
                   "matchers": [{"name": "alertname", "value": "X", "isRegex": False, "isEqual": True}],
                   "startsAt": "2026-12-07T12:00:00Z", "endsAt": "2026-12-07T13:00:00Z",
                   "createdBy": "amtool-user", "comment": "c"}
    over = posted.model_copy(update={"endsAt": NOW - timedelta(minutes=1)})
    with pytest.raises(ValueError, match="past"):
        silence_from_postable(over, silence_id="s2", now=NOW)


def test_filters_match_like_alertmanager() -> None:
    silence = Silence(id="s", matchers=[Matcher.parse("alertname=X"), Matcher.parse('job=~"api.*"')],
                      starts_at=NOW, ends_at=NOW + timedelta(hours=1))
    assert matches_filter(silence, parse_filter(['alertname="X"']))
    assert matches_filter(silence, parse_filter(['{alertname="X", job="api.*"}']))
    assert not matches_filter(silence, parse_filter(["alertname=Y"]))
    assert not matches_filter(silence, parse_filter(["team=ops"]))
    assert matches_filter(silence, parse_filter(['team=""']))  # an empty value skips a label it lacks
    assert matches_filter(silence, parse_filter(['alertname!=""']))


async def test_memory_audit_sink_keeps_the_newest_entries() -> None:
    sink = MemoryAuditSink(limit=2)
    for number in range(3):
        await sink.record(AuditEntry(at=NOW, actor="alice", role="responder", remote="127.0.0.1", method="POST",
                                     path=f"/p{number}", status=202, outcome="accepted"))
    assert [entry.path for entry in sink.entries] == ["/p1", "/p2"]


def test_openapi_document_generates_the_body_schemas() -> None:
    document = openapi_document("1.0")
    assert document["openapi"] == "3.1.0"
    schemas = document["components"]["schemas"]
    assert {"ActionRequest", "ActionAccepted", "SilenceRequest", "SilenceView", "Problem"} <= set(schemas)
    assert schemas["ActionRequest"]["properties"]["kind"]["enum"][0] == "acknowledge"
    post = document["paths"]["/api/v1/incidents/{id}/actions"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/ActionRequest")
    assert set(post["responses"]) == {"202", "400", "401", "403", "404", "409", "415", "422", "503"}
    page = docs_page(document)
    assert "/api/v1/silences/{id}" in page
    assert "<script" not in page
    assert "http" not in page.split("<body>")[0]


def test_api_tokens_are_checked_secrets() -> None:
    config = AiopsConfig.model_validate({"api": {"tokens": {"bot": {"token": "${ENV:BOT_TOKEN}", "role": "viewer"}}}})
    references = {reference.where: reference.value for reference in secret_references(config)}
    assert references["api.tokens.bot.token"] == "${ENV:BOT_TOKEN}"
