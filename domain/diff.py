"""What changed in a session between two versions, and how to apply that change.

A `SessionDiff` lists the fields that changed (before and after), the
messages that left the model-facing history (by id; a clear removes them) and
the messages that entered it, in order. `apply_diff(view(a), diff(a, b))`
equals `view(b)`: the property tests hold it to that. Imports the domain only.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from domain.base import Immutable
from domain.message import Message
from domain.session import SessionState

DIFFED_FIELDS = (
    "title",
    "user_id",
    "agent_id",
    "situation",
    "context",
    "metadata",
    "render_templates",
    "is_deleted",
)


class FieldChange(Immutable):
    before: Any
    after: Any


class SessionView(Immutable):
    """The parts of a session a diff compares: its fields and its model-facing history."""

    fields: dict[str, Any]
    messages: list[Message]

    @classmethod
    def of(cls, state: SessionState, messages: list[Message]) -> SessionView:
        return cls(fields={f: getattr(state, f) for f in DIFFED_FIELDS}, messages=messages)


class SessionDiff(Immutable):
    """The change from version `from_version` to `to_version` of one session."""

    session_id: str
    from_version: int
    to_version: int
    changes: dict[str, FieldChange] = Field(default_factory=dict)
    messages_removed: list[str] = Field(default_factory=list)
    """Ids of messages in the history at `from_version` but not at `to_version`."""
    messages_added: list[Message] = Field(default_factory=list)
    """Messages in the history at `to_version` but not at `from_version`, in order."""


def diff_views(
    session_id: str, from_version: int, a: SessionView, to_version: int, b: SessionView
) -> SessionDiff:
    """The diff that turns `a` into `b`."""
    changes = {
        field: FieldChange(before=a.fields.get(field), after=b.fields.get(field))
        for field in DIFFED_FIELDS
        if a.fields.get(field) != b.fields.get(field)
    }
    kept_ids = {m.id for m in b.messages}
    removed = [m.id or "" for m in a.messages if m.id not in kept_ids]
    before_ids = {m.id for m in a.messages}
    added = [m for m in b.messages if m.id not in before_ids]
    return SessionDiff(
        session_id=session_id,
        from_version=from_version,
        to_version=to_version,
        changes=changes,
        messages_removed=removed,
        messages_added=added,
    )


def apply_diff(a: SessionView, diff: SessionDiff) -> SessionView:
    """`a` with `diff` applied."""
    fields = dict(a.fields) | {name: change.after for name, change in diff.changes.items()}
    removed = set(diff.messages_removed)
    messages = [m for m in a.messages if m.id not in removed] + list(diff.messages_added)
    return SessionView(fields=fields, messages=messages)
