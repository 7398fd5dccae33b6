"""Request bodies to JSON values: gzip, size and nesting bounds, parse errors with a reason.

`decode_body` takes the raw bytes and the ``Content-Encoding`` and returns the parsed JSON value, or raises
`PayloadRejectedError` with reason ``oversized`` (the limit applies to the inflated body too, so a gzip bomb
stops at the limit), ``bad_encoding``, ``not_utf8``, ``invalid_json`` or ``too_deep``. It parses with orjson;
it does not validate any format (the translators do).
"""

from __future__ import annotations

import zlib
from typing import Any

import orjson

from aiops.errors import PayloadRejectedError


def inflate(body: bytes, encoding: str, max_bytes: int) -> bytes:
    """The body without its ``Content-Encoding`` (identity, gzip or deflate), at most `max_bytes` long."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        data = body
    elif encoding in ("gzip", "x-gzip", "deflate"):
        wbits = 16 + zlib.MAX_WBITS if encoding != "deflate" else zlib.MAX_WBITS
        inflater = zlib.decompressobj(wbits)
        try:
            data = inflater.decompress(body, max_bytes + 1)
        except zlib.error as error:
            raise PayloadRejectedError("bad_encoding", f"{encoding} body does not inflate: {error}") from None
        if not inflater.eof and len(data) <= max_bytes:
            raise PayloadRejectedError("bad_encoding", f"{encoding} body is truncated")
    else:
        raise PayloadRejectedError("bad_encoding", f"Content-Encoding {encoding!r} is not supported (gzip, deflate)")
    if len(data) > max_bytes:
        raise PayloadRejectedError("oversized", f"body is larger than {max_bytes} bytes")
    return data


def nesting_depth_within(value: Any, limit: int) -> bool:
    """Whether `value` nests at most `limit` arrays/objects deep (iterative: no recursion limit)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return False
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return True


def decode_body(body: bytes, encoding: str, max_bytes: int, max_depth: int) -> Any:
    """The JSON value of a request body; `PayloadRejectedError` with the reason when it is not one."""
    data = inflate(body, encoding, max_bytes)
    if not data.strip():
        raise PayloadRejectedError("empty", "the body is empty")
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise PayloadRejectedError("not_utf8", "the body is not UTF-8") from None
        problem = "nesting is deeper than the parser allows" if "recursion" in str(error) else str(error)
        raise PayloadRejectedError("invalid_json", problem) from None
    if not nesting_depth_within(value, max_depth):
        raise PayloadRejectedError("too_deep", f"JSON nests deeper than {max_depth} levels")
    return value
