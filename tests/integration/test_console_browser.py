"""The on-call console in a real headless Chromium (Debian chromium + chromium-driver) against `aiops run`.

A responder signs in with an API token, opens the incident list, and an alert produced afterwards shows up
as a new row without a reload; keyboard navigation opens it; the incident page shows the root cause, the
service graph and the timeline; "Acknowledge" produces the next version as acknowledged (the page follows
it live, the API agrees). A viewer sees no action form and a forged post is refused 403. Every form field
is labelled, text contrast is at least 4.5:1, each step saves a screenshot (``tmp_path``) and the browser
logs no error.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from support.operator_api import TOKENS
from support.webdriver import CHROMEDRIVER, Browser, chromium_session
from support.worker import WorkerProcess, event, isolated_config, produce

from aiops.runtime.broker import free_loopback_port
from aiops.runtime.topics import TopicSpec, ensure_topics

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.browser,
              pytest.mark.skipif(CHROMEDRIVER is None, reason="chromedriver is not installed (Debian: apt-get "
                                 "install chromium chromium-driver; .ci/run installs them)")]

BEARER = {"Authorization": f"Bearer {TOKENS['alice'][0]}"}
LITERAL_TOKENS = {name: {"token": secret, "role": role} for name, (secret, role) in TOKENS.items()}
UNLABELLED = """
return Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))
  .filter(f => !f.closest('label') && !(f.id && document.querySelector('label[for="' + f.id + '"]'))
               && !f.getAttribute('aria-label')).map(f => f.outerHTML);
"""
LOW_CONTRAST = """
function rgb(s) { const m = s.match(/[\\d.]+/g).map(Number); return m.length > 3 && m[3] === 0 ? null : m; }
function lum(c) { const v = c.slice(0, 3).map(x => { x /= 255;
  return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; });
  return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; }
function background(el) { for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor);
  if (c) return c; } return [255, 255, 255]; }
const bad = [];
for (const el of document.querySelectorAll('body *:not(script):not(style)')) {
  const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
  if (!own || el.closest('svg') || !el.getClientRects().length) continue;
  const s = getComputedStyle(el); if (s.visibility === 'hidden') continue;
  const a = lum(rgb(s.color)), b = lum(background(el));
  const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  if (ratio < 4.5) bad.push(el.tagName + ' ' + el.className + ': ' + ratio.toFixed(2));
}
return bad;
"""


def alert(ts: float, service: str) -> bytes:
    return event(kind="alert", ts=ts, source="prometheus", service=service, host=f"{service}-1",
                 name="HighErrorRate", severity="critical", status="firing", fingerprint=f"HighErrorRate-{service}")


async def sign_in(browser: Browser, url: str, name: str) -> None:
    await browser.open(url + "/login")
    await browser.type("#token", TOKENS[name][0])
    await browser.click("form[action='/login'] button")
    await browser.wait_for("return location.pathname === '/' && document.body.dataset.page === 'list';",
                           what="the list after sign-in")


async def check_page(browser: Browser, shots: Path, name: str) -> None:
    await browser.screenshot(shots / f"{name}.png")
    assert await browser.run(UNLABELLED) == [], name
    assert await browser.run(LOW_CONTRAST) == [], name
    assert await browser.console_errors() == [], name


async def test_a_responder_sees_an_incident_arrive_live_and_acknowledges_it(
        kafka_bootstrap: str, unique_topic_prefix: str, tmp_path: Path) -> None:
    port = free_loopback_port()
    config = isolated_config(unique_topic_prefix, kafka_bootstrap, {
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
        async with chromium_session() as browser:
            for _ in range(300):
                try:
                    await browser.open(url + "/login")
                    if await browser.run("return !!document.querySelector('#token');"):
                        break
                except AssertionError:
                    pass
            async with aiohttp.ClientSession() as http:
                for _ in range(300):  # the store opens once the projector started
                    async with http.get(f"{url}/api/v1/incidents", headers=BEARER) as response:
                        if response.status == 200:
                            break
                    await asyncio.sleep(0.2)
            await check_page(browser, tmp_path, "login")
            await sign_in(browser, url, "alice")
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
            await browser.keys("\ue007")  # Enter
            await browser.wait_for("return document.body.dataset.page === 'incident';", what="the incident page")
            assert "api" in await browser.run(
                "return document.querySelector('section[aria-labelledby=root-cause] svg title').textContent;")
            assert await browser.find_all("svg.graph .node.root")
            assert await browser.find_all("ol.timeline li")
            await check_page(browser, tmp_path, "incident")

            await browser.click("button[data-action=acknowledge]")
            await browser.wait_for("return document.getElementById('acknowledged-by')?.textContent === 'alice';",
                                   60, "the acknowledged version on the page")
            await check_page(browser, tmp_path, "acknowledged")
            async with aiohttp.ClientSession() as http, http.get(
                    f"{url}/api/v1/incidents/{row}", headers=BEARER) as r:
                detail = await r.json()
            assert detail["incident"]["acknowledged_by"] == "alice"
            assert detail["timeline"][-1]["change"]["action"] == "acknowledge"

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
    finally:
        worker.stop()
