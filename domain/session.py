"""The Session aggregate and its events.

A session's stream is the truth; the aggregate keeps only what its decisions
need (tenant, title, situation, context, metadata, counters, status), never
the message list, so loading it and its snapshots cost the same at any length.
The history lives in the projections. Every event has an explicit, stable
topic (`chatledger.Session.*`), so modules can move without breaking stored
streams. Imports pydantic, eventsourcing and the domain only.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import Field

from domain.base import Aggregate, AttributedEvent, Immutable
from domain.content import ContentBlock
from domain.context import CommandContext
from domain.errors import InvalidInputError, SessionDeletedError
from domain.history_window import HistoryWindow
from domain.llm import ChatReply, ChatSettings
from domain.message import Message
from domain.patching import merge_patch
from domain.sealing import ERASED, ERASED_TEXT, Sealed

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
    """Exactly what formed a prompt: which messages, and the rendered instructions.

    A call that recalled the history records it as a `history` window (positions in the
    session's history at a version), so the record stays the same size as the
    conversation grows; `message_ids` then lists what was sent after it (the turn's
    input, a tool round's messages). Calls recorded before windows, and calls that did
    not recall the history, list every id. `Ledger.call_context` resolves either form
    to the messages themselves.
    """

    message_ids: list[str]
    """Ids of the messages sent after the `history` window, in order (all of them when
    there is no window)."""
    history: HistoryWindow | None = None
    """The history recalled: what of it was sent, excluded and summarised."""
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
    """History messages left out to fit the agent's context limit (besides `history`'s)."""
    summarized_message_ids: list[str] = Field(default_factory=list)
    """History messages a summary stood in for (besides `history`'s)."""
    summary_ids: list[str] = Field(default_factory=list)
    """The summaries sent (in the system text) instead of those messages."""


class SummaryRef(Immutable):
    """A summary in force: it stands in for the messages of versions [from, to]."""

    summary_id: str
    text: str
    from_version: int
    to_version: int


# What each event holds of a user's content (see `domain.sealing`): everything else stays
# in the clear. `tests/unit/test_sealed_fields.py` makes every event class declare it.
_STATE_SEALED = (Sealed({"title": ERASED, "situation": ERASED, "context": {}, "metadata": {}}),)
_MANIFEST_PLACEHOLDERS: dict[str, Any] = {
    "manifest.situation": ERASED,
    "manifest.instructions": ERASED,
    "manifest.system": ERASED,
    "input_messages": None,
    "request_hash": None,  # a digest of the input: it could confirm a guess of it
}
_REPLY_PLACEHOLDERS: dict[str, Any] = {
    "reply.candidates": [{"index": 0, "content": ERASED_TEXT}],
    "reply.provider_details": {},
}
MESSAGE_SEALED = Sealed(
    {
        "message.content": ERASED_TEXT,
        "message.name": None,
        "message.metadata": {},
        "message.origin": None,
    },
    key="message.id",
)
"""A message's content, name, metadata and origin, under the message's own key."""


class Session(Aggregate):
    """A conversation bound to a user and an agent."""

    TOPIC: ClassVar[str] = "chatledger.Session"
    snapshot_sealed: ClassVar[tuple[Sealed, ...]] = (
        Sealed(
            {
                "state.title": ERASED,
                "state.situation": ERASED,
                "state.context": {},
                "state.metadata": {},
                "state.summaries": [],
            }
        ),
    )
    """What a snapshot holds of the user's content."""

    class Event(AttributedEvent):
        """Base of session events: who, for which tenant, under which request."""

        sealed: ClassVar[tuple[Sealed, ...]] = ()
        """The user's content this event holds, sealed when stored (`domain.sealing`)."""

    class Created(Event, Aggregate.Created):
        """A new session, with its whole initial state."""

        TOPIC: ClassVar[str] = "chatledger.Session.Created"
        sealed: ClassVar[tuple[Sealed, ...]] = _STATE_SEALED
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
        sealed: ClassVar[tuple[Sealed, ...]] = _STATE_SEALED
        source_id: str
        source_version: int
        source_cleared_at_version: int
        inherited_messages: int
        is_copy: bool = False
        """True for a copy (a fork at the source's head)."""

    class Merged(Created):
        """First event of a merge target: its sources at their versions, and the policy."""

        TOPIC: ClassVar[str] = "chatledger.Session.Merged"
        sealed: ClassVar[tuple[Sealed, ...]] = _STATE_SEALED
        sources: list[MergeSource]
        policy: MergePolicy
        inherited_messages: int

    class MergedInto(Event):
        """Appended to each merge source, naming the target (in the merge's transaction)."""

        TOPIC: ClassVar[str] = "chatledger.Session.MergedInto"
        sealed: ClassVar[tuple[Sealed, ...]] = ()
        target_id: str

        def apply(self, aggregate: Session) -> None:
            aggregate.merged_into = [*aggregate.merged_into, self.target_id]  # type: ignore[misc]

    class Summarized(Event):
        """A summary standing in for a range of messages in the model's context.

        The originals stay in the history and the log; prompts send the summary instead.
        """

        TOPIC: ClassVar[str] = "chatledger.Session.Summarized"
        sealed: ClassVar[tuple[Sealed, ...]] = (Sealed({"text": ERASED}),)
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
        applies_without_content: ClassVar[bool] = True
        sealed: ClassVar[tuple[Sealed, ...]] = (MESSAGE_SEALED,)
        message: Message

        def apply(self, aggregate: Session) -> None:
            aggregate.message_count += 1
            aggregate.messages_total += 1

    class SituationUpdated(Event):
        TOPIC: ClassVar[str] = "chatledger.Session.SituationUpdated"
        sealed: ClassVar[tuple[Sealed, ...]] = (Sealed({"situation": ERASED}),)
        situation: str

        def apply(self, aggregate: Session) -> None:
            aggregate.situation = self.situation

    class TitleChanged(Event):
        TOPIC: ClassVar[str] = "chatledger.Session.TitleChanged"
        sealed: ClassVar[tuple[Sealed, ...]] = (Sealed({"title": ERASED}),)
        title: str

        def apply(self, aggregate: Session) -> None:
            aggregate.title = self.title

    class MetadataUpdated(Event):
        """Records the patch and whether it merged or overwrote."""

        TOPIC: ClassVar[str] = "chatledger.Session.MetadataUpdated"
        sealed: ClassVar[tuple[Sealed, ...]] = (Sealed({"patch": {}}),)
        patch: dict[str, Any]
        mode: PatchMode

        def apply(self, aggregate: Session) -> None:
            aggregate.metadata = Session.patched(aggregate.metadata, self.patch, self.mode)

    class ContextUpdated(Event):
        TOPIC: ClassVar[str] = "chatledger.Session.ContextUpdated"
        sealed: ClassVar[tuple[Sealed, ...]] = (Sealed({"patch": {}}),)
        patch: dict[str, Any]
        mode: PatchMode

        def apply(self, aggregate: Session) -> None:
            aggregate.context = Session.patched(aggregate.context, self.patch, self.mode)

    class HistoryCleared(Event):
        """The model-facing history is emptied; time travel still reaches it."""

        TOPIC: ClassVar[str] = "chatledger.Session.HistoryCleared"
        sealed: ClassVar[tuple[Sealed, ...]] = ()

        def apply(self, aggregate: Session) -> None:
            aggregate.message_count = 0
            aggregate.cleared_at_version = self.originator_version
            aggregate.summaries = []  # type: ignore[misc]

    class CompletionRecorded(Event):
        """One LLM call and what went into it (the context manifest) and came out."""

        TOPIC: ClassVar[str] = "chatledger.Session.CompletionRecorded"
        applies_without_content: ClassVar[bool] = True
        sealed: ClassVar[tuple[Sealed, ...]] = (
            Sealed(_MANIFEST_PLACEHOLDERS),
            Sealed(_REPLY_PLACEHOLDERS, key="reply_message_id"),
        )
        """The reply is sealed under its message's key, so redacting the message covers it."""
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
        reply_message_id: str | None = None
        """The history message holding the reply (None when not remembered)."""

        def apply(self, aggregate: Session) -> None:
            aggregate.completions_total += 1

    class CompletionFailed(Event):
        """An LLM call that failed or was cut off, with the output that reached the client."""

        TOPIC: ClassVar[str] = "chatledger.Session.CompletionFailed"
        applies_without_content: ClassVar[bool] = True
        sealed: ClassVar[tuple[Sealed, ...]] = (
            Sealed(_MANIFEST_PLACEHOLDERS | {"error_message": ERASED, "partial": []}),
        )
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
        applies_without_content: ClassVar[bool] = True
        sealed: ClassVar[tuple[Sealed, ...]] = (Sealed({"suggestions": []}),)
        completion_id: str
        suggestions: list[str]

    class Deleted(Event):
        """Soft delete: hidden from lists and chat, kept in the log."""

        TOPIC: ClassVar[str] = "chatledger.Session.Deleted"
        sealed: ClassVar[tuple[Sealed, ...]] = ()

        def apply(self, aggregate: Session) -> None:
            aggregate.is_deleted = True

    class ContentErased(Event):
        """The session's keys were destroyed: its content reads as placeholders from now on.

        Holds no content: who and when (the envelope) and a reason code. Implies deletion.
        """

        TOPIC: ClassVar[str] = "chatledger.Session.ContentErased"
        sealed: ClassVar[tuple[Sealed, ...]] = ()
        reason: str

        def apply(self, aggregate: Session) -> None:
            aggregate.is_deleted = True
            aggregate.is_erased = True
            aggregate.title = aggregate.situation = ERASED
            aggregate.context, aggregate.metadata = {}, {}
            aggregate.summaries = []  # type: ignore[misc]

    class MessageRedacted(Event):
        """One message's key was destroyed (moderation): it reads as a placeholder from now on."""

        TOPIC: ClassVar[str] = "chatledger.Session.MessageRedacted"
        sealed: ClassVar[tuple[Sealed, ...]] = ()
        message_id: str
        reason: str

        def apply(self, aggregate: Session) -> None:
            aggregate.redacted_message_ids = [  # type: ignore[misc]
                *aggregate.redacted_message_ids,
                self.message_id,
            ]

    # Defaults for state added since the first release: older snapshots lack it. The lists
    # are replaced, never changed in place, so sharing these defaults is safe.
    completions_total = 0
    summaries_total = 0
    is_erased = False
    summaries: ClassVar[list[dict[str, Any]]] = []
    merged_into: ClassVar[list[str]] = []
    redacted_message_ids: ClassVar[list[str]] = []
    """Ids whose key was destroyed: a message's content is sealed under a key named by its
    id, so a redacted id is never used again (its old content must stay unreadable)."""

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
        check_not_redacted(message, self.redacted_message_ids, "message.id")
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

    def erase(self, ctx: CommandContext, reason: str) -> None:
        """Destroy the session's content (deleted sessions too); erasing twice changes nothing."""
        if not self.is_erased:
            self.trigger_event(self.ContentErased, reason=reason, **ctx.event_fields())

    def redact_message(self, ctx: CommandContext, message_id: str, reason: str) -> None:
        """Destroy one message's content (deleted sessions too; erased ones have none left)."""
        if not self.is_erased:
            self.trigger_event(
                self.MessageRedacted, message_id=message_id, reason=reason, **ctx.event_fields()
            )

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
    is_erased: bool = False
    created_at: datetime
    updated_at: datetime
    summaries: list[SummaryRef] = Field(default_factory=list)
    redacted_message_ids: frozenset[str] = frozenset()

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
            is_erased=session.is_erased,
            created_at=session.created_on,
            updated_at=session.modified_on,
            summaries=[SummaryRef.model_validate(s) for s in session.summaries],
            redacted_message_ids=frozenset(session.redacted_message_ids),
        )


def check_not_redacted(message: Message, redacted: Collection[str], field: str) -> None:
    """Refuse a message that reuses a redacted id: its old content must stay unreadable."""
    if message.id is not None and message.id in redacted:
        raise InvalidInputError(
            field, f"message {message.id!r} was redacted: a new message needs a new id"
        )


def session_event_classes() -> list[type[Session.Event]]:
    """Every concrete event class of a session's stream."""
    return [
        value
        for value in vars(Session).values()
        if isinstance(value, type) and issubclass(value, Session.Event) and "TOPIC" in vars(value)
    ]
