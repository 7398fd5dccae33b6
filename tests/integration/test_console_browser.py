"""The on-call console in a real headless Chromium (Debian chromium + chromium-driver, Selenium) on `aiops run`.

A responder signs in with an API token, opens the incident list, and an alert produced afterwards shows up
as a new row without a reload; keyboard navigation opens it; the incident page shows the root cause, the
service graph and the timeline; "Acknowledge" produces the next version as acknowledged (the page follows
it live, the API agrees). A viewer sees no action form and a forged post is refused 403. Every form field
is labelled, text contrast is at least 4.5:1, each step saves a screenshot (``tmp_path``) and the browser
logs no error.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from selenium.webdriver import Keys
from support.chromium import MISSING, Browser, chromium_session
from support.console_checks import check_page, tab_to
from support.operator_api import TOKENS
from support.worker import WorkerProcess, collect, event, isolated_config, produce

from aiops.runtime.broker import free_loopback_port
from aiops.runtime.topics import TopicSpec, ensure_topics

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.browser,
              pytest.mark.skipif(MISSING is not None, reason=MISSING or "")]

BEARER = {"Authorization": f"Bearer {TOKENS['alice'][0]}"}
LITERAL_TOKENS = {name: {"token": secret, "role": role} for name, (secret, role) in TOKENS.items()}


def alert(ts: float, service: str) -> bytes:
    return event(kind="alert", ts=ts, source="prometheus", service=service, host=f"{service}-1",
                 name="HighErrorRate", severity="critical", status="firing", fingerprint=f"HighErrorRate-{service}")


async def sign_in(browser: Browser, url: str, name: str) -> None:
    await browser.open(url + "/login")
    await browser.type("#token", TOKENS[name][0])
    await browser.click("form[action='/login'] button")
    await browser.wait_for("return location.pathname === '/' && document.body.dataset.page === 'list';",
                           what="the list after sign-in")


@asynccontextmanager
async def console_service(kafka_bootstrap: str, prefix: str, tmp_path: Path) -> AsyncIterator[tuple[str, Any]]:
    """`aiops run` with tokens and a store, its console reachable and its store open: (url, topics)."""
    port = free_loopback_port()
    config = isolated_config(prefix, kafka_bootstrap, {
        "http": {"port": port}, "api": {"tokens": LITERAL_TOKENS, "stream_heartbeat_seconds": 1},
        "services": {"api": {"owner": "web-team", "depends_on": ["db"]}, "db": {"owner": "dba"}},
        "store": {"url": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}", "batch_timeout_ms": 50}})
    topics = config["topics"]
    await ensure_topics(kafka_bootstrap, [TopicSpec(topics["events"], topics["events_partitions"]),
                                          TopicSpec(topics["deadletter"], 1)])
    url = f"http://127.0.0.1:{port}"
    worker = WorkerProcess(config, tmp_path)
    worker.start()
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(600):  # the listener, then the store once the projector started
                try:
                    async with http.get(f"{url}/api/v1/incidents", headers=BEARER) as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
        yield url, topics
    finally:
        worker.stop()


async def test_a_responder_sees_an_incident_arrive_live_and_acknowledges_it(
        kafka_bootstrap: str, unique_topic_prefix: str, tmp_path: Path) -> None:
    async with console_service(kafka_bootstrap, unique_topic_prefix, tmp_path) as (url, topics), \
            chromium_session() as browser:
        await browser.open(url + "/login")
        await check_page(browser, tmp_path, "login")
        await sign_in(browser, url, "alice")
        await browser.open(url + "/?q=API-1")  # a host: the event does not carry it, the service's rule decides
        await browser.run("window.notReloaded = true;")
        await browser.wait_for("return document.getElementById('live').textContent.startsWith('Live');",
                               what="the stream connected")
        await produce(kafka_bootstrap, topics["events"], [alert(1_760_000_000.0, "api")], key=b"api")
        row: Any = await browser.wait_for(
            "const r = document.querySelector('#rows tr.new'); return r && r.dataset.id;", 90, "a new row")
        assert await browser.run("return window.notReloaded === true;"), "the list reloaded"
        assert await browser.run("""
            const total = Array.from(document.querySelectorAll('[data-count]')).reduce(
                (sum, b) => sum + Number(b.textContent), 0);
            return total === document.querySelectorAll('#rows tr').length && total > 0;""")
        await check_page(browser, tmp_path, "list-live")

        await browser.run("document.activeElement.blur();")
        await browser.keys("j")
        assert await browser.run("return document.activeElement.dataset.id;") == row
        await browser.keys(Keys.ENTER)
        await browser.wait_for("return document.body.dataset.page === 'incident';", what="the incident page")
        assert "api" in await browser.run(
            "return document.querySelector('section[aria-labelledby=root-cause] svg title').textContent;")
        assert await browser.find_all("svg.graph .node.root")
        assert await browser.find_all("ol.timeline li")
        await check_page(browser, tmp_path, "incident")

        await tab_to(browser, "button[data-action=acknowledge]")  # every action by keyboard: this one, pressed
        await browser.keys(Keys.ENTER)
        await browser.wait_for("return document.getElementById('acknowledged-by')?.textContent === 'alice';",
                               60, "the acknowledged version on the page")
        await check_page(browser, tmp_path, "acknowledged")
        async with aiohttp.ClientSession() as http, http.get(
                f"{url}/api/v1/incidents/{row}", headers=BEARER) as r:
            detail = await r.json()
        assert detail["incident"]["acknowledged_by"] == "alice"
        assert detail["timeline"][-1]["change"]["action"] == "acknowledge"
        on_topic = await collect(kafka_bootstrap, topics["incidents"], lambda records: any(
            r["id"] == row and r.get("acknowledged_by") == "alice" for r in records), 30)
        acknowledged = [r for r in on_topic if r["id"] == row and r.get("acknowledged_by") == "alice"]
        assert acknowledged[0]["version"] == detail["timeline"][-1]["version"]  # that version, on the topic

        await browser.open(f"{url}/routing?incident={row}")
        assert await browser.text("#reach") == f"Which receivers {row} would reach now, and why"
        assert await browser.find_all("ul.tree li[data-route=root]")
        await check_page(browser, tmp_path, "routing")
        await browser.open(f"{url}/pipeline")
        read = await browser.run("""return Array.from(document.querySelectorAll('table.metrics tr'))
            .map(r => r.textContent).filter(t => t.startsWith(arguments[0]));""", topics["events"])
        assert read, "the events topic's throughput row"
        await check_page(browser, tmp_path, "pipeline")

        await browser.click("form[action='/logout'] button")
        await sign_in(browser, url, "victor")
        await browser.open(f"{url}/incidents/{row}")
        assert await browser.find_all("button[data-action]") == []
        await check_page(browser, tmp_path, "viewer")
        # the refused request is logged by the browser as an error: checked after the last check_page
        status = await browser.run("""
            const body = new URLSearchParams({kind: 'resolve', csrf: 'forged'});
            return fetch(location.pathname + '/actions', {method: 'POST', body}).then(r => r.status);""")
        assert status == 403


async def test_a_silence_created_from_a_member_mutes_the_next_matching_member(
        kafka_bootstrap: str, unique_topic_prefix: str, tmp_path: Path) -> None:
    async with console_service(kafka_bootstrap, unique_topic_prefix, tmp_path) as (url, topics), \
            chromium_session() as browser:
        await sign_in(browser, url, "alice")
        now = time.time()  # silences hold by event time: the alerts are of now, as the silence is
        await produce(kafka_bootstrap, topics["events"], [alert(now, "api")], key=b"api")
        row: Any = await browser.wait_for(
            "const r = document.querySelector('#rows tr'); return r && r.dataset.id;", 90, "the incident")
        await browser.open(f"{url}/incidents/{row}")
        version_before = int(await browser.run("return document.body.dataset.version;"))
        await browser.click("li.member a.button")  # "Silence like this…"
        await browser.wait_for("return location.pathname === '/silences';", what="the silences page")
        assert await browser.run("return document.getElementById('matchers').value;") == \
            "name=HighErrorRate\nservice=api\nhost=api-1"
        await browser.click("button[formaction='/silences/preview']")
        preview = await browser.wait_for("return document.getElementById('preview')?.textContent;",
                                         what="the preview")
        assert preview == "Would mute now: 1 firing members"
        assert await browser.run(f"return !!document.querySelector('#preview ~ ul a[href=\"/incidents/{row}\"]');")
        await check_page(browser, tmp_path, "silence-preview")
        await browser.click("form.silence-form button:not([formaction])")  # Create silence
        silence: Any = await browser.wait_for(
            "const r = document.querySelector('tr[data-silence]'); return r && r.dataset.silence;", 30,
            "the silence listed")
        assert await browser.run("return document.querySelector('tr[data-silence] td:nth-child(2)').textContent;") \
            == "active"
        await check_page(browser, tmp_path, "silence-created")

        # the next member matching it (same alert name, service and host; another fingerprint) is muted
        await asyncio.sleep(2.0)  # the correlation worker reads the silences topic
        again = event(kind="alert", ts=time.time(), source="prometheus", service="api", host="api-1",
                      name="HighErrorRate", severity="critical", status="firing", fingerprint="HighErrorRate-api-2")
        await produce(kafka_bootstrap, topics["events"], [again], key=b"api")

        async def muted() -> dict[str, Any] | None:
            """The incident once the new member joined it and the silence holds it (no version goes out)."""
            async with aiohttp.ClientSession() as http, http.get(
                    f"{url}/api/v1/incidents/{row}", headers=BEARER) as r:
                found: dict[str, Any] = await r.json()
            kinds = {(d["kind"], d["member"].endswith("HighErrorRate-api-2"), d["ref"]) for d in found["decisions"]}
            return found if {("joined", True, ""), ("suppressed", False, silence)} <= kinds else None

        detail = None
        for _ in range(150):
            detail = await muted()
            if detail is not None:
                break
            await asyncio.sleep(0.2)
        assert detail is not None, "the new member joined and the silence holds the incident"
        (held,) = [d for d in detail["decisions"] if d["kind"] == "suppressed"]
        assert held["rule"] == "silence"
        assert "silenced by alice" in held["reason"]
        # muted: the version with the new member is held back (not published, so not notified)
        assert [m["fingerprint"] for m in detail["incident"]["members"]] == ["prometheus:HighErrorRate-api"]
        assert detail["incident"]["version"] == version_before
        await browser.open(f"{url}/incidents/{row}")
        assert "rule silence; silenced by alice" in await browser.run(
            "return document.querySelector('ol.timeline').textContent;")
        await check_page(browser, tmp_path, "silenced-incident")

        await browser.open(f"{url}/silences")
        await tab_to(browser, f"tr[data-silence='{silence}'] button")  # Expire, by keyboard
        await browser.keys(Keys.ENTER)
        await browser.wait_for(f"""const r = document.querySelector("tr[data-silence='{silence}']");
            return r && r.cells[1].textContent === 'expired' && !r.querySelector('button');""", 30,
                               "the silence listed as expired, without its button")
        assert "expired." in await browser.text("p.flash")
        await check_page(browser, tmp_path, "silence-expired")
