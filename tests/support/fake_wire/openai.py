"""The fake provider in OpenAI Chat Completions JSON and SSE (llm-wire-formats §2.3, §2.4)."""

from __future__ import annotations

import json
from typing import Any

from tests.support.fake_provider_script import Reply, TokenUsage, ToolCall
from tests.support.fake_wire import Frame, default_finish, split_text, sse


def openai_usage(usage: TokenUsage) -> dict[str, Any]:
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }


def openai_call(call: ToolCall, position: int) -> dict[str, Any]:
    return {
        "id": call.id or f"call_fake_{position}",
        "type": "function",
        "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
    }


def openai_json(reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None, "refusal": None}
    if reply.thinking:
        message["reasoning_content"] = reply.thinking
    if reply.tool_calls:
        message["tool_calls"] = [openai_call(c, i) for i, c in enumerate(reply.tool_calls)]
    body: dict[str, Any] = {
        "id": reply.response_id,
        "object": "chat.completion",
        "created": 1763700000,
        "model": reply.model,
        "system_fingerprint": "fp_fake",
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": reply.finish_reason
                or default_finish("openai", called=bool(reply.tool_calls)),
                "logprobs": None,
            }
        ],
    }
    if reply.usage is not None:
        body["usage"] = openai_usage(reply.usage)
    return body


def openai_frames(reply: Reply, *, include_usage: bool) -> list[Frame]:
    head = {
        "id": reply.response_id,
        "object": "chat.completion.chunk",
        "created": 1763700000,
        "model": reply.model,
        "system_fingerprint": "fp_fake",
    }

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return head | {"choices": [choice], "usage": None} | extra

    frames = [sse(chunk({"role": "assistant", "content": ""}))]
    for piece in split_text(reply.thinking or "", reply.chunks):
        frames.append(sse(chunk({"reasoning_content": piece}), content=True))
    for piece in split_text(reply.text, reply.chunks):
        frames.append(sse(chunk({"content": piece}), content=True))
    for i, call in enumerate(reply.tool_calls):
        shaped = openai_call(call, i)
        arguments = shaped["function"]["arguments"]
        opening = {"index": i, "id": shaped["id"], "type": "function"}
        opening["function"] = {"name": call.name, "arguments": ""}
        frames.append(sse(chunk({"tool_calls": [opening]}), content=True))
        for piece in split_text(arguments, 2):
            fragment = {"index": i, "function": {"arguments": piece}}
            frames.append(sse(chunk({"tool_calls": [fragment]}), content=True))
    finish = reply.finish_reason or default_finish("openai", called=bool(reply.tool_calls))
    frames.append(sse(chunk({}, finish)))
    if include_usage and reply.usage is not None:
        frames.append(sse(head | {"choices": [], "usage": openai_usage(reply.usage)}))
    frames.append(sse("[DONE]"))
    return frames
