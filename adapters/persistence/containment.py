"""JSON containment with PostgreSQL's `@>` semantics, for backends that lack it.

An object contains another when every key of the other is present with a
contained value; an array contains another when each element of the other is
contained by some element of it; scalars must be equal (with true and 1 apart).
"""

from __future__ import annotations

from typing import Any

import orjson


def contains(document: Any, pattern: Any) -> bool:
    """True when `document` contains `pattern`, as jsonb's `@>` decides."""
    if isinstance(pattern, dict):
        return isinstance(document, dict) and all(
            key in document and contains(document[key], value) for key, value in pattern.items()
        )
    if isinstance(pattern, list):
        return isinstance(document, list) and all(
            any(contains(item, wanted) for item in document) for wanted in pattern
        )
    if isinstance(pattern, bool) or isinstance(document, bool):
        return type(pattern) is type(document) and pattern == document
    return bool(document == pattern)


def sql_json_contains(document: str | None, pattern: str | None) -> int:
    """`contains` over JSON text, as a SQLite function (1 or 0)."""
    if document is None or pattern is None:
        return 0
    return int(contains(orjson.loads(document), orjson.loads(pattern)))
