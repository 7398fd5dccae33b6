"""The console's other pages: sign-in, silences (list, create with a preview, expire) and the one-paragraph
error page (routing and pipeline: `routing_page`, `pipeline`).

The silences page lists the silences with their state and an expire button each, and a form (matchers one
per line, pre-filled from a member's "Silence like this" link, comment, duration) whose "Preview" lists the
firing members of active incidents the matchers would mute now (`muted_now`). Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from aiops.console.markup import Markup, Viewer, hidden_csrf, join, page, tag, when
from aiops.correlation.suppression.matchers import Matcher, all_match, member_attributes
from aiops.correlation.suppression.rules import Silence
from aiops.incidents import Incident, Member


def login_page(message: str = "", next_path: str = "/") -> Markup:
    body = join([
        tag("h1", "Sign in"),
        tag("p", message, role="alert", class_="flash") if message else "",
        tag("form", tag("input", type="hidden", name="next", value=next_path),
            tag("label", "API token ", tag("input", type="password", name="token", id="token", required=True,
                                           autocomplete="current-password"), for_="token"),
            tag("button", "Sign in", type="submit"), method="post", action="/login"),
        tag("p", "Use a token from the service's api.tokens; viewers read, responders also act.", class_="muted"),
    ])
    return page("Sign in", body, None, current="")


def error_page(title: str, message: str, viewer: Viewer | None) -> Markup:
    return page(title, join([tag("h1", title), tag("p", message, role="alert")]), viewer, current="")


def muted_now(matchers: Sequence[Matcher], incidents: Iterable[Incident]) -> list[tuple[Incident, Member]]:
    """The firing members of these incidents that the matchers match."""
    return [(incident, member) for incident in incidents for member in incident.members
            if member.status == "firing" and all_match(matchers, member_attributes(member))]


def _silence_row(silence: Silence, state: str, viewer: Viewer) -> Markup:
    expire = Markup("")
    if viewer.may_act and state != "expired":
        expire = tag("form", hidden_csrf(viewer), tag("button", "Expire", type="submit"),
                     method="post", action=f"/silences/{silence.id}/expire", class_="inline")
    return tag("tr", tag("td", ", ".join(str(m) for m in silence.matchers)), tag("td", state),
               tag("td", when(silence.starts_at)), tag("td", when(silence.ends_at)), tag("td", silence.author),
               tag("td", silence.comment), tag("td", expire), data_silence=silence.id)


def silences_page(silences: Sequence[tuple[Silence, str]], viewer: Viewer, *, matchers: str = "",
                  comment: str = "", hours: str = "2", preview: Sequence[tuple[Incident, Member]] | None = None,
                  flash: str = "") -> Markup:
    head = tag("tr", *(tag("th", t, scope="col") for t in ("Matchers", "State", "Starts", "Ends", "Author",
                                                            "Comment", "")))
    table = tag("table", tag("caption", f"{len(silences)} silences"), tag("thead", head),
                tag("tbody", *(_silence_row(s, state, viewer) for s, state in silences)))
    form = Markup("")
    if viewer.may_act:
        form = tag(
            "form", hidden_csrf(viewer),
            tag("label", "Matchers (one per line: name=value, name!=value, name=~regex)", tag("br"),
                tag("textarea", matchers, name="matchers", id="matchers", rows="4", cols="50", required=True),
                for_="matchers"),
            tag("label", "Comment ", tag("input", name="comment", id="silence-comment", value=comment, required=True),
                for_="silence-comment"),
            tag("label", "Hours ", tag("input", type="number", name="hours", id="hours", value=hours, min="0.1",
                                       step="0.1"), for_="hours"),
            tag("button", "Preview", type="submit", formaction="/silences/preview"),
            tag("button", "Create silence", type="submit"),
            method="post", action="/silences", class_="silence-form")
    shown = Markup("")
    if preview is not None:
        items = [tag("li", tag("a", incident.title, href=f"/incidents/{incident.id}"), f": {member.name} on "
                     f"{member.service}" + (f"/{member.host}" if member.host else "")) for incident, member in preview]
        shown = tag("section", tag("h2", f"Would mute now: {len(preview)} firing members", id="preview"),
                    tag("ul", *items), aria_labelledby="preview")
    body = join([tag("h1", "Silences"), tag("p", flash, role="status", class_="flash") if flash else "", form, shown,
                 table])
    return page("Silences", body, viewer, current="/silences")
