"""The console list's store reads: pages of the store up to 1,000 rows, the next page's cursor, a store that
fails after the first read (the rows read so far, a notice, and the next link continuing after them), and the
live search's answer for one version (the store's rule; not stored yet; a bad version)."""

from __future__ import annotations

from types import SimpleNamespace

import orjson
import pytest
from aiohttp.test_utils import make_mocked_request
from support.store_samples import incident

from aiops.console.markup import Viewer
from aiops.errors import StoreUnavailableError
from aiops.incidents import Incident
from aiops.operator.auth import Principal
from aiops.runtime.api_auth import ApiProblem
from aiops.runtime.console_http import ConsoleRoutes
from aiops.store.models import IncidentFilter, IncidentPage, summary_of

ROW = summary_of(incident(1))


class VersionStore:
    """Versions 1 and 2 of inc-1 (hosts host-1, then also host-2); nothing else is stored."""

    async def get_version(self, incident_id: str, version: int) -> Incident | None:
        if incident_id != "inc-1" or version not in (1, 2):
            return None
        first = incident(1)
        second: Incident = first.model_copy(update={"version": 2, "hosts": ["host-1", "host-2"]})
        return first if version == 1 else second


class PagedStore:
    """`pages` rows per call of at most `limit`; fails on call number `fail_at` (1-based)."""

    def __init__(self, pages: int, fail_at: int | None = None) -> None:
        self.pages, self.fail_at = pages, fail_at
        self.calls: list[tuple[str | None, int]] = []

    async def list_incidents(self, filters: IncidentFilter, *, cursor: str | None, limit: int) -> IncidentPage:
        self.calls.append((cursor, limit))
        if len(self.calls) == self.fail_at:
            raise StoreUnavailableError("the database went away")
        more = len(self.calls) < self.pages
        return IncidentPage(items=[ROW] * limit, next_cursor=f"c{len(self.calls)}" if more else None)


def _routes(store: PagedStore | VersionStore) -> ConsoleRoutes:
    routes = ConsoleRoutes.__new__(ConsoleRoutes)  # only the store reads: no API, no broker
    routes.api = SimpleNamespace(incident_routes=SimpleNamespace(store=store),  # type: ignore[assignment]
                                 settings=SimpleNamespace(retry_after_seconds=1.0))
    return routes


async def test_a_page_holds_1000_rows_and_the_cursor_of_the_next() -> None:
    store = PagedStore(pages=5)
    rows, cursor, notice = await _routes(store)._page_of_rows(make_mocked_request("GET", "/"), IncidentFilter(),
                                                              "c0")
    assert (len(rows), cursor, notice) == (1000, "c2", "")
    assert store.calls == [("c0", 500), ("c1", 500)]  # the page's own cursor first, then the store's


async def test_a_store_failing_after_the_first_read_shows_what_was_read_and_continues_from_there() -> None:
    rows, cursor, notice = await _routes(PagedStore(pages=5, fail_at=2))._page_of_rows(
        make_mocked_request("GET", "/"), IncidentFilter(), None)
    assert (len(rows), cursor) == (500, "c1")
    assert notice.startswith("The store did not answer for more rows")
    assert "500 shown; the next page continues after them" in notice


async def test_a_store_failing_at_once_is_the_503_page() -> None:
    with pytest.raises(ApiProblem) as refused:
        await _routes(PagedStore(pages=5, fail_at=1))._page_of_rows(make_mocked_request("GET", "/"),
                                                                   IncidentFilter(), None)
    assert refused.value.problem.status == 503


async def _match(path: str) -> dict[str, bool]:
    request = make_mocked_request("GET", path, match_info={"id": "inc-1"})
    answer = await _routes(VersionStore())._match(request, Principal("alice", "responder"),
                                                  Viewer("alice", True, "x"))
    found: dict[str, bool] = orjson.loads(answer.body)  # type: ignore[attr-defined]
    return found


async def test_the_live_search_is_answered_for_the_events_version_by_the_stores_rule() -> None:
    assert await _match("/console/match/inc-1?version=2&q=HOST-2") == {"stored": True, "matches": True}
    assert await _match("/console/match/inc-1?version=1&q=HOST-2") == {"stored": True, "matches": False}
    assert await _match("/console/match/inc-1?version=3&q=host") == {"stored": False, "matches": False}
    with pytest.raises(ApiProblem) as refused:
        await _match("/console/match/inc-1?version=x&q=host")
    assert refused.value.problem.status == 400
