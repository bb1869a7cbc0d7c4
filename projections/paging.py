"""Pages of query results and the opaque cursors that continue them."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from domain.errors import InvalidInputError

T = TypeVar("T")

MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of results; `next_cursor` is None on the last page."""

    data: list[T]
    next_cursor: str | None


def encode_cursor(position: dict[str, Any]) -> str:
    """An opaque, URL-safe token for a keyset position."""
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *keys: str) -> dict[str, Any]:
    """The position behind a token from `encode_cursor`, or a 422-worthy error."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = json.loads(raw)
    except (binascii.Error, ValueError):
        raise InvalidInputError("cursor", "is not a cursor this server issued") from None
    if not isinstance(position, dict) or any(key not in position for key in keys):
        raise InvalidInputError("cursor", "is not a cursor this server issued")
    return position


def check_page_size(limit: int) -> int:
    """A page size between 1 and MAX_PAGE_SIZE, or a 422-worthy error."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInputError("limit", f"must be between 1 and {MAX_PAGE_SIZE}")
    return limit
