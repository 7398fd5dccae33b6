"""The console's forms: an action form into the API's `ActionRequest`, a silence form into `SilenceRequest`.

The browser posts ``application/x-www-form-urlencoded`` fields; empty fields mean absent, snooze takes
minutes from now (`now` passed in) and a silence takes one matcher per line and a duration in hours. A
wrong form raises `FormError` with one sentence for the page. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from pydantic import ValidationError

from aiops.operator.requests import ActionRequest, SilenceRequest

MAX_SNOOZE_MINUTES = 7 * 24 * 60


class FormError(ValueError):
    """A form a person filled in wrong: the message says what to fix."""


def _sentence(error: ValidationError) -> str:
    first = error.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else str(first["msg"])


def action_request(form: Mapping[str, str], now: datetime) -> ActionRequest:
    fields = {name: form[name].strip() for name in ("kind", "comment", "owner", "team", "into", "member")
              if form.get(name, "").strip()}
    if fields.get("kind") == "snooze":
        try:
            minutes = float(form.get("minutes", ""))
        except ValueError:
            raise FormError("snooze: give the minutes as a number") from None
        if not 0 < minutes <= MAX_SNOOZE_MINUTES:
            raise FormError(f"snooze: between 1 and {MAX_SNOOZE_MINUTES} minutes")
        fields["until"] = (now + timedelta(minutes=minutes)).isoformat()
    try:
        return ActionRequest.model_validate(fields)
    except ValidationError as error:
        raise FormError(_sentence(error)) from None


def silence_request(form: Mapping[str, str]) -> SilenceRequest:
    matchers = [line.strip() for line in form.get("matchers", "").splitlines() if line.strip()]
    try:
        hours = float(form.get("hours", "2"))
    except ValueError:
        raise FormError("duration: give the hours as a number") from None
    if not 0 < hours <= 24 * 365:
        raise FormError("duration: more than 0 and at most a year")
    try:
        return SilenceRequest.model_validate({"matchers": matchers, "comment": form.get("comment", "").strip(),
                                              "duration_seconds": hours * 3600})
    except ValidationError as error:
        raise FormError(_sentence(error)) from None
