"""Safe HTML building for the console: `Markup` (text already escaped), `esc`, `tag`, and the page layout.

Every value from an incident, a member or a request reaches a page through `esc` (or `tag`, which escapes
attribute values and plain-string children), so a label value such as ``<script>`` shows as text. `page`
wraps a body in the common layout: skip link, navigation, who is signed in, one stylesheet and one script
from ``/console/static/`` (no CDN). Builds strings only.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

STATIC = "/console/static"
NAV = (("/", "Incidents"), ("/silences", "Silences"), ("/routing", "Routing"), ("/pipeline", "Pipeline"))


class Markup(str):
    """A string that is already HTML: `esc` and `tag` leave it as it is."""

    __slots__ = ()



def esc(value: object) -> Markup:
    """`value` as HTML text (Markup unchanged, None empty)."""
    if isinstance(value, Markup):
        return value
    return Markup("" if value is None else html.escape(str(value), quote=True))


def join(parts: Iterable[object], separator: str = "") -> Markup:
    return Markup(separator.join(esc(part) for part in parts))


def tag(element: str, /, *children: object, **attributes: object) -> Markup:
    """``<name attr="...">children</name>``; attribute names: trailing ``_`` dropped (``class_``), ``_`` inside
    becomes ``-`` (``aria_label``); True renders the bare attribute, False/None leaves it out."""
    rendered = []
    for key, value in attributes.items():
        if value is None or value is False:
            continue
        name_ = key.rstrip("_").replace("_", "-")
        rendered.append(f" {name_}" if value is True else f' {name_}="{esc(value)}"')
    opening = f"<{element}{''.join(rendered)}>"
    if element in ("input", "br", "meta", "link", "img"):
        return Markup(opening)
    return Markup(f"{opening}{join(children)}</{element}>")


def when(value: datetime | None) -> Markup:
    """A ``<time>`` element (UTC, seconds); the script shows it as an age where asked."""
    if value is None:
        return Markup("")
    text = value.strftime("%Y-%m-%d %H:%M:%S UTC")
    return tag("time", text, datetime=value.isoformat())


@dataclass(frozen=True)
class Viewer:
    """Who looks at the page: name, whether they may act, the form token and whether to offer sign-out."""

    name: str
    may_act: bool
    csrf: str
    signed_in: bool = False


def hidden_csrf(viewer: Viewer) -> Markup:
    return tag("input", type="hidden", name="csrf", value=viewer.csrf)


def page(title: str, body: Markup, viewer: Viewer | None, *, current: str = "/",
         data: Mapping[str, str] | None = None) -> Markup:
    """The whole document: `body` under the navigation; `data` becomes ``data-*`` attributes of ``<body>``."""
    links = [tag("a", label, href=href, aria_current="page" if href == current else None) for href, label in NAV]
    who = Markup("")
    if viewer is not None:
        role = "responder" if viewer.may_act else "viewer (read only)"
        who = tag("span", f"{viewer.name} · {role}", class_="who")
        if viewer.signed_in:
            who = join([who, tag("form", hidden_csrf(viewer), tag("button", "Sign out", type="submit"),
                                 method="post", action="/logout", class_="inline")])
    header = tag("header", tag("a", "Skip to content", href="#main", class_="skip"),
                 tag("nav", tag("strong", "aiops"), *links, aria_label="Main"), who)
    attributes = {f"data_{key}": value for key, value in (data or {}).items()}
    document = join([
        Markup("<!doctype html>"),
        tag("html",
            tag("head", tag("meta", charset="utf-8"),
                tag("meta", name="viewport", content="width=device-width, initial-scale=1"),
                tag("title", f"{title} · aiops"),
                tag("link", rel="icon", href="data:,"),
                tag("link", rel="stylesheet", href=f"{STATIC}/console.css")),
            tag("body", header, tag("main", body, id="main", tabindex="-1"),
                tag("script", src=f"{STATIC}/console.js", defer=True), **attributes),
            lang="en"),
    ])
    return document
