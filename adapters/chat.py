"""The turn, run: recall, prompt, call the model, stream, run tools, record.

`ChatService.start` checks everything that can be refused before a byte is
streamed (session, agent, provider, templates, idempotency), then runs the turn
in its own task and hands back a `TurnHandle`: `events()` for SSE, `result()`
for a plain answer. The task does not belong to the request, so a client that
disconnects mid-stream does not lose the turn: it finishes and is recorded. A
provider that fails records `CompletionFailed` with exactly the text already
streamed. Each provider call is traced (child spans of an `invoke_agent` span).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

import anyio
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode, TracerProvider

from adapters.chat_events import (
    ContentEvent,
    DoneEvent,
    ErrorEvent,
    ExecutionEvent,
    ThinkingEvent,
    TokenUsage,
    ToolEndEvent,
    ToolStartEvent,
    TurnResult,
)
from adapters.llm.registry import ModelRegistry
from adapters.llm.wire import WIRE_PROVIDERS, build_invocation
from adapters.tools import ToolBox, summary_of
from domain.agent import AgentState
from domain.content import TextBlock, ThinkingBlock, ToolCallBlock
from domain.context import CommandContext
from domain.errors import AgentNotFoundError, InvalidInputError, ProviderError
from domain.llm import ChatReply, ChatSettings, PartDelta, PartStarted, fold_deltas
from domain.message import Message
from domain.ports import ChatModel, TemplateRenderer
from domain.session import Session, SessionState
from domain.turns import PreparedTurn, Recalled, TurnInput, prepare_turn
from projections.history import HistoryQuery

if TYPE_CHECKING:
    from adapters.ledger import Ledger

log = logging.getLogger(__name__)

SUMMARY_PROMPT = (
    "Summarise the conversation below for someone who must continue it: keep names, facts,"
    " decisions and open questions. Answer with the summary only."
)
SUGGESTIONS_PROMPT = (
    "Suggest up to three short follow-up messages the user might send next."
    " Answer with a JSON array of strings and nothing else."
)


def request_hash(turn: TurnInput, *, suggestions: bool) -> str:
    """A fingerprint of what was asked, to tell a retried request from a different one."""
    payload = turn.model_dump(mode="json") | {"suggestions": suggestions}
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class TurnHandle:
    """A running turn: its events as they happen, and its result."""

    execution_id: str
    queue: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[TurnResult] | None = None

    async def events(self) -> AsyncIterator[Any]:
        """Every event, `execution` first and `done` or `error` last."""
        while True:
            event = await self.queue.get()
            yield event
            if isinstance(event, DoneEvent | ErrorEvent):
                return

    async def result(self) -> TurnResult:
        """The turn's result (raises the provider's error when it failed)."""
        assert self.task is not None
        return await asyncio.shield(self.task)


@dataclass
class _Round:
    """One model call's streaming state."""

    deltas: list[Any] = field(default_factory=list)
    streamed_text: list[str] = field(default_factory=list)
    kinds: dict[int, str] = field(default_factory=dict)
    first_token_at: float | None = None


class ChatService:
    """Runs turns for a ledger."""

    def __init__(
        self,
        ledger: Ledger,
        models: ModelRegistry,
        *,
        renderer: TemplateRenderer,
        toolbox: ToolBox,
        tracer_provider: TracerProvider | None = None,
        max_tool_rounds: int = 5,
    ) -> None:
        self.ledger = ledger
        self.models = models
        self.renderer = renderer
        self.toolbox = toolbox
        self.tracer = trace.get_tracer("chatledger.turns", tracer_provider=tracer_provider)
        self.max_tool_rounds = max_tool_rounds
        self._running: set[asyncio.Task[TurnResult]] = set()
        self._inflight: dict[tuple[str, str, str | None], asyncio.Task[TurnResult]] = {}

    async def start(
        self,
        ctx: CommandContext,
        session_id: str | UUID,
        turn: TurnInput,
        *,
        idempotency_key: str | None = None,
        suggestions: bool = False,
    ) -> TurnHandle:
        """Check the turn and start it; refusals (404, 410, 422 …) raise here, before streaming."""
        digest = request_hash(turn, suggestions=suggestions)
        handle = TurnHandle(execution_id=uuid4().hex)
        inflight = (ctx.tenant_id, str(session_id), idempotency_key)
        if idempotency_key is not None and inflight in self._inflight:
            # The same key is being answered right now: wait, then answer from the record.
            with contextlib.suppress(Exception):
                await asyncio.shield(self._inflight[inflight])
        stored = await anyio.to_thread.run_sync(
            self._stored_result, ctx, session_id, idempotency_key, digest
        )
        if stored is not None:
            handle.queue.put_nowait(
                ExecutionEvent(execution_id=handle.execution_id, session_id=stored.session_id)
            )
            if stored.output:
                handle.queue.put_nowait(ContentEvent(content=stored.output))
            handle.queue.put_nowait(DoneEvent(**stored.model_dump()))
            handle.task = asyncio.get_running_loop().create_future()  # type: ignore[assignment]
            handle.task.set_result(stored)  # type: ignore[union-attr]
            return handle
        session, prepared = await anyio.to_thread.run_sync(self._prepare, ctx, session_id, turn)
        model = self.models.get(prepared.provider)
        if prepared.to_summarize:
            # Over the agent's context limit with the `summarize` policy: summarise the
            # oldest messages once (recorded), then prepare again with the summary in force.
            await self.summarize(ctx, session.id, prepared.to_summarize, model=model, like=prepared)
            session, prepared = await anyio.to_thread.run_sync(self._prepare, ctx, session_id, turn)
        task = asyncio.create_task(
            self._run(handle, ctx, session, prepared, model, idempotency_key, digest, suggestions)
        )
        self._running.add(task)
        task.add_done_callback(self._finished)
        if idempotency_key is not None:
            self._inflight[inflight] = task
            task.add_done_callback(lambda _: self._inflight.pop(inflight, None))
        handle.task = task
        return handle

    async def chat(
        self, ctx: CommandContext, session_id: str | UUID, turn: TurnInput, **options: Any
    ) -> TurnResult:
        """Run a turn to its end."""
        handle = await self.start(ctx, session_id, turn, **options)
        return await handle.result()

    def _finished(self, task: asyncio.Task[TurnResult]) -> None:
        self._running.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: a failure was recorded and reported as an event

    def _prepare(
        self,
        ctx: CommandContext,
        session_id: str | UUID,
        turn: TurnInput,
        *,
        check_provider: bool = True,
    ) -> tuple[SessionState, PreparedTurn]:
        session = self.ledger.get_session(ctx.tenant_id, session_id)
        agent: AgentState | None = None
        if session.agent_id:
            try:
                agent = self.ledger.get_agent(ctx.tenant_id, session.agent_id)
            except AgentNotFoundError:
                agent = None  # an agent managed elsewhere: the session only names it
        history = (
            self.ledger.history.list_messages(
                HistoryQuery(
                    tenant_id=ctx.tenant_id,
                    session_id=str(session.id),
                    after_version=session.cleared_at_version,
                    limit=None,
                )
            ).data
            if turn.recall
            else []
        )
        turn = turn.model_copy(update={"tools": [*self.toolbox.definitions(), *turn.tools]})
        provider = turn.provider or (agent.provider if agent and agent.provider else None)
        provider = provider or self.models.default_provider
        prepared = prepare_turn(
            session,
            agent,
            [Recalled(entry.version, entry.message) for entry in history],
            turn,
            renderer=self.renderer,
            default_provider=provider,
            default_model=self.models.default_model(provider),
        )
        if check_provider:
            self.models.check(prepared.provider)
            if prepared.provider in WIRE_PROVIDERS:
                # Content the provider's API cannot take is refused now, before streaming.
                build_invocation(prepared.provider, prepared.request)
        return session, prepared

    async def _run(
        self,
        handle: TurnHandle,
        ctx: CommandContext,
        session: SessionState,
        prepared: PreparedTurn,
        model: ChatModel,
        idempotency_key: str | None,
        digest: str,
        suggestions: bool,
    ) -> TurnResult:
        """The turn, ending its event stream with `error` whatever goes wrong."""
        try:
            return await self._turn(
                handle, ctx, session, prepared, model, idempotency_key, digest, suggestions
            )
        except ProviderError:
            raise  # recorded as CompletionFailed, and reported, by `_call`
        except Exception as error:  # the task's edge: the stream must end, the error surface
            log.exception("turn %s failed", handle.execution_id)
            handle.queue.put_nowait(
                ErrorEvent(message=f"the turn failed: {type(error).__name__}", type="internal")
            )
            raise

    async def _turn(
        self,
        handle: TurnHandle,
        ctx: CommandContext,
        session: SessionState,
        prepared: PreparedTurn,
        model: ChatModel,
        idempotency_key: str | None,
        digest: str,
        suggestions: bool,
    ) -> TurnResult:
        started = time.monotonic()
        emit = handle.queue.put_nowait
        name = f"invoke_agent {prepared.agent_id or 'chatledger'}"
        with self.tracer.start_as_current_span(name, kind=SpanKind.INTERNAL) as span:
            span.set_attribute("gen_ai.operation.name", "invoke_agent")
            span.set_attribute("gen_ai.conversation.id", str(session.id))
            trace_id = format(span.get_span_context().trace_id, "032x")
            ctx = ctx.model_copy(update={"trace_id": ctx.trace_id or trace_id})
            user_ids = prepared.manifest.input_message_ids
            emit(
                ExecutionEvent(
                    execution_id=handle.execution_id,
                    session_id=str(session.id),
                    user_message_id=user_ids[0] if user_ids else None,
                    trace_id=trace_id,
                )
            )
            completion_ids: list[str] = []
            usage = TokenUsage()
            for round_number in range(1, self.max_tool_rounds + 2):
                completion_id = uuid4().hex
                completion_ids.append(completion_id)
                last_round = round_number > self.max_tool_rounds
                reply, message_id, version = await self._call(
                    handle,
                    ctx,
                    session,
                    prepared,
                    model,
                    completion_id,
                    idempotency_key,
                    digest,
                    span,
                )
                if reply.usage:
                    usage.input_tokens += reply.usage.input_tokens
                    usage.output_tokens += reply.usage.output_tokens
                if last_round or not self.toolbox.can_run(reply.tool_calls):
                    break
                prepared = await self._run_tools(
                    handle, ctx, session.id, prepared, reply, message_id
                )
            suggested = None
            if suggestions:
                try:
                    suggested = await self._suggest(
                        ctx, session, prepared, model, reply, completion_id
                    )
                except ProviderError as error:
                    # The answer stands; only the follow-ups are missing.
                    log.warning("suggestions for %s failed: %s", completion_id, error.detail)
            result = TurnResult(
                execution_id=handle.execution_id,
                session_id=str(session.id),
                completion_id=completion_id,
                completion_ids=completion_ids,
                output=reply.text,
                message_id=message_id if prepared.remember else None,
                user_message_id=user_ids[0] if user_ids else None,
                finish_reason=reply.finish_reason,
                tool_calls=[] if self.toolbox.can_run(reply.tool_calls) else reply.tool_calls,
                token_usage=usage,
                time=round(time.monotonic() - started, 6),
                version=version,
                provider=prepared.provider,
                model=prepared.request.model,
                suggestions=suggested,
            )
            emit(DoneEvent(**result.model_dump()))
            return result

    async def _call(
        self,
        handle: TurnHandle,
        ctx: CommandContext,
        session: SessionState,
        prepared: PreparedTurn,
        model: ChatModel,
        completion_id: str,
        idempotency_key: str | None,
        digest: str,
        span: trace.Span,
    ) -> tuple[ChatReply, str, int]:
        """One model call, streamed to the handle and recorded; raises after recording a failure."""
        emit = handle.queue.put_nowait
        state = _Round()
        started = time.monotonic()
        try:
            async for delta in model.stream(prepared.request):
                state.deltas.append(delta)
                if isinstance(delta, PartStarted):
                    state.kinds[delta.index] = delta.part.type
                elif isinstance(delta, PartDelta) and delta.text:
                    state.first_token_at = state.first_token_at or time.monotonic()
                    if state.kinds.get(delta.index) == "thinking":
                        emit(ThinkingEvent(content=delta.text))
                    elif state.kinds.get(delta.index, "text") == "text":
                        state.streamed_text.append(delta.text)
                        emit(ContentEvent(content=delta.text))
        except ProviderError as error:
            await self._record_failure(
                handle,
                ctx,
                session.id,
                prepared,
                error,
                state,
                started,
                completion_id,
                idempotency_key,
                digest,
            )
            span.set_status(Status(StatusCode.ERROR, error.detail))
            span.set_attribute("error.type", error.error_type)
            raise
        reply = fold_deltas(state.deltas, provider=model.provider)
        latency = (time.monotonic() - started) * 1000
        first = None if state.first_token_at is None else (state.first_token_at - started) * 1000
        message_id = uuid4().hex
        result = await anyio.to_thread.run_sync(
            lambda: self.ledger.record_turn(
                ctx,
                session.id,
                prepared,
                reply,
                completion_id=completion_id,
                latency_ms=latency,
                time_to_first_token_ms=first,
                streamed=True,
                idempotency_key=idempotency_key,
                request_hash=digest,
                reply_message_id=message_id,
            )
        )
        return reply, message_id, result.session.version

    async def _record_failure(
        self,
        handle: TurnHandle,
        ctx: CommandContext,
        session_id: UUID,
        prepared: PreparedTurn,
        error: ProviderError,
        state: _Round,
        started: float,
        completion_id: str,
        idempotency_key: str | None,
        digest: str,
    ) -> None:
        """`CompletionFailed` with exactly the text already streamed, then the `error` event."""
        partial = [TextBlock(text="".join(state.streamed_text))] if state.streamed_text else []
        latency = (time.monotonic() - started) * 1000

        def record() -> None:
            self.ledger.record_failed_turn(
                ctx,
                session_id,
                prepared,
                completion_id=completion_id,
                error_type=error.error_type,
                error_message=error.detail,
                partial=partial,
                attempts=error.attempts,
                latency_ms=latency,
                streamed=True,
                idempotency_key=idempotency_key,
                request_hash=digest,
            )

        await anyio.to_thread.run_sync(record)
        handle.queue.put_nowait(
            ErrorEvent(message=error.detail, type=error.error_type, completion_id=completion_id)
        )

    async def _run_tools(
        self,
        handle: TurnHandle,
        ctx: CommandContext,
        session_id: UUID,
        prepared: PreparedTurn,
        reply: ChatReply,
        message_id: str,
    ) -> PreparedTurn:
        """Run the reply's tool calls and prepare the next call with their results."""
        results = []
        for call in reply.tool_calls:
            handle.queue.put_nowait(
                ToolStartEvent(id=call.id, name=call.name, arguments=call.arguments)
            )
            with self.tracer.start_as_current_span(f"execute_tool {call.name}") as tool_span:
                tool_span.set_attribute("gen_ai.operation.name", "execute_tool")
                tool_span.set_attribute("gen_ai.tool.name", call.name)
                tool_span.set_attribute("gen_ai.tool.call.id", call.id)
                result = await self.toolbox.run(call)
                if result.is_error:
                    tool_span.set_status(Status(StatusCode.ERROR))
            handle.queue.put_nowait(
                ToolEndEvent(
                    id=call.id, name=call.name, summary=summary_of(result), is_error=result.is_error
                )
            )
            results.append(result)
        assistant = reply.message().model_copy(update={"id": message_id})
        tool_message = Message(role="tool", content=list(results), id=uuid4().hex)
        messages = [*prepared.request.messages, assistant, tool_message]
        return PreparedTurn(
            provider=prepared.provider,
            request=prepared.request.model_copy(update={"messages": messages}),
            manifest=prepared.manifest.model_copy(
                update={
                    "message_ids": [m.id or "" for m in messages],
                    "input_message_ids": [tool_message.id or ""] if prepared.remember else [],
                }
            ),
            input_messages=[tool_message],
            agent_id=prepared.agent_id,
            remember=prepared.remember,
        )

    async def summarize(
        self,
        ctx: CommandContext,
        session_id: UUID,
        covered: list[Recalled],
        *,
        model: ChatModel,
        like: PreparedTurn,
    ) -> str:
        """Have the model summarise `covered`; record the call and `Summarized`."""
        conversation = "\n".join(f"{r.message.role}: {r.message.text}" for r in covered)
        request = like.request.model_copy(
            update={
                "system": SUMMARY_PROMPT,
                "messages": [Message.user(conversation)],
                "tools": [],
                "settings": like.request.settings.model_copy(
                    update={"response_format": None, "tool_choice": None}
                ),
            }
        )
        started = time.monotonic()
        reply = await model.complete(request)
        asked = PreparedTurn(
            provider=like.provider,
            request=request,
            manifest=like.manifest.model_copy(
                update={
                    "system": SUMMARY_PROMPT,
                    "input_message_ids": [],
                    "message_ids": [r.message.id or "" for r in covered],
                }
            ),
            input_messages=[],
            agent_id=like.agent_id,
            remember=False,
        )
        completion_id = uuid4().hex

        def record() -> None:
            self.ledger.record_turn(
                ctx,
                session_id,
                asked,
                reply,
                completion_id=completion_id,
                latency_ms=(time.monotonic() - started) * 1000,
            )
            self.ledger.record_summary(
                ctx, session_id, text=reply.text, covered=covered, completion_id=completion_id
            )

        await anyio.to_thread.run_sync(record)
        return reply.text

    async def _suggest(
        self,
        ctx: CommandContext,
        session: SessionState,
        prepared: PreparedTurn,
        model: ChatModel,
        reply: ChatReply,
        after_completion: str,
    ) -> list[str]:
        """Ask the model for follow-ups; record the call and `SuggestionsRecorded`."""
        request = prepared.request.model_copy(
            update={
                "system": SUGGESTIONS_PROMPT,
                "messages": [*prepared.request.messages, reply.message()],
                "tools": [],
                "settings": prepared.request.settings.model_copy(
                    update={"response_format": "json", "tool_choice": None}
                ),
            }
        )
        started = time.monotonic()
        suggestion_reply = await model.complete(request)
        suggestions = _parse_suggestions(suggestion_reply.text)
        asked = PreparedTurn(
            provider=prepared.provider,
            request=request,
            manifest=prepared.manifest.model_copy(
                update={"system": SUGGESTIONS_PROMPT, "input_message_ids": []}
            ),
            input_messages=[],
            agent_id=prepared.agent_id,
            remember=False,
        )
        completion_id = uuid4().hex

        def record() -> None:
            self.ledger.record_turn(
                ctx,
                session.id,
                asked,
                suggestion_reply,
                completion_id=completion_id,
                latency_ms=(time.monotonic() - started) * 1000,
            )
            self.ledger.record_suggestions(ctx, session.id, after_completion, suggestions)

        await anyio.to_thread.run_sync(record)
        return suggestions

    def _stored_result(
        self, ctx: CommandContext, session_id: str | UUID, key: str | None, digest: str
    ) -> TurnResult | None:
        """The recorded result of an earlier request with this key, if any."""
        if key is None:
            return None
        session = self.ledger.get_session(ctx.tenant_id, session_id)
        row = self.ledger.views.completions.find_by_idempotency_key(
            ctx.tenant_id, str(session.id), key
        )
        if row is None:
            return None
        if row.request_hash != digest:
            raise InvalidInputError(
                "header.Idempotency-Key",
                "was already used for a different request in this session",
            )
        events = self.ledger.engine.list_events(
            ctx.tenant_id, session.id, after=row.version - 1, until=row.version + 1
        )
        completion = events[0]
        assert isinstance(completion, Session.CompletionRecorded)
        reply = completion.reply
        following = events[1] if len(events) > 1 else None
        message_id = (
            following.message.id
            if isinstance(following, Session.MessageAppended)
            and following.message.role == "assistant"
            else None
        )
        inputs = completion.manifest.input_message_ids
        return TurnResult(
            execution_id=uuid4().hex,
            session_id=str(session.id),
            completion_id=completion.completion_id,
            completion_ids=[completion.completion_id],
            output=reply.text,
            message_id=message_id,
            user_message_id=inputs[0] if inputs else None,
            finish_reason=reply.finish_reason,
            tool_calls=reply.tool_calls if not self.toolbox.can_run(reply.tool_calls) else [],
            token_usage=TokenUsage(
                input_tokens=reply.usage.input_tokens if reply.usage else 0,
                output_tokens=reply.usage.output_tokens if reply.usage else 0,
            ),
            time=round(completion.latency_ms / 1000, 6),
            version=row.version + (1 if message_id else 0),
            provider=completion.provider,
            model=completion.model,
            replayed=True,
        )


def _parse_suggestions(text: str) -> list[str]:
    try:
        value = json.loads(text)
    except ValueError:
        value = [line.strip(" -*\t") for line in text.splitlines()]
    if not isinstance(value, list):
        value = [value]
    return [str(item).strip() for item in value if str(item).strip()][:3]


__all__ = [
    "ChatService",
    "ChatSettings",
    "ThinkingBlock",
    "ToolCallBlock",
    "TurnHandle",
    "request_hash",
]
