"""Pages of query results and the opaque cursors that continue them."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson

from domain.errors import InvalidInputError
from domain.validation import check_text

T = TypeVar("T")

MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of results; `next_cursor` is None on the last page."""

    data: list[T]
    next_cursor: str | None


def encode_cursor(position: dict[str, Any]) -> str:
    """An opaque, URL-safe token for a keyset position."""
    raw = orjson.dumps(position, option=orjson.OPT_SORT_KEYS)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, **fields: type[int] | type[str]) -> dict[str, Any]:
    """The position behind a token from `encode_cursor`, its fields of the given types.

    Anything else (not base64 JSON, missing or mistyped fields, text with NUL) is a
    422-worthy `InvalidInputError`: cursors reach SQL, so they are checked like input.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError):
        raise _foreign() from None
    if not isinstance(position, dict):
        raise _foreign()
    for key, kind in fields.items():
        value = position.get(key)
        if kind is int:
            if type(value) is not int or not 0 <= value < 2**63:
                raise _foreign()
        elif not isinstance(value, str) or len(value) > 256:
            raise _foreign()
        else:
            try:
                check_text(value, "cursor")
            except InvalidInputError:
                raise _foreign() from None
    return position


def _foreign() -> InvalidInputError:
    return InvalidInputError("cursor", "is not a cursor this server issued")


def check_page_size(limit: int) -> int:
    """A page size between 1 and MAX_PAGE_SIZE, or a 422-worthy error."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInputError("limit", f"must be between 1 and {MAX_PAGE_SIZE}")
    return limit
