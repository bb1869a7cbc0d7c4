"""Anthropic Messages SSE events as reply deltas (llm-wire-formats §3.5).

`message_start` opens the reply (id, model, input-side usage); each content block is a
`content_block_start`, its `content_block_delta`s (`text_delta`, `thinking_delta`,
`signature_delta`, `input_json_delta`) and a `content_block_stop`; `message_delta` brings
the stop reason and cumulative usage; `message_stop` ends it. `ping` and unknown events are
ignored; an `error` event raises. Block indices are Anthropic's own. `citations_delta` is
not forwarded: a delta has no place for a citation yet (the complete reply keeps them).
Imports the domain and the sibling modules only.
"""

from __future__ import annotations

import json
from typing import Any

from adapters.llm.anthropic.wire import parse_block, parse_usage, stop_reason
from adapters.llm.calls import event_json
from adapters.llm.errors import in_band_error, incomplete_stream
from adapters.llm.sse import ServerSentEvent
from domain.content import TextBlock, ThinkingBlock, ToolCallBlock
from domain.llm import PartDelta, PartStarted, ReplyDelta, ResponseEnded, ResponseStarted


class AnthropicStreamDecoder:
    """The deltas of one streamed Messages response."""

    def __init__(self, *, provider: str) -> None:
        self._provider = provider
        self._usage: dict[str, Any] = {}
        self._stop_reason: str | None = None
        self._stop_sequence: str | None = None
        self._tool_inputs: dict[int, Any] = {}  # tool_use blocks still waiting for input JSON
        self._done = False

    @property
    def done(self) -> bool:
        return self._done

    def feed(self, event: ServerSentEvent) -> list[ReplyDelta]:
        data = event_json(event)
        kind = data.get("type") or event.event
        if kind == "message_start":
            message = data.get("message") or {}
            self._merge_usage(message.get("usage"))
            return [
                ResponseStarted(response_id=message.get("id"), response_model=message.get("model"))
            ]
        if kind == "content_block_start":
            return self._block_start(data.get("index", 0), data.get("content_block") or {})
        if kind == "content_block_delta":
            return self._block_delta(data.get("index", 0), data.get("delta") or {})
        if kind == "content_block_stop":
            index = data.get("index", 0)
            if index in self._tool_inputs:
                # No input_json_delta came: the block's own (empty) input is the whole input.
                initial = self._tool_inputs.pop(index)
                return [PartDelta(index=index, arguments=json.dumps(initial, ensure_ascii=False))]
            return []
        if kind == "message_delta":
            delta = data.get("delta") or {}
            self._stop_reason = delta.get("stop_reason") or self._stop_reason
            self._stop_sequence = delta.get("stop_sequence") or self._stop_sequence
            self._merge_usage(data.get("usage"))
            return []
        if kind == "message_stop":
            self._done = True
            return []
        if kind == "error":
            raise in_band_error(data)
        return []  # ping, and event types added after this adapter was written

    def finish(self) -> ResponseEnded:
        if not self._done and self._stop_reason is None:
            raise incomplete_stream("no message_stop")
        details = {"stop_sequence": self._stop_sequence} if self._stop_sequence else {}
        return ResponseEnded(
            finish_reason=stop_reason(self._stop_reason),
            provider_finish_reason=self._stop_reason,
            usage=parse_usage(self._usage) if self._usage else None,
            provider_details=details,
        )

    def _block_start(self, index: int, block: dict[str, Any]) -> list[ReplyDelta]:
        part = parse_block(block, provider=self._provider)
        deltas: list[ReplyDelta] = []
        if isinstance(part, TextBlock):
            deltas.append(PartStarted(index=index, part=TextBlock(text="")))
            if part.text:
                deltas.append(PartDelta(index=index, text=part.text))
        elif isinstance(part, ThinkingBlock):
            thinking = part.model_copy(update={"text": "", "signature": None})
            deltas.append(PartStarted(index=index, part=thinking))
            if part.text or part.signature:
                deltas.append(PartDelta(index=index, text=part.text, signature=part.signature))
        elif isinstance(part, ToolCallBlock):
            self._tool_inputs[index] = part.arguments or {}
            call = part.model_copy(update={"arguments": None, "arguments_raw": ""})
            deltas.append(PartStarted(index=index, part=call))
        return deltas

    def _block_delta(self, index: int, delta: dict[str, Any]) -> list[ReplyDelta]:
        kind = delta.get("type")
        if kind == "text_delta":
            return [PartDelta(index=index, text=delta.get("text", ""))]
        if kind == "thinking_delta":
            return [PartDelta(index=index, text=delta.get("thinking", ""))]
        if kind == "signature_delta":
            return [PartDelta(index=index, signature=delta.get("signature", ""))]
        if kind == "input_json_delta":
            fragment = delta.get("partial_json", "")
            if not fragment:
                return []
            self._tool_inputs.pop(index, None)
            return [PartDelta(index=index, arguments=fragment)]
        return []  # citations_delta (see the module docstring) and future delta types

    def _merge_usage(self, usage: Any) -> None:
        # message_delta counts are cumulative: a later value replaces an earlier one.
        if isinstance(usage, dict):
            self._usage.update({k: v for k, v in usage.items() if v is not None})
