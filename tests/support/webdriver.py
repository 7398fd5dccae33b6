"""A minimal W3C WebDriver client over aiohttp for the console's browser tests (no selenium dependency).

`chromium_session()` starts Debian's ``chromedriver`` on a free loopback port and a headless Chromium
session through it; `Browser` has the few commands the tests use (navigate, find, click, type, run a
script, screenshot, the browser's console log). `CHROMEDRIVER` is None when the binary is absent (the
tests skip saying so).
"""

from __future__ import annotations

import asyncio
import base64
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from aiops.runtime.broker import free_loopback_port

CHROMEDRIVER = shutil.which("chromedriver")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


class WebDriverError(AssertionError):
    pass


class Browser:
    def __init__(self, http: aiohttp.ClientSession, base: str, session_id: str) -> None:
        self.http, self.base, self.session = http, base, session_id

    async def command(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        url = f"{self.base}/session/{self.session}{path}"
        async with self.http.request(method, url, json=body if method == "POST" else None) as response:
            answer = await response.json()
        if response.status >= 400:
            raise WebDriverError(f"{method} {path}: {answer['value'].get('message', answer)[:500]}")
        return answer["value"]

    async def open(self, url: str) -> None:
        await self.command("POST", "/url", {"url": url})

    async def run(self, script: str, *args: Any) -> Any:
        return await self.command("POST", "/execute/sync", {"script": script, "args": list(args)})

    async def find(self, css: str) -> str:
        found = await self.command("POST", "/element", {"using": "css selector", "value": css})
        if ELEMENT not in found:
            raise WebDriverError(f"find {css}: {found}")
        return str(found[ELEMENT])

    async def find_all(self, css: str) -> list[str]:
        found = await self.command("POST", "/elements", {"using": "css selector", "value": css})
        return [str(item[ELEMENT]) for item in found]

    async def click(self, css: str) -> None:
        await self.command("POST", f"/element/{await self.find(css)}/click", {})

    async def type(self, css: str, text: str) -> None:
        await self.command("POST", f"/element/{await self.find(css)}/value", {"text": text})

    async def keys(self, text: str) -> None:
        """Key presses sent to the focused element (the page)."""
        actions = [{"type": kind, "value": char} for char in text for kind in ("keyDown", "keyUp")]
        await self.command("POST", "/actions", {"actions": [{"type": "key", "id": "keyboard", "actions": actions}]})

    async def text(self, css: str) -> str:
        return str(await self.command("GET", f"/element/{await self.find(css)}/text"))

    async def wait_for(self, script: str, within: float = 30.0, what: str = "the page") -> Any:
        """Poll `script` (a function body returning a value) until it is truthy."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            found = await self.run(script)
            if found:
                return found
            if loop.time() > deadline:
                raise WebDriverError(f"timed out waiting for {what}")
            await asyncio.sleep(0.25)

    async def screenshot(self, path: Path) -> None:
        path.write_bytes(base64.b64decode(await self.command("GET", "/screenshot")))  # noqa: ASYNC240 (a test)

    async def console_errors(self) -> list[str]:
        entries = await self.command("POST", "/se/log", {"type": "browser"})
        return [entry["message"] for entry in entries if entry.get("level") == "SEVERE"]


@asynccontextmanager
async def chromium_session(width: int = 1280, height: int = 1600) -> AsyncIterator[Browser]:
    assert CHROMEDRIVER is not None
    port = free_loopback_port()
    driver = subprocess.Popen([CHROMEDRIVER, f"--port={port}"], stdout=subprocess.DEVNULL,  # noqa: ASYNC220
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    options: dict[str, Any] = {"args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                        f"--window-size={width},{height}"]}
    if CHROMIUM is not None:
        options["binary"] = CHROMIUM
    capabilities = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": options,
                                                     "goog:loggingPrefs": {"browser": "ALL"}}}}
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
            for _ in range(100):
                try:
                    async with http.get(base + "/status") as response:
                        if (await response.json())["value"]["ready"]:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
            async with http.post(base + "/session", json=capabilities) as response:
                created = await response.json()
            if response.status != 200:
                raise WebDriverError(f"no browser session: {created}")
            browser = Browser(http, base, created["value"]["sessionId"])
            try:
                yield browser
            finally:
                async with http.delete(f"{base}/session/{browser.session}"):
                    pass
    finally:
        driver.terminate()
        driver.wait(10)
