"""Request parameters that need more than a type: If-Match and ETag, idempotency keys,
filters, cursors.

This module turns `If-Match` into an expected version, checks `Idempotency-Key`,
turns `metadata_filter` into a checked JSON object, and refuses query text and
cursors the views could not use (NUL characters, cursors this server did not
issue) as 422 naming the parameter, before they reach SQL. Fields are named as
pydantic names them (`query.cursor`, `header.If-Match`).
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from fastapi import Depends, Header

from adapters.http.limits import check_json_input
from domain.errors import InvalidInputError
from domain.validation import check_object, check_text
from projections.paging import decode_cursor

MAX_OFFSET = 1_000_000_000
"""The largest `offset` a list takes (beyond it, use cursors)."""

_IF_MATCH = re.compile(r'(?:W/)?"(\d{1,18})"|(\d{1,18})')


async def expected_version(
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description='The version you last saw (`3`, `"3"` or `W/"3"`, as in `ETag`); '
            "409 when the session has moved on.",
        ),
    ] = None,
) -> int | None:
    """The version `If-Match` expects, or None to write whatever the version is."""
    if if_match is None or if_match.strip() == "*":
        return None
    match = _IF_MATCH.fullmatch(if_match.strip())
    if match is None:
        raise InvalidInputError(
            "header.If-Match", 'must be a session version such as 3 or "3" (the ETag)'
        )
    return int(match.group(1) or match.group(2))


ExpectedVersionDep = Annotated[int | None, Depends(expected_version)]

_IDEMPOTENCY_KEY = re.compile(r"[\x20-\x7e]{1,255}")


async def idempotency_key(
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Up to 255 printable ASCII characters. A request repeated with the "
            "same key answers the recorded result (`replayed: true`) without calling the "
            "model again; the same key with a different body is refused (422).",
        ),
    ] = None,
) -> str | None:
    """The request's idempotency key, refused when it could not be stored and echoed safely."""
    if key is not None and _IDEMPOTENCY_KEY.fullmatch(key) is None:
        raise InvalidInputError(
            "header.Idempotency-Key", "must be 1 to 255 printable ASCII characters"
        )
    return key


IdempotencyKeyDep = Annotated[str | None, Depends(idempotency_key)]


def metadata_filter(text: str | None) -> dict[str, Any] | None:
    """The JSON object of a `metadata_filter` query parameter."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidInputError("query.metadata_filter", "is not valid JSON") from None
    check_json_input(value, "query.metadata_filter")
    return check_object(value, "query.metadata_filter")


def query_text(value: str | None, name: str) -> str | None:
    """A query parameter's text, refused when it holds a NUL character."""
    if value is not None:
        check_text(value, f"query.{name}")
    return value


def session_cursor(cursor: str | None) -> str | None:
    """A session-list cursor, checked to be one this server issued."""
    if cursor is not None:
        _position(cursor, updated_at=str, id=str)
    return cursor


def agent_cursor(cursor: str | None) -> str | None:
    """An agent-list cursor, checked to be one this server issued."""
    return session_cursor(cursor)  # both lists page by (updated_at, id)


def version_cursor(cursor: str | None) -> str | None:
    """A messages or events cursor, checked to be one this server issued."""
    if cursor is not None:
        _position(cursor, version=int)
    return cursor


def audit_cursor(cursor: str | None) -> str | None:
    """An audit-trail cursor, checked to be one this server issued."""
    if cursor is not None:
        _position(cursor, position=int)
    return cursor


def _position(cursor: str, **fields: type[int] | type[str]) -> dict[str, Any]:
    try:
        return decode_cursor(cursor, **fields)
    except InvalidInputError:
        raise _foreign_cursor() from None


def _foreign_cursor() -> InvalidInputError:
    return InvalidInputError("query.cursor", "is not a cursor this server issued")


def etag(version: int) -> str:
    """The `ETag` of a session at `version`; `If-Match` takes it back."""
    return f'"{version}"'
