"""What a turn tells its caller: the SSE events of a streamed turn, and the final result.

The event names and fields follow the PromptRails seed: `execution` first,
then `thinking`, `tool_start`, `tool_end` and `content` frames, then exactly
one `done` or `error`. A non-streamed turn answers with `TurnResult`, which is
what `done` carries.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from domain.content import ToolCallBlock
from domain.llm import FinishReason


class TokenUsage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0


class ExecutionEvent(BaseModel):
    """First event: ids to correlate the turn with its events and traces."""

    event: Literal["execution"] = "execution"
    execution_id: str
    session_id: str
    user_message_id: str | None = None
    trace_id: str | None = None


class ThinkingEvent(BaseModel):
    """Reasoning text, as it streams."""

    event: Literal["thinking"] = "thinking"
    content: str


class ToolStartEvent(BaseModel):
    """A registered tool is about to run."""

    event: Literal["tool_start"] = "tool_start"
    id: str
    name: str
    arguments: dict[str, Any] | None = None


class ToolEndEvent(BaseModel):
    """A tool finished; `summary` is a short display string of its result."""

    event: Literal["tool_end"] = "tool_end"
    id: str
    name: str
    summary: str
    is_error: bool = False


class ContentEvent(BaseModel):
    """A delta of the assistant's answer."""

    event: Literal["content"] = "content"
    content: str


class TurnResult(BaseModel):
    """The outcome of a turn (also the data of the `done` event)."""

    execution_id: str
    session_id: str
    completion_id: str
    """The last model call of the turn."""
    completion_ids: list[str]
    """Every model call of the turn (more than one when tools ran)."""
    output: str
    """The assistant's final text."""
    message_id: str | None = None
    """The recorded assistant message (None when the turn was not remembered)."""
    user_message_id: str | None = None
    finish_reason: FinishReason | None = None
    tool_calls: list[ToolCallBlock] = Field(default_factory=list)
    """Tool calls left for the client (no registered implementation): post `tool_result`s back."""
    token_usage: TokenUsage = Field(default_factory=TokenUsage)
    time: float
    """Seconds the turn took."""
    version: int
    """The session's version after the turn."""
    provider: str
    model: str
    suggestions: list[str] | None = None
    replayed: bool = False
    """True when an `Idempotency-Key` matched and the stored result was returned."""


class DoneEvent(TurnResult):
    event: Literal["done"] = "done"


class ErrorEvent(BaseModel):
    """The turn failed; the partial output (what was streamed) is in the event log."""

    event: Literal["error"] = "error"
    message: str
    type: str
    """The provider's low-cardinality error type (`rate_limit_error`, `503`, `ReadTimeout` …)."""
    completion_id: str | None = None


ChatEvent = Annotated[
    ExecutionEvent
    | ThinkingEvent
    | ToolStartEvent
    | ToolEndEvent
    | ContentEvent
    | DoneEvent
    | ErrorEvent,
    Field(discriminator="event"),
]
