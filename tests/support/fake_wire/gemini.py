"""The fake provider in Gemini generateContent JSON and SSE (llm-wire-formats §4.3, §4.4)."""

from __future__ import annotations

from typing import Any

from tests.support.fake_provider_script import Reply, TokenUsage, ToolCall
from tests.support.fake_wire import Frame, split_text, sse


def gemini_usage(usage: TokenUsage, *, final: bool = True) -> dict[str, Any]:
    if not final:
        return {"promptTokenCount": usage.input_tokens, "totalTokenCount": usage.input_tokens}
    shaped = {
        "promptTokenCount": usage.input_tokens,
        "candidatesTokenCount": usage.output_tokens - usage.reasoning_tokens,
        "totalTokenCount": usage.input_tokens + usage.output_tokens,
    }
    if usage.reasoning_tokens:
        shaped["thoughtsTokenCount"] = usage.reasoning_tokens
    if usage.cached_tokens:
        shaped["cachedContentTokenCount"] = usage.cached_tokens
    return shaped


def gemini_call_part(call: ToolCall, position: int) -> dict[str, Any]:
    function: dict[str, Any] = {"name": call.name, "args": call.arguments}
    if call.id != "":
        function = {"id": call.id or f"fc_fake_{position}"} | function
    return {"functionCall": function}


def gemini_parts(reply: Reply, *, streamed: bool) -> list[list[dict[str, Any]]]:
    """The reply's parts, grouped by the chunk that carries them when streamed."""
    pieces = (
        (lambda text: split_text(text, reply.chunks)) if streamed else (lambda t: [t] if t else [])
    )
    groups: list[list[dict[str, Any]]] = []
    thoughts = pieces(reply.thinking or "")
    for i, piece in enumerate(thoughts):
        part: dict[str, Any] = {"text": piece, "thought": True}
        if i == len(thoughts) - 1:
            part["thoughtSignature"] = reply.thinking_signature
        groups.append([part])
    groups.extend([{"text": piece}] for piece in pieces(reply.text))
    calls = [gemini_call_part(c, i) for i, c in enumerate(reply.tool_calls)]
    if calls:
        groups.append(calls)
    return groups if streamed else [[part for group in groups for part in group]]


def gemini_chunk(reply: Reply, parts: list[dict[str, Any]], *, last: bool) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if last:
        candidate["finishReason"] = reply.finish_reason or "STOP"
    chunk: dict[str, Any] = {
        "candidates": [candidate],
        "modelVersion": reply.model,
        "responseId": reply.response_id,
    }
    if reply.usage is not None:
        chunk["usageMetadata"] = gemini_usage(reply.usage, final=last)
    return chunk


def gemini_json(reply: Reply) -> dict[str, Any]:
    return gemini_chunk(reply, gemini_parts(reply, streamed=False)[0], last=True)


def gemini_frames(reply: Reply) -> list[Frame]:
    groups = gemini_parts(reply, streamed=True) or [[]]
    return [
        sse(gemini_chunk(reply, parts, last=i == len(groups) - 1), content=bool(parts))
        for i, parts in enumerate(groups)
    ]
