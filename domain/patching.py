"""JSON Merge Patch (RFC 7396), the rule for merging metadata and context.

Objects merge key by key and recursively; a `null` value removes the key; any
other value (arrays included) replaces what was there.
"""

from __future__ import annotations

from typing import Any


def merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Return `target` with `patch` applied; neither argument is modified."""
    result = dict(target)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            current = result.get(key)
            result[key] = merge_patch(current if isinstance(current, dict) else {}, value)
        else:
            result[key] = value
    return result
