"""The fake provider in Anthropic Messages JSON and SSE (llm-wire-formats §3.4, §3.5)."""

from __future__ import annotations

import json
from typing import Any

from tests.support.fake_provider_script import Reply, TokenUsage
from tests.support.fake_wire import Frame, default_finish, split_text, sse


def anthropic_usage(usage: TokenUsage, *, output: bool = True) -> dict[str, Any]:
    shaped: dict[str, Any] = {
        "input_tokens": usage.input_tokens - usage.cached_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": usage.cached_tokens,
        "output_tokens": usage.output_tokens if output else 1,
    }
    if output:
        shaped["output_tokens_details"] = {"thinking_tokens": usage.reasoning_tokens}
    return shaped


def anthropic_blocks(reply: Reply) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if reply.thinking:
        blocks.append(
            {"type": "thinking", "thinking": reply.thinking, "signature": reply.thinking_signature}
        )
    if reply.text:
        blocks.append({"type": "text", "text": reply.text})
    for i, call in enumerate(reply.tool_calls):
        blocks.append(
            {
                "type": "tool_use",
                "id": call.id or f"toolu_fake_{i}",
                "name": call.name,
                "input": call.arguments,
            }
        )
    return blocks


def anthropic_json(reply: Reply) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": reply.response_id,
        "type": "message",
        "role": "assistant",
        "model": reply.model,
        "content": anthropic_blocks(reply),
        "stop_reason": reply.finish_reason
        or default_finish("anthropic", called=bool(reply.tool_calls)),
        "stop_sequence": None,
    }
    if reply.usage is not None:
        body["usage"] = anthropic_usage(reply.usage)
    return body


def anthropic_frames(reply: Reply) -> list[Frame]:
    start = anthropic_json(reply) | {"content": [], "stop_reason": None}
    if reply.usage is not None:
        start["usage"] = anthropic_usage(reply.usage, output=False)
    frames = [
        sse({"type": "message_start", "message": start}, event="message_start"),
        sse({"type": "ping"}, event="ping"),
    ]
    for index, block in enumerate(anthropic_blocks(reply)):
        kind = block["type"]
        if kind == "thinking":
            opened = {"type": "thinking", "thinking": "", "signature": ""}
            pieces = [
                {"type": "thinking_delta", "thinking": p}
                for p in split_text(block["thinking"], reply.chunks)
            ]
            pieces.append({"type": "signature_delta", "signature": block["signature"]})
        elif kind == "text":
            opened = {"type": "text", "text": ""}
            texts = split_text(block["text"], reply.chunks)
            pieces = [{"type": "text_delta", "text": p} for p in texts]
        else:
            opened = block | {"input": {}}
            pieces = [
                {"type": "input_json_delta", "partial_json": p}
                for p in split_text(json.dumps(block["input"]), 2)
            ]
        event = "content_block_start"
        frames.append(sse({"type": event, "index": index, "content_block": opened}, event=event))
        for piece in pieces:
            data = {"type": "content_block_delta", "index": index, "delta": piece}
            frames.append(sse(data, event="content_block_delta", content=True))
        stop = {"type": "content_block_stop", "index": index}
        frames.append(sse(stop, event="content_block_stop"))
    ending: dict[str, Any] = {
        "type": "message_delta",
        "delta": {
            "stop_reason": reply.finish_reason
            or default_finish("anthropic", called=bool(reply.tool_calls)),
            "stop_sequence": None,
        },
    }
    if reply.usage is not None:
        ending["usage"] = {
            "output_tokens": reply.usage.output_tokens,
            "output_tokens_details": {"thinking_tokens": reply.usage.reasoning_tokens},
        }
    frames.append(sse(ending, event="message_delta"))
    frames.append(sse({"type": "message_stop"}, event="message_stop"))
    return frames
