"""The console's pure parts: escaping, the anomaly chart, factor bars, the service graph, the list and incident
pages for a responder and a viewer, session cookies, CSRF tokens, forms and the silence preview."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from support.store_samples import BASE, incident

from aiops.console.charts import anomaly_chart, factor_bars
from aiops.console.forms import FormError, action_request, silence_request
from aiops.console.graph import service_graph
from aiops.console.incident_list import ListQuery, incident_row, list_page, sort_rows
from aiops.console.incident_page import incident_page, silence_link
from aiops.console.markup import Viewer, esc, tag
from aiops.console.pages import muted_now
from aiops.console.session import SessionSigner
from aiops.correlation.suppression.matchers import parse_matchers
from aiops.incidents import Member, RootCauseCandidate
from aiops.operator.auth import Principal
from aiops.signals import Evidence, SampleWindow
from aiops.store.models import IncidentDetail, summary_of

RESPONDER = Viewer("alice", may_act=True, csrf="tok", signed_in=True)
VIEWER = Viewer("victor", may_act=False, csrf="tok", signed_in=True)


def _evidence(window: SampleWindow | None) -> Evidence:
    return Evidence(detector="ensemble", score=0.99999, threshold=0.9999, observed=40.0, expected=5.0, lower=3.0,
                    upper=7.0, onset=BASE + timedelta(seconds=40), window=window)


def _window() -> SampleWindow:
    return SampleWindow(start=BASE, seconds=[0.0, 10.0, 20.0, 30.0, 40.0, 50.0],
                        observed=[5.0, 5.2, 4.9, 5.1, 40.0, 38.0], expected=[5.0, 5.0, 5.0, 5.0, 5.1, None],
                        lower=[3.0, 3.0, 3.0, 3.0, 3.1, None], upper=[7.0, 7.0, 7.0, 7.0, 7.1, None])


def test_values_are_escaped_and_markup_is_not_escaped_twice() -> None:
    assert esc("<script>") == "&lt;script&gt;"
    assert tag("p", "<b>", tag("i", "x"), title='"q"') == '<p title="&quot;q&quot;">&lt;b&gt;<i>x</i></p>'


def test_the_anomaly_chart_draws_the_band_expected_observed_and_onset() -> None:
    chart = anomaly_chart("latency", _evidence(_window()))
    assert chart.count("<polygon") == 1  # one run of samples with a band (the last has none)
    assert chart.count('<circle') == 6
    assert 'class="onset"' in chart
    assert 'role="img"' in chart
    assert "peak 40.0 vs expected 5.0" in chart
    polygon = re.search(r'points="([^"]+)"', chart)
    assert polygon is not None
    assert len(polygon.group(1).split()) == 10
    assert "<table>" in chart  # the samples as text


def test_a_member_without_a_window_says_so() -> None:
    assert "No samples" in anomaly_chart("latency", _evidence(None))


def test_factor_bars_split_each_score_into_its_shares() -> None:
    bars = factor_bars([RootCauseCandidate(service="db", score=0.8, factors={"graph": 0.5, "onset": 0.25,
                                                                             "strength": 0.25}),
                        RootCauseCandidate(service="api", host="api-1", score=0.4, factors={"graph": 1.0})])
    widths = [float(w) for w in re.findall(r'<rect[^>]* width="([0-9.]+)"', bars)]
    assert widths == pytest.approx([136.0, 68.0, 68.0, 136.0])  # 340 px * score * share
    assert "api/api-1" in bars
    assert "graph 50%" in bars


def test_the_service_graph_marks_the_root_cause_and_the_affected() -> None:
    depends_on = {"frontend": ["checkout"], "checkout": ["payments"], "payments": ["postgres"], "postgres": [],
                  "search": []}
    graph = service_graph(depends_on, {"checkout", "payments", "postgres"}, "postgres")
    assert re.findall(r'data-service="([^"]+)"', graph) == ["checkout", "payments", "postgres", "frontend"]
    assert graph.count('class="node root"') == 1
    assert graph.count('class="node affected"') == 2
    assert graph.count('class="edge"') == 3
    assert "search" not in graph  # not within a hop of an affected service


def _with_root(n: int, **changes: object) -> object:
    return incident(n).model_copy(update={"root_cause": [RootCauseCandidate(service="checkout", score=0.9)],
                                          **changes})


def test_the_list_shows_rows_counts_and_the_filters_applied() -> None:
    rows = [summary_of(incident(1, priority="P1")), summary_of(incident(2, priority="P3")),
            summary_of(_with_root(3, acknowledged_by="alice"))]  # type: ignore[arg-type]
    query = ListQuery.parse({"status": "open", "priority": "P1", "q": " latency ", "sort": "priority"})
    assert query.filters.status == ("open",)
    assert query.filters.priority == ("P1",)
    assert query.filters.text == "latency"
    page = list_page(rows, query, RESPONDER, next_cursor=None, now=BASE)
    assert page.count("<tr data-id=") == 3
    assert re.search(r'data-count="P1">1<', page)
    assert re.search(r'data-count="P2">1<', page)
    assert "alice" in page
    assert ">checkout<" in page
    assert '<option value="P1" selected>' in page
    assert [r.id for r in sort_rows(rows, "priority")] == ["inc-1", "inc-3", "inc-2"]


def test_a_list_row_escapes_every_value_it_shows() -> None:
    base = summary_of(incident(1, priority="P2"))
    row = incident_row(base.model_copy(update={"title": '<b x="1">&', "team": "t\"'", "acknowledged_by": "<a>",
                                               "services": ["a<b", "c"], "root_cause": None}))
    assert '&lt;b x=&quot;1&quot;&gt;&amp;' in row
    assert "<b " not in row
    assert 'data-team="t&quot;&#x27;"' in row
    assert 'data-services="a&lt;b|c"' in row
    assert "<td>a&lt;b, c</td><td>-</td>" in row
    assert "<td>&lt;a&gt;</td></tr>" in row
    assert row.count("<td") == 7
    assert 'data-priority="P2"' in row


def test_the_list_pages_on_by_the_stores_cursor_keeping_the_filters() -> None:
    rows = [summary_of(incident(n)) for n in range(1, 4)]
    query = ListQuery.parse({"status": "all", "priority": "P2", "q": "a&b", "sort": "priority"})
    first = list_page(rows, query, RESPONDER, next_cursor="CUR/1=", now=BASE)
    assert first.count('href="/?status=all&amp;priority=P2&amp;q=a%26b&amp;sort=priority&amp;after=CUR%2F1%3D" '
                       'rel="next"') == 2  # above and below the table
    assert "← Newest" not in first
    assert "3 incidents (the newest; more on the next page)" in first
    older = ListQuery.parse({"status": "all", "priority": "P2", "q": "a&b", "sort": "priority", "after": "CUR/1="})
    assert older.after == "CUR/1="
    last = list_page(rows, older, RESPONDER, next_cursor=None, now=BASE,
                     notice="The store did not answer for more rows")
    assert 'href="/?status=all&amp;priority=P2&amp;q=a%26b&amp;sort=priority" rel="first"' in last
    assert 'rel="next"' not in last
    assert "3 incidents (an older page)" in last
    assert '<p role="alert" class="flash">The store did not answer for more rows</p>' in last
    assert '&quot;older&quot;:true' in last  # the script does not insert new incidents on an older page
    assert ListQuery.parse({}).params("X") == "after=X"  # the default view stays implicit


def test_an_unknown_filter_value_is_ignored() -> None:
    query = ListQuery.parse({"status": "bogus", "priority": "P9", "sort": "nope"})
    assert (query.filters.status, query.filters.priority, query.sort) == ((), (), "last_seen")


def _detail() -> IncidentDetail:
    member = Member(fingerprint="fp-1", origin="metric_anomaly", name="latency_p99_ms", service="checkout",
                    host="checkout-1", status="firing", severity="high", first_seen=BASE, last_seen=BASE,
                    evidence=_evidence(_window()), joined_because="topology")
    base = _with_root(1)
    return IncidentDetail(incident=base.model_copy(update={"members": [member]}),  # type: ignore[attr-defined]
                          timeline=[], decisions=[], notifications=[])


def test_a_responder_gets_the_forms_a_viewer_does_not() -> None:
    detail = _detail()
    mine = incident_page(detail, RESPONDER, depends_on={"checkout": ["payments"]}, cut=False)
    assert 'data-action="acknowledge"' in mine
    assert 'data-action="split"' in mine
    assert mine.count('name="csrf" value="tok"') >= 6
    assert "Silence like this" in mine
    assert "<polygon" in mine
    assert 'class="node root"' in mine
    theirs = incident_page(detail, VIEWER, depends_on={"checkout": ["payments"]}, cut=False)
    assert "data-action=" not in theirs
    assert "<form" not in theirs.split("<main")[1]
    assert "acting on it needs a responder token" in theirs
    assert f'href="/routing?incident={detail.incident.id}">Who it reaches, and why</a>' in theirs


def test_the_silence_link_prefills_the_members_matchers() -> None:
    member = _detail().incident.members[0]
    assert silence_link(member).startswith("/silences?matchers=name%3Dlatency_p99_ms%0Aservice%3Dcheckout%0Ahost")


def test_sessions_verify_expire_and_refuse_tampering() -> None:
    signer = SessionSigner(b"k" * 32, max_age_seconds=60)
    cookie = signer.issue(Principal("alice", "responder"), now=1000.0)
    assert signer.verify(cookie, 1030.0) == Principal("alice", "responder")
    assert signer.verify(cookie, 1061.0) is None
    payload, mac = cookie.split(".")
    assert signer.verify(payload[:-2] + "xx." + mac, 1030.0) is None
    assert SessionSigner(b"j" * 32).verify(cookie, 1030.0) is None
    assert signer.csrf_ok(cookie, signer.csrf_token(cookie))
    assert not signer.csrf_ok(cookie, signer.csrf_token(None))
    assert not signer.csrf_ok(cookie, None)


def test_forms_become_requests_or_one_clear_error() -> None:
    snooze = action_request({"kind": "snooze", "minutes": "30", "comment": " "}, BASE)
    assert snooze.until == BASE + timedelta(minutes=30)
    assert snooze.comment == ""
    assert action_request({"kind": "acknowledge", "owner": ""}, BASE).owner is None
    with pytest.raises(FormError, match="minutes"):
        action_request({"kind": "snooze", "minutes": "soon"}, BASE)
    with pytest.raises(FormError, match="kind"):
        action_request({"kind": "explode"}, BASE)
    silence = silence_request({"matchers": "service=checkout\n\nname=~Disk.*", "comment": "db work", "hours": "1.5"})
    assert [str(m) for m in silence.matchers] == ['service="checkout"', 'name=~"Disk.*"']
    assert silence.duration_seconds == 5400
    with pytest.raises(FormError):
        silence_request({"matchers": "", "comment": "x"})


def test_the_preview_lists_the_firing_members_the_matchers_mute() -> None:
    one, two = incident(1, services=("checkout",)), incident(2, services=("search",))
    muted = muted_now(parse_matchers(["service=checkout"]), [one, two])
    assert [(i.id, m.service) for i, m in muted] == [("inc-1", "checkout")]
