"""Checks on client-supplied text and JSON values, before anything is recorded.

Text that PostgreSQL cannot store (NUL) or that is not valid Unicode (lone
surrogates) is refused up front, so no event is ever written that one backend
could hold and another could not. Imports only the domain's errors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from domain.errors import InvalidInputError, InvalidTextError

_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")


def check_text(value: str, field: str) -> None:
    """Refuse NUL characters and lone surrogates in one string."""
    match = _FORBIDDEN.search(value)
    if match is None:
        return
    what = "NUL character" if match.group() == "\x00" else "lone surrogate"
    raise InvalidTextError(field, f"contains a {what} at offset {match.start()}")


def check_json(value: Any, field: str) -> None:
    """Refuse forbidden text anywhere in a JSON value, keys included."""
    if isinstance(value, str):
        check_text(value, field)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInputError(field, "object keys must be strings")
            check_text(key, f"{field}.{key}")
            check_json(item, f"{field}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            check_json(item, f"{field}[{index}]")
    elif value is not None and not isinstance(value, bool | int | float):
        raise InvalidInputError(field, f"{type(value).__name__} is not a JSON value")


def check_object(value: Any, field: str) -> dict[str, Any]:
    """A JSON object (dict) with clean text, or an `InvalidInputError`."""
    if not isinstance(value, Mapping):
        raise InvalidInputError(field, "must be a JSON object")
    check_json(value, field)
    return dict(value)
