"""The turn, run: recall, prompt, call the model, stream, run tools, record.

`ChatService.start` checks everything that can be refused before a byte is
streamed (session, agent, provider, templates, idempotency), then runs the turn
in its own task and hands back a `TurnHandle`: `events()` for SSE, `result()`
for a plain answer. The task does not belong to the request, so a client that
disconnects mid-stream does not lose the turn: it finishes and is recorded. A
provider that fails records `CompletionFailed` with exactly the text already
streamed. Each provider call is traced (child spans of an `invoke_agent` span).

This module is the service and its turn loop: a model call (`chat_call`), a
tool round (`tool_round`) while the model calls registered tools, then the
follow-up suggestions (`chat_side_calls`). The checks before streaming are
`chat_preparation` and `chat_idempotency`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

import anyio
from opentelemetry import trace
from opentelemetry.trace import SpanKind, TracerProvider

from adapters import chat_preparation, chat_side_calls
from adapters.chat_call import call_model
from adapters.chat_events import (
    ContentEvent,
    DoneEvent,
    ErrorEvent,
    ExecutionEvent,
    TokenUsage,
    TurnResult,
)
from adapters.chat_idempotency import IdempotentTurns, request_hash
from adapters.llm.registry import ModelRegistry
from adapters.tool_round import run_tool_round
from adapters.tools import ToolBox
from domain.context import CommandContext
from domain.errors import ProviderError
from domain.ports import ChatModel, TemplateRenderer
from domain.session import SessionState
from domain.turns import PreparedTurn, Recalled, TurnInput

if TYPE_CHECKING:
    from adapters.ledger import Ledger

log = logging.getLogger(__name__)


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
        self.idempotent = IdempotentTurns(ledger, toolbox)
        self._running: set[asyncio.Task[TurnResult]] = set()

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
        stored = await self.idempotent.recorded(ctx, session_id, idempotency_key, digest)
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
        session, prepared = await anyio.to_thread.run_sync(self.prepare, ctx, session_id, turn)
        model = self.models.get(prepared.provider)
        if prepared.to_summarize:
            # Over the agent's context limit with the `summarize` policy: summarise the
            # oldest messages once (recorded), then prepare again with the summary in force.
            await self.summarize(ctx, session.id, prepared.to_summarize, model=model, like=prepared)
            session, prepared = await anyio.to_thread.run_sync(self.prepare, ctx, session_id, turn)
        task = asyncio.create_task(
            self._run(handle, ctx, session, prepared, model, idempotency_key, digest, suggestions)
        )
        self._running.add(task)
        task.add_done_callback(self._finished)
        self.idempotent.track(ctx, session_id, idempotency_key, task)
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

    def prepare(
        self,
        ctx: CommandContext,
        session_id: str | UUID,
        turn: TurnInput,
        *,
        check_provider: bool = True,
    ) -> tuple[SessionState, PreparedTurn]:
        """The session and the turn's first model call, or the refusal (404, 410, 422 …).

        See `adapters.chat_preparation`; `check_provider` also refuses an unknown provider
        and content the provider's API cannot take.
        """
        return chat_preparation.prepare(
            self.ledger,
            self.models,
            self.toolbox,
            self.renderer,
            ctx,
            session_id,
            turn,
            check_provider=check_provider,
        )

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
            raise  # recorded as CompletionFailed, and reported, by `call_model`
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
                reply, message_id, version = await call_model(
                    self.ledger,
                    emit,
                    ctx,
                    session.id,
                    prepared,
                    model,
                    completion_id=completion_id,
                    idempotency_key=idempotency_key,
                    digest=digest,
                    span=span,
                )
                if reply.usage:
                    usage.input_tokens += reply.usage.input_tokens
                    usage.output_tokens += reply.usage.output_tokens
                if last_round or not self.toolbox.can_run(reply.tool_calls):
                    break
                prepared = await run_tool_round(
                    self.toolbox, self.tracer, emit, prepared, reply, message_id
                )
            suggested = None
            if suggestions:
                try:
                    suggested = await chat_side_calls.suggest(
                        self.ledger, ctx, session, prepared, model, reply, completion_id
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
        return await chat_side_calls.summarize(
            self.ledger, ctx, session_id, covered, model=model, like=like
        )


__all__ = ["ChatService", "TurnHandle", "request_hash"]
