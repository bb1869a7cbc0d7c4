"""The Session aggregate and its events.

A session's stream is the truth; the aggregate keeps only what its decisions
need (tenant, title, situation, context, metadata, counters, status), never
the message list, so loading it and its snapshots cost the same at any length.
The history lives in the projections. Every event has an explicit, stable
topic (`chatledger.Session.*`), so modules can move without breaking stored
streams. Imports pydantic, eventsourcing and the domain only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal
from uuid import UUID

from domain.base import Aggregate, Immutable
from domain.context import CommandContext
from domain.errors import SessionDeletedError
from domain.message import Message
from domain.patching import merge_patch

PatchMode = Literal["merge", "overwrite"]


class Session(Aggregate):
    """A conversation bound to a user and an agent."""

    TOPIC: ClassVar[str] = "chatledger.Session"

    class Event(Aggregate.Event):
        """Base of session events: who, for which tenant, under which request."""

        tenant_id: str
        actor: str
        correlation_id: str
        causation_id: str | None = None
        trace_id: str | None = None

    class Created(Event, Aggregate.Created):
        """A new session, with its whole initial state."""

        TOPIC: ClassVar[str] = "chatledger.Session.Created"
        title: str
        user_id: str | None
        agent_id: str | None
        situation: str
        context: dict[str, Any]
        metadata: dict[str, Any]
        render_templates: bool

    class MessageAppended(Event):
        TOPIC: ClassVar[str] = "chatledger.Session.MessageAppended"
        message: Message

        def apply(self, aggregate: Session) -> None:
            aggregate.message_count += 1
            aggregate.messages_total += 1

    class SituationUpdated(Event):
        TOPIC: ClassVar[str] = "chatledger.Session.SituationUpdated"
        situation: str

        def apply(self, aggregate: Session) -> None:
            aggregate.situation = self.situation

    class TitleChanged(Event):
        TOPIC: ClassVar[str] = "chatledger.Session.TitleChanged"
        title: str

        def apply(self, aggregate: Session) -> None:
            aggregate.title = self.title

    class MetadataUpdated(Event):
        """Records the patch and whether it merged or overwrote."""

        TOPIC: ClassVar[str] = "chatledger.Session.MetadataUpdated"
        patch: dict[str, Any]
        mode: PatchMode

        def apply(self, aggregate: Session) -> None:
            aggregate.metadata = Session.patched(aggregate.metadata, self.patch, self.mode)

    class ContextUpdated(Event):
        TOPIC: ClassVar[str] = "chatledger.Session.ContextUpdated"
        patch: dict[str, Any]
        mode: PatchMode

        def apply(self, aggregate: Session) -> None:
            aggregate.context = Session.patched(aggregate.context, self.patch, self.mode)

    class HistoryCleared(Event):
        """The model-facing history is emptied; time travel still reaches it."""

        TOPIC: ClassVar[str] = "chatledger.Session.HistoryCleared"

        def apply(self, aggregate: Session) -> None:
            aggregate.message_count = 0
            aggregate.cleared_at_version = self.originator_version

    class Deleted(Event):
        """Soft delete: hidden from lists and chat, kept in the log."""

        TOPIC: ClassVar[str] = "chatledger.Session.Deleted"

        def apply(self, aggregate: Session) -> None:
            aggregate.is_deleted = True

    def __init__(
        self,
        *,
        tenant_id: str,
        title: str,
        user_id: str | None,
        agent_id: str | None,
        situation: str,
        context: dict[str, Any],
        metadata: dict[str, Any],
        render_templates: bool,
    ) -> None:
        self.tenant_id = tenant_id
        self.title = title
        self.user_id = user_id
        self.agent_id = agent_id
        self.situation = situation
        self.context = dict(context)
        self.metadata = dict(metadata)
        self.render_templates = render_templates
        self.message_count = 0
        """Messages in the model-facing history (since the last clear)."""
        self.messages_total = 0
        """Messages ever appended."""
        self.cleared_at_version = 0
        """Version of the last `HistoryCleared`, 0 if never cleared."""
        self.is_deleted = False

    @classmethod
    def create(
        cls,
        ctx: CommandContext,
        *,
        title: str = "",
        user_id: str | None = None,
        agent_id: str | None = None,
        situation: str = "",
        context: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        render_templates: bool = False,
        session_id: UUID | None = None,
    ) -> Session:
        """Start a session; `Created` carries its whole initial state."""
        return cls._create(
            cls.Created,
            id=session_id,
            title=title,
            user_id=user_id,
            agent_id=agent_id,
            situation=situation,
            context=dict(context or {}),
            metadata=dict(metadata or {}),
            render_templates=render_templates,
            **ctx.event_fields(),
        )

    # Commands: validate, then trigger. `apply` only mutates, because it re-runs on replay.

    def append_message(self, ctx: CommandContext, message: Message) -> None:
        self._check_live()
        self.trigger_event(self.MessageAppended, message=message, **ctx.event_fields())

    def change_title(self, ctx: CommandContext, title: str) -> None:
        self._check_live()
        if title != self.title:
            self.trigger_event(self.TitleChanged, title=title, **ctx.event_fields())

    def update_situation(self, ctx: CommandContext, situation: str) -> None:
        self._check_live()
        if situation != self.situation:
            self.trigger_event(self.SituationUpdated, situation=situation, **ctx.event_fields())

    def update_metadata(self, ctx: CommandContext, patch: dict[str, Any], mode: PatchMode) -> None:
        self._check_live()
        if Session.patched(self.metadata, patch, mode) != self.metadata:
            self.trigger_event(self.MetadataUpdated, patch=patch, mode=mode, **ctx.event_fields())

    def update_context(self, ctx: CommandContext, patch: dict[str, Any], mode: PatchMode) -> None:
        self._check_live()
        if Session.patched(self.context, patch, mode) != self.context:
            self.trigger_event(self.ContextUpdated, patch=patch, mode=mode, **ctx.event_fields())

    def clear_history(self, ctx: CommandContext) -> None:
        self._check_live()
        self.trigger_event(self.HistoryCleared, **ctx.event_fields())

    def delete(self, ctx: CommandContext) -> None:
        self._check_live()
        self.trigger_event(self.Deleted, **ctx.event_fields())

    @staticmethod
    def patched(current: dict[str, Any], patch: dict[str, Any], mode: PatchMode) -> dict[str, Any]:
        """`current` after a metadata or context patch in the given mode."""
        return merge_patch(current, patch) if mode == "merge" else dict(patch)

    def _check_live(self) -> None:
        if self.is_deleted:
            raise SessionDeletedError(self.id)


class SessionState(Immutable):
    """A session as of one version: frozen data for queries (no messages)."""

    id: UUID
    tenant_id: str
    title: str
    user_id: str | None
    agent_id: str | None
    situation: str
    context: dict[str, Any]
    metadata: dict[str, Any]
    render_templates: bool
    version: int
    message_count: int
    messages_total: int
    cleared_at_version: int
    is_deleted: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, session: Session) -> SessionState:
        return cls(
            id=session.id,
            tenant_id=session.tenant_id,
            title=session.title,
            user_id=session.user_id,
            agent_id=session.agent_id,
            situation=session.situation,
            context=session.context,
            metadata=session.metadata,
            render_templates=session.render_templates,
            version=session.version,
            message_count=session.message_count,
            messages_total=session.messages_total,
            cleared_at_version=session.cleared_at_version,
            is_deleted=session.is_deleted,
            created_at=session.created_on,
            updated_at=session.modified_on,
        )
