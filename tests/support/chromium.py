"""A headless Chromium session driven by Selenium 4, for the console's browser tests and benches.

`chromium_session()` starts Debian's ``chromedriver`` (by path: Selenium Manager never downloads anything)
and a headless Chromium with its console log kept; `Browser` wraps the Selenium driver's few calls the tests
use in `asyncio.to_thread`, so the tests stay async and their event loop (brokers, aiohttp) keeps running.
`MISSING` says why the browser tests skip (chromium or chromedriver absent), else is None.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

CHROMEDRIVER = shutil.which("chromedriver")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
MISSING = None if CHROMEDRIVER and CHROMIUM else (
    "chromium or chromedriver is not installed (Debian: apt-get install chromium chromium-driver; "
    ".ci/run installs them)")


class Browser:
    """The Selenium driver's calls the tests make, each run off the event loop."""

    def __init__(self, driver: webdriver.Chrome) -> None:
        self.driver = driver

    async def open(self, url: str) -> None:
        await asyncio.to_thread(self.driver.get, url)

    async def run(self, script: str, *args: Any) -> Any:
        return await asyncio.to_thread(self.driver.execute_script, script, *args)

    async def run_async(self, script: str, *args: Any) -> Any:
        """`script` ends by calling its last argument with the value (Selenium's execute_async_script)."""
        return await asyncio.to_thread(self.driver.execute_async_script, script, *args)

    async def find_all(self, css: str) -> list[Any]:
        return await asyncio.to_thread(self.driver.find_elements, By.CSS_SELECTOR, css)

    async def click(self, css: str) -> None:
        await asyncio.to_thread(lambda: self.driver.find_element(By.CSS_SELECTOR, css).click())

    async def type(self, css: str, text: str) -> None:
        await asyncio.to_thread(lambda: self.driver.find_element(By.CSS_SELECTOR, css).send_keys(text))

    async def keys(self, *keys: str) -> None:
        """Key presses sent to the focused element (the page), e.g. selenium's ``Keys.TAB`` or ``"j"``."""
        await asyncio.to_thread(lambda: ActionChains(self.driver).send_keys(*keys).perform())

    async def text(self, css: str) -> str:
        return await asyncio.to_thread(lambda: self.driver.find_element(By.CSS_SELECTOR, css).text)

    async def wait_for(self, script: str, within: float = 30.0, what: str = "the page") -> Any:
        """Poll `script` (a function body returning a value) every 0.25 s until it is truthy; its value.
        Raises selenium's TimeoutException naming `what`; other WebDriver errors (a script run while the page
        reloads) propagate."""
        wait = WebDriverWait(self.driver, within, poll_frequency=0.25)
        return await asyncio.to_thread(wait.until, lambda driver: driver.execute_script(script),
                                       f"timed out waiting for {what}")

    async def resize(self, width: int, height: int) -> None:
        await asyncio.to_thread(self.driver.set_window_size, width, height)

    async def screenshot(self, path: Path) -> None:
        if not await asyncio.to_thread(self.driver.save_screenshot, str(path)):
            raise AssertionError(f"no screenshot saved to {path}")

    async def console_errors(self) -> list[str]:
        """The SEVERE entries of the browser's console log since the last call (the log is drained)."""
        entries = await asyncio.to_thread(self.driver.get_log, "browser")
        return [str(entry["message"]) for entry in entries if entry.get("level") == "SEVERE"]


def chrome_options(width: int, height: int) -> webdriver.ChromeOptions:
    options = webdriver.ChromeOptions()
    assert CHROMIUM is not None
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     f"--window-size={width},{height}"):
        options.add_argument(argument)  # --no-sandbox: CI runs as root
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return options


@asynccontextmanager
async def chromium_session(width: int = 1280, height: int = 1600) -> AsyncIterator[Browser]:
    """A headless Chromium session through Debian's chromedriver; quits both at the end."""
    assert MISSING is None, MISSING
    service = webdriver.ChromeService(executable_path=CHROMEDRIVER)
    driver = await asyncio.to_thread(webdriver.Chrome, options=chrome_options(width, height), service=service)
    try:
        yield Browser(driver)
    finally:
        await asyncio.to_thread(driver.quit)

