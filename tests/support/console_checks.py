"""Checks every console browser test makes on each page it visits: a screenshot, every form field labelled,
text contrast at least 4.5:1 (WCAG AA for body text), every control reachable by keyboard (in the Tab order:
not taken out by a negative tabindex, not a click handler on a non-control) and no error in the browser's
log. `tab_to` reaches a control by pressing Tab, as a keyboard user would."""

from __future__ import annotations

from pathlib import Path

from selenium.webdriver import Keys

from support.chromium import Browser

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


NOT_BY_KEYBOARD = """
const controls = 'a[href], button, input:not([type=hidden]), select, textarea, summary';
const out = Array.from(document.querySelectorAll(controls)).filter(el => el.getClientRects().length
  && (el.tabIndex < 0 || el.disabled)).map(el => el.outerHTML.slice(0, 120));
const clickable = Array.from(document.querySelectorAll('[onclick]')).filter(el => !el.matches(controls));
return out.concat(clickable.map(el => el.outerHTML.slice(0, 120)));
"""


async def tab_to(browser: Browser, css: str, presses: int = 80) -> None:
    """Press Tab from the top of the page until the element `css` has the focus."""
    await browser.run("document.activeElement.blur(); window.scrollTo(0, 0);")
    for _ in range(presses):
        await browser.keys(Keys.TAB)
        if await browser.run("return document.activeElement.matches(arguments[0]);", css):
            return
    raise AssertionError(f"{css} is not reached by Tab within {presses} presses")


async def check_page(browser: Browser, shots: Path, name: str) -> None:
    await browser.screenshot(shots / f"{name}.png")
    assert await browser.run(UNLABELLED) == [], name
    assert await browser.run(LOW_CONTRAST) == [], name
    assert await browser.run(NOT_BY_KEYBOARD) == [], name
    assert await browser.console_errors() == [], name
