"""Checks on client-supplied text and JSON values, before anything is recorded.

Text that PostgreSQL cannot store (NUL) or that is not valid Unicode (lone
surrogates) is refused up front, so no event is ever written that one backend
could hold and another could not; so is JSON the event store cannot write
faithfully (nesting deeper than `MAX_JSON_DEPTH`, integers beyond 64 bits,
NaN and infinities). Field names in errors never echo the offending characters.
Imports only the domain's errors.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from domain.errors import InvalidInputError, InvalidTextError

MAX_JSON_DEPTH = 100
"""Deepest nesting of arrays and objects a client value may have (the encoder stops at 254
levels, and events wrap client data in a few of their own)."""

_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1  # what the event encoder (orjson) can write
_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")


def check_text(value: str, field: str) -> None:
    """Refuse NUL characters and lone surrogates in one string."""
    match = _FORBIDDEN.search(value)
    if match is None:
        return
    what = "NUL character" if match.group() == "\x00" else "lone surrogate"
    raise InvalidTextError(field, f"contains a {what} at offset {match.start()}")


def check_json(value: Any, field: str) -> None:
    """Refuse what cannot be stored faithfully anywhere in a JSON value, keys included.

    Walks without recursion, so no input is too deep to check. A first walk only asks
    whether anything is wrong; a value it doubts is walked again with paths, and that
    walk raises the error (the same error whatever the first walk saw).
    """
    if not _is_clean(value):
        _check_json_with_paths(value, field)


def _is_clean(value: Any) -> bool:
    """True when `_check_json_with_paths` would accept `value` (False: it may not)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    pop, push = stack.pop, stack.append
    while stack:
        item, depth = pop()
        kind = type(item)
        if kind is str:
            if not _clean_text(item):
                return False
        elif kind is dict:
            if depth >= MAX_JSON_DEPTH:
                return False
            for key, child in item.items():
                if type(key) is not str or not _clean_text(key):
                    return False
                push((child, depth + 1))
        elif kind is list:
            if depth >= MAX_JSON_DEPTH:
                return False
            for child in item:
                push((child, depth + 1))
        elif item is None or kind is bool:
            continue
        elif kind is int:
            if not _INT_MIN <= item <= _INT_MAX:
                return False
        elif kind is float:
            if not math.isfinite(item):
                return False
        else:
            return False  # anything rarer: the walk with paths decides
    return True


def _clean_text(text: str) -> bool:
    """No NUL and no lone surrogate (ASCII text has no surrogates: `in` scans at C speed)."""
    if text.isascii():
        return "\x00" not in text
    return _FORBIDDEN.search(text) is None


def _check_json_with_paths(value: Any, field: str) -> None:
    """`check_json`'s walk that knows where it is, and raises for the first problem."""
    forbidden = _FORBIDDEN.search
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if forbidden(item):
                check_text(item, _path(field, path))
        elif isinstance(item, dict | list | tuple | Mapping):
            if len(path) >= MAX_JSON_DEPTH:
                raise InvalidInputError(
                    _path(field, path[:1]), f"nests deeper than {MAX_JSON_DEPTH} levels"
                )
            if isinstance(item, Mapping):
                for key in item:
                    if not isinstance(key, str):
                        raise InvalidInputError(_path(field, path), "object keys must be strings")
                    if forbidden(key):
                        check_text(key, _path(field, (*path, key)))
                stack += [(child, (*path, key)) for key, child in item.items()]
            else:
                stack += [(child, (*path, index)) for index, child in enumerate(item)]
        elif item is None or isinstance(item, bool):
            continue
        elif isinstance(item, int):
            if not _INT_MIN <= item <= _INT_MAX:
                raise InvalidInputError(_path(field, path), "is an integer beyond 64 bits")
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise InvalidInputError(_path(field, path), "is not a finite number")
        else:
            raise InvalidInputError(_path(field, path), f"{type(item).__name__} is not JSON")


def check_object(value: Any, field: str) -> dict[str, Any]:
    """A JSON object (dict) that `check_json` accepts, or an `InvalidInputError`."""
    if not isinstance(value, Mapping):
        raise InvalidInputError(field, "must be a JSON object")
    check_json(value, field)
    return dict(value)


def _path(field: str, keys: tuple[str | int, ...]) -> str:
    """`field.key[0]…`, with forbidden characters in keys shown as escapes."""
    return field + "".join(
        f"[{key}]" if isinstance(key, int) else "." + _FORBIDDEN.sub(_escape, key) for key in keys
    )


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"
