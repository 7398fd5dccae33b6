"""RFC 9457 problem details: the body of every error the operator API answers under /api/v1.

A `Problem` has the RFC's members (``type``, ``title``, ``status``, ``detail``, ``instance``) and, for a
request body that does not validate, the extension member ``errors``: one `FieldError` per wrong field.
``type`` is ``urn:aiops:problem:<kind>`` (kinds in `KINDS`; docs/api.md lists them). Served as
``application/problem+json``. Pure: building bodies only; the HTTP adapter sends them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PROBLEM_CONTENT_TYPE = "application/problem+json"
KINDS: dict[str, tuple[int, str]] = {
    "bad-request": (400, "Bad Request"),
    "unauthorized": (401, "Unauthorized"),
    "forbidden": (403, "Forbidden"),
    "not-found": (404, "Not Found"),
    "conflict": (409, "Conflict"),
    "payload-too-large": (413, "Content Too Large"),
    "unsupported-media-type": (415, "Unsupported Media Type"),
    "validation": (422, "Unprocessable Content"),
    "internal": (500, "Internal Server Error"),
    "unavailable": (503, "Service Unavailable"),
    "store-unavailable": (503, "Incident Store Unavailable"),
}
"""Problem kind -> (HTTP status, title)."""


class FieldError(BaseModel):
    model_config = ConfigDict(frozen=True)

    field: str = Field(description="Dotted path of the field in the request body (empty: the body itself).")
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem details object."""

    model_config = ConfigDict(frozen=True)

    type: str = Field(description="urn:aiops:problem:<kind>, see docs/api.md.")
    title: str
    status: int
    detail: str = ""
    instance: str = Field("", description="The request path the problem is about.")
    errors: list[FieldError] | None = Field(None, description="validation: every field that is wrong.")

    def body(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


def problem(kind: str, detail: str, instance: str) -> Problem:
    """The problem of `kind` (a key of `KINDS`) about `instance`."""
    status, title = KINDS[kind]
    return Problem(type=f"urn:aiops:problem:{kind}", title=title, status=status, detail=detail, instance=instance)


def validation_problem(errors: Iterable[Mapping[str, Any]], instance: str) -> Problem:
    """422 listing every field error (pydantic's `ValidationError.errors()` or the same shape)."""
    fields = [FieldError(field=".".join(str(part) for part in error.get("loc", ())),
                         message=str(error.get("msg", "invalid"))) for error in errors]
    detail = "; ".join(f"{item.field or 'body'}: {item.message}" for item in fields)
    status, title = KINDS["validation"]
    return Problem(type="urn:aiops:problem:validation", title=title, status=status, detail=detail,
                   instance=instance, errors=fields)
