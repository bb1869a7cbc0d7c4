"""The JSON shapes of branching and portability: diff, fork, copy, merge, import, summarize.

Inputs forbid unknown fields like every input of the API (`schemas.Input`);
outputs are built from the engine's frozen data with `of(...)`. A fork, copy or
merge answers the new session as `schemas.SessionOut`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from adapters.bundles import ImportResult
from adapters.http.schemas import Input
from domain.content import ContentBlock
from domain.diff import SessionDiff
from domain.message import Message, Role


class ForkIn(Input):
    """A branch of a session; every field optional (the source's values otherwise)."""

    at_version: int | None = Field(
        default=None, ge=1, description="The source's version to branch at (default: its head)"
    )
    title: str | None = None
    metadata: dict[str, Any] | None = None
    agent_id: str | None = Field(default=None, description="Chat with another agent from here")
    situation: str | None = None


class CopyIn(Input):
    """A copy of a session as it is now."""

    title: str | None = None


class MergeIn(Input):
    """A new session holding the histories of two or more sessions."""

    session_ids: list[str] = Field(
        min_length=2, description="The sessions to merge, in order; each records `MergedInto`"
    )
    policy: Literal["concatenate", "interleave"] = Field(
        default="concatenate",
        description="`concatenate`: each source's messages in turn, in the order given; "
        "`interleave`: all of them by the time they were recorded",
    )
    title: str | None = Field(default=None, description="Default: the sources' titles joined")
    metadata: dict[str, Any] | None = Field(default=None, description="Default: the first's")

    @field_validator("session_ids")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a merge needs distinct sessions")
        return value


class FieldChangeOut(BaseModel):
    before: Any
    after: Any


class DiffMessageOut(BaseModel):
    """A message that entered the model-facing history."""

    id: str
    role: Role
    content: list[ContentBlock]
    name: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def of(cls, message: Message) -> DiffMessageOut:
        return cls(
            id=message.id or "",
            role=message.role,
            content=message.content,
            name=message.name,
            metadata=message.metadata,
        )


class DiffOut(BaseModel):
    """What changed in a session from version `from_version` to `to_version`."""

    session_id: str
    from_version: int
    to_version: int
    changes: dict[str, FieldChangeOut]
    """Fields that differ (title, user_id, agent_id, situation, context, metadata,
    render_templates, is_deleted), each with its value before and after."""
    messages_removed: list[str]
    """Ids of messages in the history at `from_version` but not at `to_version` (a clear)."""
    messages_added: list[DiffMessageOut]
    """Messages in the history at `to_version` but not at `from_version`, in order."""

    @classmethod
    def of(cls, diff: SessionDiff) -> DiffOut:
        return cls(
            session_id=diff.session_id,
            from_version=diff.from_version,
            to_version=diff.to_version,
            changes={
                name: FieldChangeOut(before=change.before, after=change.after)
                for name, change in diff.changes.items()
            },
            messages_removed=list(diff.messages_removed),
            messages_added=[DiffMessageOut.of(m) for m in diff.messages_added],
        )


class ImportedOut(BaseModel):
    """What an import stored."""

    session_id: str
    """The bundle's session, under its id here (`new_id` when given)."""
    imported: int
    """Events written."""
    skipped: int
    """Events already stored with identical data (a repeated import)."""

    @classmethod
    def of(cls, result: ImportResult) -> ImportedOut:
        return cls(session_id=result.session_id, imported=result.imported, skipped=result.skipped)


class SummarizeIn(Input):
    """A summary to stand in for the history's older messages in the model's context."""

    up_to_version: int | None = Field(
        default=None, ge=1, description="Summarise the messages up to this version (default: all)"
    )
    text: str | None = Field(
        default=None,
        min_length=1,
        description="The summary; left out, the session's model writes it (one recorded call)",
    )
