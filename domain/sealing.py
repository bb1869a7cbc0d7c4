"""Which parts of an event are a user's content, and what stands in when they are gone.

Session events declare their content (`sealed`): dotted paths into the event's
JSON form, each with the placeholder that stands in for it once its key is
destroyed, and which key seals them (the session's, or one message's). The
store encrypts those paths and leaves the rest (the envelope, ids, roles,
versions, counts, models, usage) in the clear, so a session whose keys are gone
still folds, lists and travels in time, showing placeholders. Placeholders say
`[erased]` after a session's erasure and `[redacted]` for one redacted message.
Imports the standard library only; how sealing is done is the adapters' job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ERASED = "[erased]"
"""What stands in for the text of an erased session."""
REDACTED = "[redacted]"
"""What stands in for the text of a redacted message."""

ERASED_TEXT: list[dict[str, Any]] = [{"type": "text", "text": ERASED}]
"""Content blocks standing in for a message's content."""


@dataclass(frozen=True)
class Sealed:
    """Fields of an event sealed under one key, each with the value that stands in for it."""

    placeholders: Mapping[str, Any]
    """Dotted path (into the event's JSON) to its placeholder; `ERASED` in it becomes the mark."""
    key: str | None = None
    """Dotted path to the id of the message whose key seals these; None: the session's key."""

    def key_name(self, state: Mapping[str, Any]) -> str:
        """The key's name within the session: "" for the session's, else the message id."""
        if self.key is None:
            return ""
        present, value = peek(state, self.key)
        return str(value) if present and value else ""


_PATHS: dict[str, tuple[tuple[str, ...], str]] = {}


def _split(path: str) -> tuple[tuple[str, ...], str]:
    """`path`'s parents and last name (paths are few: each is split once)."""
    try:
        return _PATHS[path]
    except KeyError:
        *parents, name = path.split(".")
        split = _PATHS[path] = (tuple(parents), name)
        return split


def peek(state: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    """Whether `path` is in `state`, and its value."""
    parents, name = _split(path)
    node: Any = state
    for part in parents:
        node = node.get(part) if isinstance(node, Mapping) else None
    if isinstance(node, Mapping) and name in node:
        return True, node[name]
    return False, None


def take(state: dict[str, Any], path: str) -> tuple[bool, Any]:
    """Remove `path` from `state`; whether it was there, and its value."""
    parents, name = _split(path)
    node: Any = state
    for part in parents:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict) and name in node:
        return True, node.pop(name)
    return False, None


def put(state: dict[str, Any], path: str, value: Any) -> None:
    """Set `path` in `state` (its parents exist whenever the path was taken)."""
    parents, name = _split(path)
    node: Any = state
    for part in parents:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node[name] = value


def stand_in(placeholder: Any, mark: str) -> Any:
    """`placeholder` with every `ERASED` replaced by `mark` (a fresh copy)."""
    if isinstance(placeholder, str):
        return mark if placeholder == ERASED else placeholder
    if isinstance(placeholder, list):
        return [stand_in(item, mark) for item in placeholder]
    if isinstance(placeholder, dict):
        return {key: stand_in(value, mark) for key, value in placeholder.items()}
    return placeholder


def with_placeholders(state: dict[str, Any], sealed: Sealed, mark: str) -> None:
    """Put `sealed`'s placeholders into `state` in place of what they stand for."""
    for path, placeholder in sealed.placeholders.items():
        put(state, path, stand_in(placeholder, mark))
