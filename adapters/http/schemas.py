"""The JSON shapes of the HTTP API (and of the CLI's `--json` output).

Inputs forbid unknown fields, so a typo is a 422 naming it, not a silent no-op.
Outputs are built from the engine's frozen query data with `of(...)`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from domain.base import AttributedEvent
from domain.content import ContentBlock
from domain.message import Message, Role
from domain.session import Session, SessionState
from projections.history import HistoryEntry
from projections.paging import Page
from projections.session_list import SessionSummary

T = TypeVar("T")


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SessionPatch(Input):
    """Fields to change: PATCH merges them in (metadata and context as JSON Merge Patch),
    PUT replaces all of them (omitted ones are reset)."""

    title: str | None = None
    situation: str | None = None
    metadata: dict[str, Any] | None = None
    context: dict[str, Any] | None = None


class MessageIn(Input):
    """A message to append; `content` is a string or a list of content blocks."""

    role: Role
    content: str | list[ContentBlock]
    name: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    def to_message(self) -> Message:
        return Message.model_validate(self.model_dump(exclude_none=True))


class SessionCreate(Input):
    """A new session: every field optional. `messages` are its first messages, recorded
    with it in one transaction."""

    title: str = ""
    user_id: str | None = None
    agent_id: str | None = None
    situation: str = ""
    context: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)
    render_templates: bool = False
    messages: list[MessageIn] = Field(default_factory=list)

    def fields(self) -> dict[str, Any]:
        """The keyword arguments of `Ledger.create_session`."""
        return {
            **self.model_dump(exclude={"messages"}),
            "messages": [m.to_message() for m in self.messages],
        }


class MessagesIn(Input):
    """Several messages appended atomically, in order."""

    messages: list[MessageIn] = Field(min_length=1)


class MessageOrigin(BaseModel):
    """Where a message was first recorded, when another session holds it too."""

    model_config = ConfigDict(extra="allow")

    session_id: str | None = None
    version: int | None = None
    """Version of the `Session.MessageAppended` event that recorded it there."""

    @classmethod
    def of(cls, entry: HistoryEntry) -> MessageOrigin | None:
        """An inherited message's origin (fork, copy, merge), else the message's own."""
        if entry.origin_session_id is not None:
            return cls(session_id=entry.origin_session_id, version=entry.origin_version)
        origin = entry.message.origin
        return None if origin is None else cls.model_validate(origin)


class MessageOut(BaseModel):
    """A recorded message with its place in the session's stream."""

    id: str
    role: Role
    content: list[ContentBlock]
    name: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    origin: MessageOrigin | None = None
    """Set on messages a fork, copy or merge inherited: the session and version that
    recorded them (`version` below is then the branch's first event)."""
    version: int
    """Version of the `Session.MessageAppended` event that recorded it."""
    created_at: datetime
    actor: str

    @classmethod
    def of(cls, entry: HistoryEntry) -> MessageOut:
        message = entry.message
        return cls(
            id=message.id or "",
            role=message.role,
            content=message.content,
            name=message.name,
            metadata=message.metadata,
            origin=MessageOrigin.of(entry),
            version=entry.version,
            created_at=entry.created_at,
            actor=entry.actor,
        )


class SummaryOut(BaseModel):
    """A summary in force: the model is sent `text` instead of the messages it stands in for."""

    summary_id: str
    text: str
    from_version: int
    to_version: int
    """The versions of the first and last message it stands in for."""


class SessionOut(BaseModel):
    """A session (with `messages` when asked for)."""

    id: str
    tenant_id: str
    title: str
    user_id: str | None
    agent_id: str | None
    situation: str
    context: dict[str, Any]
    metadata: dict[str, Any]
    render_templates: bool
    status: Literal["active", "deleted", "erased"]
    version: int
    message_count: int
    created_at: datetime
    updated_at: datetime
    summaries: list[SummaryOut] = Field(default_factory=list)
    """Summaries in force since the last clear, oldest first."""
    messages: list[MessageOut] | None = None

    @classmethod
    def of(cls, state: SessionState, messages: list[HistoryEntry] | None = None) -> SessionOut:
        return cls(
            id=str(state.id),
            tenant_id=state.tenant_id,
            title=state.title,
            user_id=state.user_id,
            agent_id=state.agent_id,
            situation=state.situation,
            context=state.context,
            metadata=state.metadata,
            render_templates=state.render_templates,
            status="erased" if state.is_erased else "deleted" if state.is_deleted else "active",
            version=state.version,
            message_count=state.message_count,
            created_at=state.created_at,
            updated_at=state.updated_at,
            summaries=[SummaryOut(**s.model_dump()) for s in state.summaries],
            messages=None if messages is None else [MessageOut.of(m) for m in messages],
        )


class SessionSummaryOut(BaseModel):
    """A session as the list shows it."""

    id: str
    title: str
    user_id: str | None
    agent_id: str | None
    metadata: dict[str, Any]
    status: str
    message_count: int
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, summary: SessionSummary) -> SessionSummaryOut:
        return cls(
            id=summary.id,
            title=summary.title,
            user_id=summary.user_id,
            agent_id=summary.agent_id,
            metadata=summary.metadata,
            status=summary.status,
            message_count=summary.message_count,
            version=summary.version,
            created_at=summary.created_at,
            updated_at=summary.updated_at,
        )


_EVENT_ENVELOPE = {*AttributedEvent.model_fields, "originator_topic"}
"""Fields every event carries (ids, version, time, who and why), left out of `data`."""


class EventOut(BaseModel):
    """One event of a session's stream: envelope fields and the event's own data."""

    session_id: str
    version: int
    type: str
    """The event class, e.g. `Session.MessageAppended`."""
    topic: str
    """The stable topic it is stored under, e.g. `chatledger.Session.MessageAppended`."""
    timestamp: datetime
    tenant_id: str
    actor: str
    correlation_id: str
    causation_id: str | None
    trace_id: str | None
    data: dict[str, Any]

    @classmethod
    def of(cls, event: Session.Event) -> EventOut:
        return cls(
            session_id=str(event.originator_id),
            version=event.originator_version,
            type=type(event).__qualname__,
            topic=str(getattr(type(event), "TOPIC", "")),
            timestamp=event.timestamp,
            tenant_id=event.tenant_id,
            actor=event.actor,
            correlation_id=event.correlation_id,
            causation_id=event.causation_id,
            trace_id=event.trace_id,
            data=event.model_dump(mode="json", exclude=_EVENT_ENVELOPE),
        )


class StateOut(SessionOut):
    """A session as it was at `version` (time travel), with its history then."""

    as_of_version: int

    @classmethod
    def of_state(cls, state: SessionState, messages: list[HistoryEntry]) -> StateOut:
        session = SessionOut.of(state, messages)
        return cls(**dict(session), as_of_version=state.version)


class AppendedOut(BaseModel):
    """The session after an append, and the messages as recorded."""

    session: SessionOut
    messages: list[MessageOut]


class PageOut(BaseModel, Generic[T]):
    """One page of a list; pass `next_cursor` back as `cursor` for the next one."""

    data: list[T]
    next_cursor: str | None


def page_of(page: Page[Any], convert: Any) -> dict[str, Any]:
    """A `Page` of domain data as the API's `{"data": [...], "next_cursor": ...}`."""
    return {"data": [convert(item) for item in page.data], "next_cursor": page.next_cursor}


class Problem(BaseModel):
    """An error, as RFC 9457 `application/problem+json`."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    field: str | None = None
    """The input field at fault, when there is one."""
    errors: list[dict[str, Any]] | None = None
