"""The console during the demo scenario, in a real headless Chromium (Debian chromium + chromium-driver, Selenium).

Runs `aiops demo` (the real CLI: embedded broker, the built-in cascade; `resolve_quiet_seconds` raised so the
cascade stays open after the feed) and opens the console URL it prints before the cascade exists: the
cascade (P1, root cause postgres) appears in the list marked new and updates, marked changed, without a
reload (the rows the script puts in, recorded by a MutationObserver). Its page shows postgres first in the
ranking, a chart per metric member with the expected band (a polygon), the expected and observed series
and the onset, the service graph with postgres marked and the timeline. "Acknowledge", reached with Tab and
pressed with Enter, gives the next version acknowledged on the page and on the incidents topic. Each step
saves a screenshot (``tmp_path``); labels, contrast, keyboard reach and the browser's log are checked.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver import Keys
from support.chromium import MISSING, Browser, chromium_session
from support.console_checks import check_page, tab_to
from support.demo_run import running_demo
from support.worker import collect

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.browser,
              pytest.mark.skipif(MISSING is not None, reason=MISSING or "")]

WATCH_ROWS = """
window.rowLog = [];
new MutationObserver(changes => changes.forEach(change => change.addedNodes.forEach(row => {
  if (row.dataset) window.rowLog.push({id: row.dataset.id, version: Number(row.dataset.version),
    priority: row.dataset.priority, root: row.cells[3].textContent, status: row.dataset.status,
    marked: row.className});
}))).observe(document.getElementById('rows'), {childList: true});
window.notReloaded = true;
"""
CASCADE_LOG = """
const log = window.rowLog.filter(r => r.priority === 'P1' && r.root.startsWith('postgres'));
return log.length >= 3 ? log : null;
"""
CHARTS = """
if (document.body.dataset.page !== 'incident') return null;
return Array.from(document.querySelectorAll('li.member svg.chart')).map(svg => ({
  band: svg.querySelectorAll('polygon.band').length,
  observed: (svg.querySelector('path.observed')?.getAttribute('d') || '').split('L').length,
  expected: (svg.querySelector('path.expected')?.getAttribute('d') || '').split('L').length,
  points: svg.querySelectorAll('circle.point').length,
  onset: svg.querySelectorAll('.onset').length,
  label: svg.getAttribute('aria-label') || svg.querySelector('title')?.textContent || ''}));
"""


async def settled(browser: Browser, script: str, what: str) -> Any:
    """`script`'s truthy value on the incident page, which reloads itself when a newer version is stored."""
    for _ in range(5):
        try:
            return await browser.wait_for(script, 30, what)
        except WebDriverException:
            continue  # timed out, or a reload under the script: ask again
    raise AssertionError(f"never saw {what}")


async def test_the_demo_cascade_arrives_live_its_page_charts_each_metric_anomaly_and_is_acknowledged(
        tmp_path: Path) -> None:
    config = tmp_path / "demo.yaml"  # the cascade stays open once the scenario is fed (else it closes in seconds)
    config.write_text("correlation:\n  resolve_quiet_seconds: 3600\n")
    with running_demo(tmp_path, config=config) as demo:
        console = demo.ready()
        async with chromium_session() as browser:
            await browser.open(console + "/")
            await browser.wait_for("return document.getElementById('live').textContent.startsWith('Live');",
                                   what="the stream connected")
            assert await browser.run("return document.querySelectorAll('#rows tr').length;") == 0
            await browser.run(WATCH_ROWS)
            log: Any = await browser.wait_for(CASCADE_LOG, 120, "the cascade, live, and two updates")
            assert await browser.run("return window.notReloaded === true;"), "the list reloaded"
            assert len({row["id"] for row in log}) == 1
            versions = [row["version"] for row in log]
            assert versions == sorted(versions), versions  # appeared, then updated
            assert "new" in log[0]["marked"]
            assert all("changed" in row["marked"] for row in log[1:])
            cascade = log[0]["id"]
            await check_page(browser, tmp_path, "demo-list")

            demo.output.line_with("demo: scenario fully fed", 120)
            await asyncio.sleep(3.0)  # its last versions
            await browser.click(f"tr[data-id='{cascade}'] a.open")
            charts = await settled(browser, CHARTS, "the incident page")
            assert charts, "no metric chart on the cascade's page"
            for chart in charts:
                assert chart["band"] >= 1, chart
                assert chart["observed"] >= 5, chart
                assert chart["expected"] >= 5, chart
                assert chart["points"] >= 5, chart
            assert any(chart["onset"] for chart in charts)
            top = await settled(browser, "return document.querySelector("
                                "'section[aria-labelledby=root-cause] svg title')?.textContent;", "the ranking")
            assert "postgres" in top
            assert await settled(browser, "return document.querySelector('svg.graph .node.root')"
                                          "?.parentNode.dataset.service;", "the graph") == "postgres"
            assert await settled(browser, "return document.querySelectorAll('ol.timeline li').length;",
                                 "the timeline")
            await settled(browser, "return document.readyState === 'complete';", "the page loaded")
            await check_page(browser, tmp_path, "demo-incident")

            await tab_to(browser, "button[data-action=acknowledge]")
            await browser.keys(Keys.ENTER)
            await settled(browser, "return document.getElementById('acknowledged-by')?.textContent === 'anonymous';",
                          "the acknowledged version on the page")
            await check_page(browser, tmp_path, "demo-acknowledged")
            shown = int(await browser.run("return document.body.dataset.version;"))
        on_topic = await collect(demo.bootstrap, demo.incidents_topic, lambda records: any(
            r["id"] == cascade and r.get("acknowledged_by") == "anonymous" for r in records), 30)
        acknowledged = [r for r in on_topic if r["id"] == cascade and r.get("acknowledged_by")]
        assert acknowledged, "no acknowledged version of the cascade on the incidents topic"
        assert acknowledged[0]["version"] <= shown
        assert max(r["version"] for r in on_topic if r["id"] == cascade and not r.get("acknowledged_by")) \
            == acknowledged[0]["version"] - 1  # the next version after the last one before it
