"""A turn, decided: which prompt to send, then which events record what came back.

`prepare_turn` builds the model request from the session, its agent, the
recalled history and the new input: instructions and situation rendered
(sandboxed, when the session asks for templates), settings merged (per-call
over agent defaults), tools combined, and the context manifest that says
exactly what went in. `TurnCommands` (mixed into `Engine`) records a turn's
outcome in one transaction: the input and reply messages around a
`CompletionRecorded`, or a `CompletionFailed` holding the input and the partial
output. Calling the model is the adapters' job; this module does no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple
from uuid import UUID, uuid4

from pydantic import Field as ModelField

from domain.agent import AgentState
from domain.base import Immutable
from domain.content import ContentBlock
from domain.context import CommandContext
from domain.errors import EmptyMessageError, InvalidInputError
from domain.history_window import HistoryWindow, spans
from domain.llm import ChatReply, ChatRequest, ChatSettings, ToolDefinition
from domain.message import Message
from domain.ports import TemplateRenderer
from domain.session import ContextManifest, Session, SessionState, check_not_redacted
from domain.session_changes import SessionChanges
from domain.validation import check_json, check_text

if TYPE_CHECKING:
    from domain.engine import CommandResult


class TurnInput(Immutable):
    """What the caller brings to a turn."""

    messages: list[Message] = ModelField(default_factory=list)
    """New input: a user message, or tool results answering the last reply's tool calls."""
    settings: ChatSettings = ModelField(default_factory=ChatSettings)
    """Per-call settings; they override the agent's defaults."""
    tools: list[ToolDefinition] = ModelField(default_factory=list)
    """Tools offered on this call, besides (or replacing, by name) the agent's."""
    provider: str | None = None
    remember: bool = True
    """False: keep the input and reply out of the history (the completion is still recorded)."""
    recall: bool = True
    """False: send only the new input, not the history."""
    variables: dict[str, Any] = ModelField(default_factory=dict)
    """Extra template variables (strings or JSON) for the situation and instructions."""
    extra_content: list[ContentBlock] = ModelField(default_factory=list)
    """Blocks appended to the (last) input message, e.g. from typed session data."""


@dataclass(frozen=True)
class PreparedTurn:
    """A decided prompt: the request to send and what to record about it."""

    provider: str
    request: ChatRequest
    manifest: ContextManifest
    input_messages: list[Message]
    agent_id: str | None
    remember: bool
    to_summarize: list[Recalled] = field(default_factory=list)
    """Messages over the context limit that the agent wants summarised (oldest first)."""

    def call_fields(self) -> dict[str, Any]:
        """What the record of this call, completed or failed, says about its request."""
        return {
            "provider": self.provider,
            "model": self.request.model,
            "agent_id": self.agent_id,
            "settings": self.request.settings,
            "manifest": self.manifest,
        }


class Recalled(NamedTuple):
    """A history message with the version that recorded it (summaries cover versions)."""

    version: int
    message: Message


def estimate_tokens(text: str) -> int:
    """A provider-neutral token estimate: about four characters a token."""
    return (len(text) + 3) // 4


def _message_tokens(message: Message) -> int:
    return 4 + estimate_tokens(message.model_dump_json(include={"content"}))


def prepare_turn(
    session: SessionState,
    agent: AgentState | None,
    history: Sequence[Recalled],
    turn: TurnInput,
    *,
    renderer: TemplateRenderer,
    default_provider: str,
    default_model: str,
) -> PreparedTurn:
    """The request a turn sends, and its manifest.

    `history` is the session's history at `session.version` (the messages after its last
    clear, oldest first): the manifest records what was sent of it by position.
    """
    inputs = [m if m.id else m.model_copy(update={"id": uuid4().hex}) for m in turn.messages]
    if turn.extra_content:
        if not inputs:
            raise EmptyMessageError("message")
        last = inputs[-1]
        inputs[-1] = last.model_copy(update={"content": [*last.content, *turn.extra_content]})
    for index, message in enumerate(inputs):
        if not message.content:
            raise EmptyMessageError(f"messages[{index}].content")
        check_not_redacted(message, session.redacted_message_ids, f"messages[{index}].id")
        check_json(message.model_dump(mode="json", exclude_none=True), f"messages[{index}]")
    check_json(turn.variables, "variables")
    history = list(history) if turn.recall else []
    summaries = [
        s
        for s in session.summaries
        if any(s.from_version <= r.version <= s.to_version for r in history)
    ]
    covered_at = [
        i
        for i, r in enumerate(history)
        if any(s.from_version <= r.version <= s.to_version for s in summaries)
    ]
    covered = set(covered_at)
    kept_at = [i for i in range(len(history)) if i not in covered]
    if not kept_at and not inputs and not summaries:
        raise InvalidInputError("message", "a turn needs a message when there is no history")

    variables = {
        "context": session.context,
        "metadata": session.metadata,
        "user": session.user_id,
        "session": {"id": str(session.id), "title": session.title},
        "agent": _agent_variables(agent),
        **turn.variables,
    }
    situation = _rendered(session.situation, "situation", session, renderer, variables)
    instructions = _rendered(
        agent.instructions if agent else "", "instructions", session, renderer, variables
    )
    summary = "\n\n".join(s.text for s in summaries)
    summary_part = f"Summary of the earlier conversation:\n{summary}" if summary else ""
    system = "\n\n".join(p for p in (instructions, situation, summary_part) if p) or None

    limit = agent.context_limit if agent else None
    dropped = 0
    if limit is not None:
        budget = limit - estimate_tokens(system or "") - sum(_message_tokens(m) for m in inputs)
        used = sum(_message_tokens(history[i].message) for i in kept_at)
        while dropped < len(kept_at) and used > budget:
            used -= _message_tokens(history[kept_at[dropped]].message)
            dropped += 1
    excluded_at, kept_at = kept_at[:dropped], kept_at[dropped:]
    excluded = [history[i] for i in excluded_at]

    settings = turn.settings.over(agent.settings) if agent else turn.settings
    model = settings.model or (agent.model if agent else None) or default_model
    tools = {tool.name: tool for tool in (agent.tools if agent else [])}
    tools.update({tool.name: tool for tool in turn.tools})
    messages = [*(history[i].message for i in kept_at), *inputs]
    request = ChatRequest(
        model=model,
        system=system,
        messages=messages,
        tools=list(tools.values()),
        settings=settings.model_copy(update={"model": model}),
        conversation_id=str(session.id),
    )
    window = (
        HistoryWindow(
            version=session.version,
            length=len(history),
            sent=spans(kept_at),
            excluded=spans(excluded_at),
            summarized=spans(covered_at),
        )
        if turn.recall
        else None
    )
    manifest = ContextManifest(
        message_ids=[m.id or "" for m in inputs],
        history=window,
        input_message_ids=[m.id or "" for m in inputs] if turn.remember else [],
        situation=situation or None,
        instructions=instructions or None,
        system=system,
        tools=list(tools),
        summary_ids=[s.summary_id for s in summaries],
    )
    return PreparedTurn(
        provider=turn.provider
        or (agent.provider if agent and agent.provider else default_provider),
        request=request,
        manifest=manifest,
        input_messages=inputs,
        agent_id=str(agent.id) if agent else None,
        remember=turn.remember,
        to_summarize=excluded if agent and agent.context_policy == "summarize" else [],
    )


def _rendered(
    template: str,
    field: str,
    session: SessionState,
    renderer: TemplateRenderer,
    variables: dict[str, Any],
) -> str:
    if not template or not session.render_templates:
        return template
    return renderer.render(template, variables, field=field)


def _agent_variables(agent: AgentState | None) -> dict[str, Any] | None:
    if agent is None:
        return None
    return {
        "id": str(agent.id),
        "name": agent.name,
        "provider": agent.provider,
        "model": agent.model,
        "metadata": agent.metadata,
    }


class TurnCommands(SessionChanges):
    """Record the outcome of a turn (mixed into `Engine`)."""

    def record_turn(
        self,
        ctx: CommandContext,
        session_id: UUID,
        prepared: PreparedTurn,
        reply: ChatReply,
        *,
        completion_id: str,
        latency_ms: float,
        time_to_first_token_ms: float | None = None,
        streamed: bool = False,
        idempotency_key: str | None = None,
        request_hash: str | None = None,
        reply_message_id: str | None = None,
    ) -> CommandResult:
        """Input messages, `CompletionRecorded` and the reply, atomically (per `remember`)."""
        reply_message = reply.message().model_copy(update={"id": reply_message_id or uuid4().hex})
        remembered_reply = prepared.remember and bool(reply_message.content)

        def decide(session: Session) -> None:
            if prepared.remember:
                for message in prepared.input_messages:
                    session.append_message(ctx, message)
            session.record_completion(
                ctx,
                completion_id=completion_id,
                **prepared.call_fields(),
                reply=reply,
                latency_ms=latency_ms,
                time_to_first_token_ms=time_to_first_token_ms,
                streamed=streamed,
                remember=prepared.remember,
                input_messages=None if prepared.remember else prepared.input_messages,
                idempotency_key=idempotency_key,
                request_hash=request_hash,
                reply_message_id=reply_message.id if remembered_reply else None,
            )
            if remembered_reply:
                session.append_message(ctx, reply_message)

        return self._change(ctx, session_id, decide, expected_version=None)

    def record_failed_turn(
        self,
        ctx: CommandContext,
        session_id: UUID,
        prepared: PreparedTurn,
        *,
        completion_id: str,
        error_type: str,
        error_message: str,
        partial: list[ContentBlock],
        attempts: int,
        latency_ms: float,
        streamed: bool = False,
        call_trace_id: str | None = None,
        call_span_id: str | None = None,
        idempotency_key: str | None = None,
        request_hash: str | None = None,
    ) -> CommandResult:
        """`CompletionFailed`, keeping the input (out of the history) and the partial output."""

        def decide(session: Session) -> None:
            session.record_failure(
                ctx,
                completion_id=completion_id,
                **prepared.call_fields(),
                error_type=error_type,
                error_message=error_message,
                partial=partial,
                attempts=attempts,
                latency_ms=latency_ms,
                streamed=streamed,
                call_trace_id=call_trace_id,
                call_span_id=call_span_id,
                input_messages=prepared.input_messages,
                idempotency_key=idempotency_key,
                request_hash=request_hash,
            )

        return self._change(ctx, session_id, decide, expected_version=None)

    def record_summary(
        self,
        ctx: CommandContext,
        session_id: UUID,
        *,
        text: str,
        covered: Sequence[Recalled],
        completion_id: str | None = None,
    ) -> CommandResult:
        """`Summarized`: `text` stands in for the `covered` messages in later prompts."""
        if not covered:
            raise InvalidInputError("messages", "a summary needs messages to stand in for")
        check_text(text, "text")
        versions = [item.version for item in covered]

        def decide(session: Session) -> None:
            session.summarize(
                ctx,
                summary_id=uuid4().hex,
                text=text,
                message_ids=[item.message.id or "" for item in covered],
                from_version=min(versions),
                to_version=max(versions),
                completion_id=completion_id,
            )

        return self._change(ctx, session_id, decide, expected_version=None)

    def record_suggestions(
        self, ctx: CommandContext, session_id: UUID, completion_id: str, suggestions: list[str]
    ) -> CommandResult:
        check_json(suggestions, "suggestions")
        return self._change(
            ctx,
            session_id,
            lambda s: s.record_suggestions(ctx, completion_id, suggestions),
            expected_version=None,
        )
