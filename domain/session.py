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

from pydantic import Field

from domain.base import Aggregate, AttributedEvent, Immutable
from domain.content import ContentBlock
from domain.context import CommandContext
from domain.errors import SessionDeletedError
from domain.llm import ChatReply, ChatSettings
from domain.message import Message
from domain.patching import merge_patch

PatchMode = Literal["merge", "overwrite"]
MergePolicy = Literal["concatenate", "interleave"]
"""`concatenate`: each source's history in the order given; `interleave`: all by time."""


class MergeSource(Immutable):
    """One session merged into another, at the version it had then."""

    session_id: str
    version: int
    cleared_at_version: int
    messages: int


class ContextManifest(Immutable):
    """Exactly what formed a prompt: which messages, and the rendered instructions."""

    message_ids: list[str]
    """Ids of the history messages sent, in order (the turn's input included)."""
    input_message_ids: list[str] = Field(default_factory=list)
    """Ids of this turn's new input messages (empty when not remembered)."""
    situation: str | None = None
    """The session's situation as rendered for this call."""
    instructions: str | None = None
    """The agent's instructions as rendered for this call."""
    system: str | None = None
    """The system text sent (situation and instructions together)."""
    tools: list[str] = Field(default_factory=list)
    excluded_message_ids: list[str] = Field(default_factory=list)
    """History messages left out to fit the agent's context limit."""
    summarized_message_ids: list[str] = Field(default_factory=list)
    """History messages a summary stood in for."""
    summary_ids: list[str] = Field(default_factory=list)
    """The summaries sent (in the system text) instead of those messages."""


class SummaryRef(Immutable):
    """A summary in force: it stands in for the messages of versions [from, to]."""

    summary_id: str
    text: str
    from_version: int
    to_version: int


class Session(Aggregate):
    """A conversation bound to a user and an agent."""

    TOPIC: ClassVar[str] = "chatledger.Session"

    class Event(AttributedEvent):
        """Base of session events: who, for which tenant, under which request."""

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

    class Forked(Created):
        """First event of a fork (or a copy): the source's state at `source_version`.

        The source's messages up to that version are not rewritten here: the history
        reads them from the source (`source_cleared_at_version`, `source_version`].
        """

        TOPIC: ClassVar[str] = "chatledger.Session.Forked"
        source_id: str
        source_version: int
        source_cleared_at_version: int
        inherited_messages: int
        is_copy: bool = False
        """True for a copy (a fork at the source's head)."""

    class Merged(Created):
        """First event of a merge target: its sources at their versions, and the policy."""

        TOPIC: ClassVar[str] = "chatledger.Session.Merged"
        sources: list[MergeSource]
        policy: MergePolicy
        inherited_messages: int

    class MergedInto(Event):
        """Appended to each merge source, naming the target (in the merge's transaction)."""

        TOPIC: ClassVar[str] = "chatledger.Session.MergedInto"
        target_id: str

        def apply(self, aggregate: Session) -> None:
            aggregate.merged_into = [*aggregate.merged_into, self.target_id]  # type: ignore[misc]

    class Summarized(Event):
        """A summary standing in for a range of messages in the model's context.

        The originals stay in the history and the log; prompts send the summary instead.
        """

        TOPIC: ClassVar[str] = "chatledger.Session.Summarized"
        summary_id: str
        text: str
        message_ids: list[str]
        """The messages the summary stands in for, in order."""
        from_version: int
        to_version: int
        completion_id: str | None = None
        """The model call that wrote it, when a model did."""

        def apply(self, aggregate: Session) -> None:
            aggregate.summaries_total += 1
            aggregate.summaries = [  # type: ignore[misc]
                *aggregate.summaries,
                {
                    "summary_id": self.summary_id,
                    "text": self.text,
                    "from_version": self.from_version,
                    "to_version": self.to_version,
                },
            ]

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
            aggregate.summaries = []  # type: ignore[misc]

    class CompletionRecorded(Event):
        """One LLM call and what went into it (the context manifest) and came out."""

        TOPIC: ClassVar[str] = "chatledger.Session.CompletionRecorded"
        completion_id: str
        provider: str
        model: str
        agent_id: str | None = None
        settings: ChatSettings
        manifest: ContextManifest
        reply: ChatReply
        latency_ms: float
        time_to_first_token_ms: float | None = None
        streamed: bool = False
        remember: bool = True
        input_messages: list[Message] | None = None
        """The turn's input when it was not remembered (kept out of the history)."""
        idempotency_key: str | None = None
        request_hash: str | None = None

        def apply(self, aggregate: Session) -> None:
            aggregate.completions_total += 1

    class CompletionFailed(Event):
        """An LLM call that failed or was cut off, with the output that reached the client."""

        TOPIC: ClassVar[str] = "chatledger.Session.CompletionFailed"
        completion_id: str
        provider: str
        model: str
        agent_id: str | None = None
        settings: ChatSettings
        manifest: ContextManifest
        error_type: str
        error_message: str
        partial: list[ContentBlock] = Field(default_factory=list)
        attempts: int = 1
        latency_ms: float
        streamed: bool = False
        call_trace_id: str | None = None
        """The failed call's trace id (the envelope's `trace_id` is the request's)."""
        call_span_id: str | None = None
        input_messages: list[Message] | None = None
        idempotency_key: str | None = None
        request_hash: str | None = None

    class SuggestionsRecorded(Event):
        """Follow-up suggestions the model offered after a completion."""

        TOPIC: ClassVar[str] = "chatledger.Session.SuggestionsRecorded"
        completion_id: str
        suggestions: list[str]

    class Deleted(Event):
        """Soft delete: hidden from lists and chat, kept in the log."""

        TOPIC: ClassVar[str] = "chatledger.Session.Deleted"

        def apply(self, aggregate: Session) -> None:
            aggregate.is_deleted = True

    # Defaults for state added since the first release: older snapshots lack it. The lists
    # are replaced, never changed in place, so sharing these defaults is safe.
    completions_total = 0
    summaries_total = 0
    summaries: ClassVar[list[dict[str, Any]]] = []
    merged_into: ClassVar[list[str]] = []

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
        inherited_messages: int = 0,
    ) -> None:
        self.tenant_id = tenant_id
        self.title = title
        self.user_id = user_id
        self.agent_id = agent_id
        self.situation = situation
        self.context = dict(context)
        self.metadata = dict(metadata)
        self.render_templates = render_templates
        self.message_count = inherited_messages
        """Messages in the model-facing history (since the last clear)."""
        self.messages_total = inherited_messages
        """Messages ever in the history (inherited by a fork or merge included)."""
        self.cleared_at_version = 0
        """Version of the last `HistoryCleared`, 0 if never cleared."""
        self.is_deleted = False
        self.completions_total = 0
        self.summaries_total = 0
        self.summaries = []  # type: ignore[misc]  # in force since the last clear
        self.merged_into = []  # type: ignore[misc]

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

    def record_completion(self, ctx: CommandContext, **fields: Any) -> None:
        """Record one model call (fields as `Session.CompletionRecorded`)."""
        self._check_live()
        self.trigger_event(self.CompletionRecorded, **fields, **ctx.event_fields())

    def record_failure(self, ctx: CommandContext, **fields: Any) -> None:
        """Record a failed model call (fields as `Session.CompletionFailed`)."""
        self._check_live()
        self.trigger_event(self.CompletionFailed, **fields, **ctx.event_fields())

    def record_suggestions(
        self, ctx: CommandContext, completion_id: str, suggestions: list[str]
    ) -> None:
        self._check_live()
        self.trigger_event(
            self.SuggestionsRecorded,
            completion_id=completion_id,
            suggestions=suggestions,
            **ctx.event_fields(),
        )

    def summarize(
        self,
        ctx: CommandContext,
        *,
        summary_id: str,
        text: str,
        message_ids: list[str],
        from_version: int,
        to_version: int,
        completion_id: str | None = None,
    ) -> None:
        """Record a summary standing in for the messages of versions [from, to]."""
        self._check_live()
        self.trigger_event(
            self.Summarized,
            summary_id=summary_id,
            text=text,
            message_ids=message_ids,
            from_version=from_version,
            to_version=to_version,
            completion_id=completion_id,
            **ctx.event_fields(),
        )

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
    summaries: list[SummaryRef] = Field(default_factory=list)

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
            summaries=[SummaryRef.model_validate(s) for s in session.summaries],
        )


def session_event_classes() -> list[type[Session.Event]]:
    """Every concrete event class of a session's stream."""
    return [
        value
        for value in vars(Session).values()
        if isinstance(value, type) and issubclass(value, Session.Event) and "TOPIC" in vars(value)
    ]
