"""Chat Completions SSE chunks as reply deltas (llm-wire-formats §2.4).

Chunks carry `data:` only and end with `data: [DONE]`. Text, refusal and reasoning text
(compatible servers) append to the open part of their kind; tool calls stream as fragments
keyed by `tool_calls[].index`, the first naming the call, the rest adding argument text.
Usage arrives last in a chunk with `choices: []` (`stream_options.include_usage`). A chunk
with an `error` key is an in-band failure. Only choice 0 is read: we never ask for `n`.
Imports the domain and the sibling modules only.
"""

from __future__ import annotations

from typing import Any

from adapters.llm.calls import event_json
from adapters.llm.errors import in_band_error, incomplete_stream
from adapters.llm.openai.wire import finish_reason, parse_usage, reasoning_text
from adapters.llm.sse import ServerSentEvent
from domain.content import ContentBlock, TextBlock, ThinkingBlock, ToolCallBlock
from domain.llm import PartDelta, PartStarted, ReplyDelta, ResponseEnded, ResponseStarted, Usage


class OpenAIStreamDecoder:
    """The deltas of one streamed `chat.completion.chunk` sequence."""

    def __init__(self, *, provider: str) -> None:
        self._provider = provider
        self._started = False
        self._parts = 0
        self._open: tuple[str, int] | None = None  # (kind, part index) text appends to
        self._tool_parts: dict[int, int] = {}  # tool_calls[].index -> part index
        self._finish: str | None = None
        self._refused = False
        self._usage: Usage | None = None
        self._details: dict[str, Any] = {}
        self._done = False

    @property
    def done(self) -> bool:
        return self._done

    def feed(self, event: ServerSentEvent) -> list[ReplyDelta]:
        if event.data.strip() == "[DONE]":
            self._done = True
            return []
        chunk = event_json(event)
        if chunk.get("error") is not None:
            raise in_band_error(chunk)
        deltas: list[ReplyDelta] = []
        if not self._started:
            self._started = True
            deltas.append(
                ResponseStarted(response_id=chunk.get("id"), response_model=chunk.get("model"))
            )
        for key in ("system_fingerprint", "service_tier"):
            if chunk.get(key) is not None:
                self._details[key] = chunk[key]
        if chunk.get("usage"):
            self._usage = parse_usage(chunk["usage"])
        for choice in chunk.get("choices") or []:
            if choice.get("index", 0) == 0:
                deltas.extend(self._choice(choice))
        return deltas

    def finish(self) -> ResponseEnded:
        if not self._done and self._finish is None:
            raise incomplete_stream("no finish_reason and no [DONE]")
        # A stream that ended without a reason gets `error` (llm-wire-formats §5.4).
        reason = finish_reason(self._finish, refused=self._refused) if self._finish else "error"
        return ResponseEnded(
            finish_reason=reason,
            provider_finish_reason=self._finish,
            usage=self._usage,
            provider_details=dict(self._details),
        )

    def _choice(self, choice: dict[str, Any]) -> list[ReplyDelta]:
        delta = choice.get("delta") or {}
        deltas: list[ReplyDelta] = []
        if reasoning := reasoning_text(delta):
            deltas.extend(self._text("thinking", reasoning))
        if isinstance(delta.get("content"), str) and delta["content"]:
            deltas.extend(self._text("text", delta["content"]))
        if isinstance(delta.get("refusal"), str) and delta["refusal"]:
            self._refused = True
            deltas.extend(self._text("refusal", delta["refusal"]))
        for fragment in delta.get("tool_calls") or []:
            deltas.extend(self._tool_fragment(fragment))
        if choice.get("finish_reason"):
            self._finish = choice["finish_reason"]
        return deltas

    def _text(self, kind: str, text: str) -> list[ReplyDelta]:
        deltas: list[ReplyDelta] = []
        if self._open is None or self._open[0] != kind:
            part: ContentBlock
            if kind == "thinking":
                part = ThinkingBlock(text="", provider=self._provider)
            elif kind == "refusal":
                part = TextBlock(text="", provider_details={"refusal": True})
            else:
                part = TextBlock(text="")
            self._open = (kind, self._new_part())
            deltas.append(PartStarted(index=self._open[1], part=part))
        deltas.append(PartDelta(index=self._open[1], text=text))
        return deltas

    def _tool_fragment(self, fragment: dict[str, Any]) -> list[ReplyDelta]:
        deltas: list[ReplyDelta] = []
        function = fragment.get("function") or {}
        position = fragment.get("index", 0)
        if position not in self._tool_parts:
            self._tool_parts[position] = index = self._new_part()
            self._open = ("tool", index)
            call = ToolCallBlock(
                id=fragment.get("id") or f"call_{position}",
                name=function.get("name") or "",
                arguments_raw="",
            )
            deltas.append(PartStarted(index=index, part=call))
        arguments = function.get("arguments")
        if isinstance(arguments, str) and arguments:
            deltas.append(PartDelta(index=self._tool_parts[position], arguments=arguments))
        return deltas

    def _new_part(self) -> int:
        self._parts += 1
        return self._parts - 1
