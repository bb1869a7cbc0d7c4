"""One model call of a turn: streamed to the caller as it comes, then recorded.

Text deltas become `content` events and reasoning deltas `thinking` events;
the folded reply is recorded with its latency and time to first token
(`Ledger.record_turn`). A provider that fails records `CompletionFailed` with
exactly the text already streamed, reports an `error` event, marks the turn's
span and raises again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

import anyio
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from adapters.chat_events import ContentEvent, ErrorEvent, ThinkingEvent
from domain.content import TextBlock
from domain.context import CommandContext
from domain.errors import ProviderError
from domain.llm import ChatReply, PartDelta, PartStarted, fold_deltas
from domain.ports import ChatModel
from domain.turns import PreparedTurn

if TYPE_CHECKING:
    from adapters.ledger import Ledger


@dataclass
class _Round:
    """One model call's streaming state."""

    deltas: list[Any] = field(default_factory=list)
    streamed_text: list[str] = field(default_factory=list)
    kinds: dict[int, str] = field(default_factory=dict)
    first_token_at: float | None = None


async def call_model(
    ledger: Ledger,
    emit: Callable[[Any], None],
    ctx: CommandContext,
    session_id: UUID,
    prepared: PreparedTurn,
    model: ChatModel,
    *,
    completion_id: str,
    idempotency_key: str | None,
    digest: str,
    span: trace.Span,
) -> tuple[ChatReply, str, int]:
    """One model call, streamed to `emit` and recorded; raises after recording a failure.

    Returns the reply, the id given to its message and the session's version after it.
    """
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
        await _record_failure(
            ledger,
            emit,
            ctx,
            session_id,
            prepared,
            error,
            state,
            started,
            completion_id=completion_id,
            idempotency_key=idempotency_key,
            digest=digest,
        )
        span.set_status(Status(StatusCode.ERROR, error.detail))
        span.set_attribute("error.type", error.error_type)
        raise
    reply = fold_deltas(state.deltas, provider=model.provider)
    latency = (time.monotonic() - started) * 1000
    first = None if state.first_token_at is None else (state.first_token_at - started) * 1000
    message_id = uuid4().hex
    result = await anyio.to_thread.run_sync(
        lambda: ledger.record_turn(
            ctx,
            session_id,
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
    ledger: Ledger,
    emit: Callable[[Any], None],
    ctx: CommandContext,
    session_id: UUID,
    prepared: PreparedTurn,
    error: ProviderError,
    state: _Round,
    started: float,
    *,
    completion_id: str,
    idempotency_key: str | None,
    digest: str,
) -> None:
    """`CompletionFailed` with exactly the text already streamed, then the `error` event."""
    partial = [TextBlock(text="".join(state.streamed_text))] if state.streamed_text else []
    latency = (time.monotonic() - started) * 1000

    def record() -> None:
        ledger.record_failed_turn(
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
    emit(ErrorEvent(message=error.detail, type=error.error_type, completion_id=completion_id))
