"""The console during the demo scenario, in a real headless Chromium (Debian chromium + chromium-driver).

Runs `aiops demo` (the real CLI: embedded broker, the built-in cascade) and opens the console URL it prints
before the cascade exists (all statuses: the cascade opens and resolves within seconds of wall time): the
cascade incident (P1, root cause postgres) appears in the list marked new and updates, marked changed, up to
its resolve, without a reload (the rows the script puts in, recorded by a MutationObserver). Its page shows
the root cause first in the ranking, a chart per metric member with the expected band (a polygon), the
expected and observed series (paths through several points) and the onset, the service graph with postgres
marked and the timeline. Each step saves a screenshot (``tmp_path``); labels and contrast are checked and
the browser logs no error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.console_checks import check_page
from support.demo_run import running_demo
from support.webdriver import CHROMEDRIVER, Browser, WebDriverError, chromium_session

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.browser,
              pytest.mark.skipif(CHROMEDRIVER is None, reason="chromedriver is not installed (Debian: apt-get "
                                 "install chromium chromium-driver; .ci/run installs them)")]

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
return log.length && log[log.length - 1].status === 'resolved' ? log : null;
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
        except WebDriverError:
            continue  # a reload under the script: ask again
    raise AssertionError(f"never saw {what}")


async def test_the_demo_cascade_arrives_live_and_its_page_charts_each_metric_anomaly(tmp_path: Path) -> None:
    with running_demo(tmp_path) as demo:
        console = demo.ready()
        async with chromium_session() as browser:
            await browser.open(console + "/?status=all")  # the cascade resolves within seconds: keep it listed
            await browser.wait_for("return document.getElementById('live').textContent.startsWith('Live');",
                                   what="the stream connected")
            assert await browser.run("return document.querySelectorAll('#rows tr').length;") == 0
            await browser.run(WATCH_ROWS)
            log: Any = await browser.wait_for(CASCADE_LOG, 120, "the cascade, live, up to its resolve")
            assert await browser.run("return window.notReloaded === true;"), "the list reloaded"
            assert len({row["id"] for row in log}) == 1
            versions = [row["version"] for row in log]
            assert versions == sorted(versions), versions
            assert len(versions) >= 2, versions  # appeared, then updated
            assert "new" in log[0]["marked"]
            assert all("changed" in row["marked"] for row in log[1:])
            cascade = log[0]["id"]
            await check_page(browser, tmp_path, "demo-list")

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
