"""The Python API for talking to models (mixed into `Ledger`).

- `chat` / `achat` run a turn (sync or async); `astream` yields its events.
- `register_tool` and `register_model` plug in Python callables and models.
- `to_openai_chat_invocation`, `to_anthropic_invocation`, `to_gemini_invocation`
  and `to_invocation(provider)` build the exact request body a turn would send,
  with per-call overrides; `parse_response` reads a provider's JSON reply.
- `get_suggestions` returns the latest follow-up suggestions.

The sync calls run on one private event loop thread (a daemon), so the
models' shared HTTP client always lives on the same loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

import anyio

from adapters.chat_events import TurnResult
from adapters.ledger_core import LedgerCore
from adapters.llm.wire import build_invocation, parse_response
from domain.context import CommandContext
from domain.engine import CommandResult
from domain.llm import ChatReply, ChatSettings, ToolDefinition
from domain.message import Message
from domain.ports import ChatModel
from domain.session import Session, SessionState
from domain.turns import PreparedTurn, Recalled, TurnInput

if TYPE_CHECKING:
    from adapters.chat import ChatService


T = TypeVar("T")


class LoopThread:
    """An event loop on a daemon thread: sync code runs coroutines on it, one loop for all."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="chatledger-loop", daemon=True
        )
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()


def as_turn(message: str | Message | TurnInput | None, **options: Any) -> TurnInput:
    """A `TurnInput` from a text, a message or a ready input, with options on top."""
    if isinstance(message, TurnInput):
        return message.model_copy(update=options) if options else message
    messages = (
        [] if message is None else [Message.user(message) if isinstance(message, str) else message]
    )
    return TurnInput(messages=messages, **options)


class ChatAPI(LedgerCore):
    """Turns, tools, models and provider invocations."""

    chat_service: ChatService
    _loop_thread: LoopThread | None = None

    # Turns

    async def achat(
        self,
        ctx: CommandContext,
        session_id: str | UUID,
        message: str | Message | TurnInput | None = None,
        *,
        idempotency_key: str | None = None,
        suggestions: bool = False,
        **options: Any,
    ) -> TurnResult:
        """Run one turn; `options` as `TurnInput` (settings, tools, remember, recall …)."""
        return await self.chat_service.chat(
            ctx,
            session_id,
            as_turn(message, **options),
            idempotency_key=idempotency_key,
            suggestions=suggestions,
        )

    async def astream(
        self,
        ctx: CommandContext,
        session_id: str | UUID,
        message: str | Message | TurnInput | None = None,
        *,
        idempotency_key: str | None = None,
        suggestions: bool = False,
        **options: Any,
    ) -> AsyncIterator[Any]:
        """Run one turn, yielding its events (`execution` … `done` or `error`)."""
        handle = await self.chat_service.start(
            ctx,
            session_id,
            as_turn(message, **options),
            idempotency_key=idempotency_key,
            suggestions=suggestions,
        )
        async for event in handle.events():
            yield event

    def chat(
        self,
        ctx: CommandContext,
        session_id: str | UUID,
        message: str | Message | TurnInput | None = None,
        **options: Any,
    ) -> TurnResult:
        """`achat`, from synchronous code."""
        return self.loop_thread().run(self.achat(ctx, session_id, message, **options))

    def loop_thread(self) -> LoopThread:
        """The event loop thread that runs this ledger's async work for sync callers."""
        if self._loop_thread is None:
            self._loop_thread = LoopThread()
        return self._loop_thread

    def close_portal(self) -> None:
        if self._loop_thread is not None:
            self._loop_thread.run(self.chat_service.models.aclose())
            self._loop_thread.stop()
            self._loop_thread = None

    # Plug-ins

    def register_tool(
        self,
        function: Callable[..., Any],
        *,
        name: str | None = None,
        definition: ToolDefinition | None = None,
    ) -> ToolDefinition:
        """Offer `function` to models as a tool; the turn loop runs it when called."""
        return self.chat_service.toolbox.register(function, name=name, definition=definition)

    def register_model(self, name: str, model: ChatModel) -> None:
        """Serve provider `name` with your own `ChatModel`."""
        self.chat_service.models.register(name, model)

    # Recording (used by the turn; read-your-writes like every command)

    def record_turn(
        self,
        ctx: CommandContext,
        session_id: UUID,
        prepared: PreparedTurn,
        reply: ChatReply,
        **fields: Any,
    ) -> CommandResult:
        return self._visible(self.engine.record_turn(ctx, session_id, prepared, reply, **fields))

    def record_failed_turn(
        self, ctx: CommandContext, session_id: UUID, prepared: PreparedTurn, **fields: Any
    ) -> CommandResult:
        return self._visible(self.engine.record_failed_turn(ctx, session_id, prepared, **fields))

    def record_suggestions(
        self, ctx: CommandContext, session_id: UUID, completion_id: str, suggestions: list[str]
    ) -> CommandResult:
        return self._visible(
            self.engine.record_suggestions(ctx, session_id, completion_id, suggestions)
        )

    def record_summary(
        self,
        ctx: CommandContext,
        session_id: UUID,
        *,
        text: str,
        covered: list[Recalled],
        completion_id: str | None = None,
    ) -> CommandResult:
        return self._visible(
            self.engine.record_summary(
                ctx, session_id, text=text, covered=covered, completion_id=completion_id
            )
        )

    def summarize(
        self,
        ctx: CommandContext,
        session_id: str | UUID,
        *,
        up_to_version: int | None = None,
        text: str | None = None,
    ) -> SessionState:
        """`asummarize`, from synchronous code."""
        summarizing = self.asummarize(ctx, session_id, up_to_version=up_to_version, text=text)
        state: SessionState = self.loop_thread().run(summarizing)
        return state

    async def asummarize(
        self,
        ctx: CommandContext,
        session_id: str | UUID,
        *,
        up_to_version: int | None = None,
        text: str | None = None,
    ) -> SessionState:
        """Let a summary stand in for the history up to `up_to_version` (default: all of it).

        With `text`, that is the summary; without, the session's model writes it. The
        originals stay in the history and the log; prompts send the summary instead.
        """
        session, covered = await anyio.to_thread.run_sync(
            self._unsummarized, ctx.tenant_id, session_id, up_to_version
        )
        if text is not None:
            await anyio.to_thread.run_sync(
                lambda: self.record_summary(ctx, session.id, text=text, covered=covered)
            )
        else:
            turn = TurnInput(messages=[Message.user("(summary)")])
            _, prepared = await anyio.to_thread.run_sync(
                self.chat_service.prepare, ctx, session.id, turn
            )
            model = self.chat_service.models.get(prepared.provider)
            await self.chat_service.summarize(ctx, session.id, covered, model=model, like=prepared)
        return await anyio.to_thread.run_sync(self.get_session, ctx.tenant_id, session.id)

    def _unsummarized(
        self, tenant_id: str, session_id: str | UUID, up_to_version: int | None
    ) -> tuple[SessionState, list[Recalled]]:
        """The session, and its history messages no summary covers yet (up to a version)."""
        session = self.get_session(tenant_id, session_id)
        summarised = {v for s in session.summaries for v in range(s.from_version, s.to_version + 1)}
        covered: list[Recalled] = []
        cursor = None
        while True:
            page = self.list_messages(tenant_id, session.id, limit=1000, cursor=cursor)
            covered += [
                Recalled(e.version, e.message)
                for e in page.data
                if (up_to_version is None or e.version <= up_to_version)
                and e.version not in summarised
            ]
            if (cursor := page.next_cursor) is None:
                return session, covered

    def get_suggestions(self, tenant_id: str, session_id: str | UUID) -> list[str]:
        """The latest follow-up suggestions recorded for the session (empty if none)."""
        session = self.get_session(tenant_id, session_id)
        for event in self.engine.events.get(session.id, desc=True):
            if isinstance(event, Session.SuggestionsRecorded):
                return list(event.suggestions)
        return []

    # Invocations

    def to_invocation(
        self,
        tenant_id: str,
        session_id: str | UUID,
        provider: str | None = None,
        *,
        message: str | Message | None = None,
        stream: bool = False,
        **overrides: Any,
    ) -> dict[str, Any]:
        """The JSON body a turn would send to `provider` now (settings `overrides` on top)."""
        ctx = CommandContext(tenant_id=tenant_id, actor="invocation")
        turn = as_turn(message, settings=ChatSettings(**overrides), provider=provider)
        if not turn.messages:
            turn = turn.model_copy(update={"recall": True})
        _, prepared = self.chat_service.prepare(ctx, session_id, turn, check_provider=False)
        return build_invocation(prepared.provider, prepared.request, stream=stream)

    def to_openai_chat_invocation(
        self, tenant_id: str, session_id: str | UUID, **overrides: Any
    ) -> dict[str, Any]:
        return self.to_invocation(tenant_id, session_id, "openai", **overrides)

    def to_anthropic_invocation(
        self, tenant_id: str, session_id: str | UUID, **overrides: Any
    ) -> dict[str, Any]:
        return self.to_invocation(tenant_id, session_id, "anthropic", **overrides)

    def to_gemini_invocation(
        self, tenant_id: str, session_id: str | UUID, **overrides: Any
    ) -> dict[str, Any]:
        return self.to_invocation(tenant_id, session_id, "gemini", **overrides)

    @staticmethod
    def parse_response(body: dict[str, Any], provider: str) -> ChatReply:
        """A provider's JSON reply, normalised."""
        return parse_response(body, provider)
