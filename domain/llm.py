"""The normalised language of model calls: requests, replies, usage and stream deltas.

Provider adapters translate these to and from their wire formats; the engine
records them in events. A complete reply is the fold of its deltas
(`fold_deltas`), so streaming and non-streaming calls agree by construction.
Finish reasons are normalised (`stop`, `length`, `tool_call`, `content_filter`,
`error`) while the provider's raw value is kept beside it. Imports pydantic
and the domain only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import Field

from domain.base import Immutable
from domain.content import ContentBlock, TextBlock, ThinkingBlock, ToolCallBlock
from domain.message import Message

FinishReason = Literal["stop", "length", "tool_call", "content_filter", "error"]


class ToolDefinition(Immutable):
    """A function the model may call: its name, what it does, and a JSON Schema for arguments."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


class ChatSettings(Immutable):
    """Per-call settings; a field left `None` is not sent to the provider at all."""

    model: str | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    top_k: int | None = Field(default=None, ge=1)
    stop: list[str] | None = None
    seed: int | None = None
    tool_choice: Literal["auto", "none", "required"] | str | None = None
    """`auto`, `none`, `required`, or the name of one tool the model must call."""
    response_format: Literal["text", "json"] | None = None

    def over(self, defaults: ChatSettings) -> ChatSettings:
        """These settings, with `defaults` filling what they leave unset."""
        merged = defaults.model_dump(exclude_none=True) | self.model_dump(exclude_none=True)
        return ChatSettings.model_validate(merged)


class ChatRequest(Immutable):
    """One call to a model: instructions, the conversation, tools and settings."""

    model: str
    system: str | None = None
    """Instructions sent apart from the conversation (the rendered situation and agent
    instructions); adapters place them where their API wants them."""
    messages: list[Message]
    tools: list[ToolDefinition] = Field(default_factory=list)
    settings: ChatSettings = Field(default_factory=ChatSettings)
    conversation_id: str | None = None
    """The session id, for telemetry (`gen_ai.conversation.id`)."""


class Usage(Immutable):
    """Token counts with the OpenTelemetry GenAI arithmetic: input includes cached tokens,
    output includes reasoning tokens; the detail counts are subsets."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int | None = None
    cache_write_input_tokens: int | None = None
    reasoning_output_tokens: int | None = None


class Candidate(Immutable):
    """One alternative reply (providers that return several: OpenAI `n`, Gemini candidates)."""

    index: int = 0
    content: list[ContentBlock]
    finish_reason: FinishReason | None = None
    provider_finish_reason: str | None = None


class ChatReply(Immutable):
    """A model's reply, normalised."""

    candidates: list[Candidate]
    usage: Usage | None = None
    response_id: str | None = None
    response_model: str | None = None
    provider: str
    provider_details: dict[str, Any] = Field(default_factory=dict)
    """Provider-specific extras (stop sequence, system fingerprint, safety ratings …)."""
    attempts: int = 1
    """HTTP attempts the call took (retries included)."""
    trace_id: str | None = None
    """The provider call's OpenTelemetry trace id (32 hex), set by the telemetry wrapper."""
    span_id: str | None = None
    """The provider call's span id (16 hex), set by the telemetry wrapper."""

    @property
    def content(self) -> list[ContentBlock]:
        return self.candidates[0].content if self.candidates else []

    @property
    def finish_reason(self) -> FinishReason | None:
        return self.candidates[0].finish_reason if self.candidates else None

    @property
    def text(self) -> str:
        return "".join(b.text for b in self.content if isinstance(b, TextBlock))

    @property
    def tool_calls(self) -> list[ToolCallBlock]:
        return [b for b in self.content if isinstance(b, ToolCallBlock)]

    def message(self) -> Message:
        """The first candidate as an assistant message."""
        return Message(role="assistant", content=list(self.content))


# Stream deltas (llm-wire-formats §5.5): what adapters yield while a reply streams.


class ResponseStarted(Immutable):
    type: Literal["response_start"] = "response_start"
    response_id: str | None = None
    response_model: str | None = None


class PartStarted(Immutable):
    """A new content block begins at `index` (text, thinking or tool call; possibly empty)."""

    type: Literal["part_start"] = "part_start"
    index: int
    part: ContentBlock


class PartDelta(Immutable):
    """Text appended to the block at `index`: text, thinking text, or tool-call arguments."""

    type: Literal["part_delta"] = "part_delta"
    index: int
    text: str = ""
    arguments: str = ""
    signature: str | None = None


class ResponseEnded(Immutable):
    type: Literal["response_end"] = "response_end"
    finish_reason: FinishReason | None = None
    provider_finish_reason: str | None = None
    usage: Usage | None = None
    provider_details: dict[str, Any] = Field(default_factory=dict)
    attempts: int = 1
    trace_id: str | None = None
    span_id: str | None = None


ReplyDelta = Annotated[
    ResponseStarted | PartStarted | PartDelta | ResponseEnded, Field(discriminator="type")
]


def fold_deltas(deltas: Iterable[ReplyDelta], *, provider: str) -> ChatReply:
    """The complete reply a stream of deltas adds up to (tool arguments parsed as JSON)."""

    parts: dict[int, ContentBlock] = {}
    raw_arguments: dict[int, str] = {}
    reply: dict[str, Any] = {"provider": provider, "candidates": []}
    finish: tuple[FinishReason | None, str | None] = (None, None)
    for delta in deltas:
        if isinstance(delta, ResponseStarted):
            reply["response_id"] = delta.response_id or reply.get("response_id")
            reply["response_model"] = delta.response_model or reply.get("response_model")
        elif isinstance(delta, PartStarted):
            parts[delta.index] = delta.part
            if isinstance(delta.part, ToolCallBlock):
                raw_arguments[delta.index] = delta.part.arguments_raw or ""
        elif isinstance(delta, PartDelta):
            part = parts.get(delta.index) or TextBlock(text="")
            if isinstance(part, TextBlock):
                part = part.model_copy(update={"text": part.text + delta.text})
            elif isinstance(part, ThinkingBlock):
                signature = part.signature if delta.signature is None else delta.signature
                part = part.model_copy(
                    update={"text": part.text + delta.text, "signature": signature}
                )
            elif isinstance(part, ToolCallBlock):
                raw_arguments[delta.index] = raw_arguments.get(delta.index, "") + delta.arguments
            parts[delta.index] = part
        elif isinstance(delta, ResponseEnded):
            finish = (delta.finish_reason, delta.provider_finish_reason)
            reply["usage"] = delta.usage
            reply["provider_details"] = dict(delta.provider_details)
            reply["attempts"] = delta.attempts
            reply["trace_id"] = delta.trace_id
            reply["span_id"] = delta.span_id
    for index, raw in raw_arguments.items():
        call = parts[index]
        assert isinstance(call, ToolCallBlock)
        try:
            arguments = json.loads(raw) if raw else {}
        except ValueError:
            arguments = None
        parts[index] = call.model_copy(
            update={
                "arguments_raw": raw,
                "arguments": arguments if isinstance(arguments, dict) else None,
            }
        )
    content = [parts[i] for i in sorted(parts)]
    reply["candidates"] = [
        Candidate(content=content, finish_reason=finish[0], provider_finish_reason=finish[1])
    ]
    return ChatReply.model_validate(reply)
