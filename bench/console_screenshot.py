"""The README's screenshot of the on-call console: a demo incident's page with its metric anomaly chart.

Runs `aiops demo` (embedded broker on a free port; `correlation.resolve_quiet_seconds` raised so the cascade
is still open when shot, as a responder would find it), waits for the cascade incident (P1, root cause
postgres) to have at least `--members` members, opens its page in headless Chromium (Debian chromium through
chromedriver and Selenium, as the browser tests do) and, once the root-cause bars, the service graph and a
metric chart with its band are drawn, saves the page from its top down to the first metric member. Regenerate:

    python bench/console_screenshot.py [--out docs/console-incident.png] [--members 6]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # support: the demo and browser helpers

from selenium.common.exceptions import WebDriverException
from support.chromium import MISSING, chromium_session
from support.demo_run import DemoRun, running_demo

CHART_BOTTOM = """
const chart = document.querySelector('li.member svg.chart').closest('li.member');
return chart.getBoundingClientRect().bottom + window.scrollY + 16;
"""
DRAWN = """
return !!(document.body.dataset.page === 'incident' && document.querySelector('svg.chart .band')
          && document.querySelector('svg.graph .node.root')
          && document.querySelector('section[aria-labelledby=root-cause] svg'));
"""


async def shoot(url: str, out: Path) -> None:
    async with chromium_session(1280, 1500) as browser:
        await browser.open(url)
        for _ in range(3):  # the page reloads itself when a newer version is stored
            try:
                await browser.wait_for(DRAWN, 30, "the incident page drawn")
                bottom = await browser.run(CHART_BOTTOM)  # down to the first metric chart, whatever comes first
                inner = await browser.run("return window.outerHeight - window.innerHeight;")
                await browser.resize(1280, int(bottom + inner))
                await asyncio.sleep(1.0)
                await browser.wait_for(DRAWN, 30, "the incident page drawn")
                await browser.screenshot(out)
                return
            except WebDriverException:  # timed out, or a reload under the script
                await asyncio.sleep(1.0)
    raise SystemExit("the incident page never finished drawing")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/console-incident.png"))
    parser.add_argument("--members", type=int, default=6, help="wait for the cascade to have this many members")
    args = parser.parse_args()
    if MISSING is not None:
        raise SystemExit(f"needs a browser: {MISSING}")
    with tempfile.TemporaryDirectory() as temp:
        config = Path(temp) / "demo.yaml"
        config.write_text("correlation:\n  resolve_quiet_seconds: 3600\n")
        with running_demo(Path(temp), config=config) as demo:
            shot(demo, args.members, args.out)
    print(f"saved {args.out}")


def shot(demo: DemoRun, members: int, out: Path) -> None:
    console = demo.ready()
    cascade = demo.version(lambda v: v.priority == "P1" and v.root_cause == "postgres" and v.members >= members,
                           240)
    demo.output.line_with("demo: scenario fully fed", 120)  # its page no longer changes under the shot
    page = f"{console}/incidents/{cascade.incident}"
    print(f"{cascade.incident} ({cascade.members}+ members): {page}")
    asyncio.run(shoot(page, out.resolve()))


if __name__ == "__main__":
    main()
