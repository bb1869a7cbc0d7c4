"""Anthropic Messages JSON: the request body for a `ChatRequest`, and the reply read back.

Rules of llm-wire-formats §3 and §7: instructions go to the top-level `system`; `max_tokens`
is always sent (there is no server default); tool results travel as `tool_result` blocks
opening the next `user` turn, and adjacent same-role turns are merged; thinking blocks are
replayed verbatim, signature included, and only to Anthropic (others' reasoning is dropped).
API version `2026-10-21` rejects `temperature`/`top_p`/`top_k`, `document` blocks in
assistant turns and `citations` on user text: sampling settings are sent only with
`2023-06-01`, an assistant document raises, and citations are never sent back (they are the
model's annotations). Pure functions; imports the domain and the sibling modules only.
"""

from __future__ import annotations

import json
from typing import Any, assert_never

from adapters.llm.errors import UnsupportedContentError, invalid_response
from adapters.llm.parts import arguments_object
from domain.content import (
    Base64Source,
    Citation,
    ContentBlock,
    DocumentBlock,
    FileSource,
    ImageBlock,
    TextBlock,
    TextSource,
    ThinkingBlock,
    ToolCallBlock,
    ToolResultBlock,
    UrlSource,
)
from domain.llm import Candidate, ChatReply, ChatRequest, FinishReason, Usage
from domain.message import Message

ANTHROPIC = "anthropic"
DEFAULT_VERSION = "2026-10-21"
SAMPLING_VERSION = "2023-06-01"
"""The last API version that takes `temperature`, `top_p` and `top_k`."""
DEFAULT_MAX_TOKENS = 1024

_STOP_REASONS: dict[str, FinishReason | None] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_call",
    "refusal": "content_filter",
    "pause_turn": None,  # a paused server-tool turn: re-send the conversation to continue
}


def build_invocation(
    request: ChatRequest,
    *,
    stream: bool = False,
    version: str = DEFAULT_VERSION,
    default_max_tokens: int = DEFAULT_MAX_TOKENS,
) -> dict[str, Any]:
    """The exact JSON body of `POST /v1/messages` for this request."""
    settings = request.settings
    system = [request.system] if request.system else []
    turns: list[dict[str, Any]] = []
    for message in request.messages:
        if message.role == "system":
            system.append(_system_text(message))
            continue
        role = "assistant" if message.role == "assistant" else "user"
        blocks = [b for b in (_block(x, role=role, version=version) for x in message.content) if b]
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    for turn in turns:
        # tool_result blocks must open the user turn that answers the tool_use blocks.
        turn["content"].sort(key=lambda block: block["type"] != "tool_result")
    body: dict[str, Any] = {
        "model": request.model,
        "max_tokens": settings.max_tokens or default_max_tokens,
    }
    if len(system) == 1:
        body["system"] = system[0]
    elif system:
        body["system"] = [{"type": "text", "text": text} for text in system]
    body["messages"] = turns
    if request.tools:
        body["tools"] = [
            {
                "name": tool.name,
                **({"description": tool.description} if tool.description else {}),
                "input_schema": tool.parameters,
            }
            for tool in request.tools
        ]
    if settings.tool_choice is not None:
        body["tool_choice"] = {
            "auto": {"type": "auto"},
            "none": {"type": "none"},
            "required": {"type": "any"},
        }.get(settings.tool_choice, {"type": "tool", "name": settings.tool_choice})
    if settings.stop is not None:
        body["stop_sequences"] = list(settings.stop)
    if version <= SAMPLING_VERSION:
        for name in ("temperature", "top_p", "top_k"):
            if (value := getattr(settings, name)) is not None:
                body[name] = value
    if settings.response_format == "json":
        raise UnsupportedContentError(
            ANTHROPIC, "JSON output needs a schema (output_config.format); none was given"
        )
    if stream:
        body["stream"] = True
    return body


def parse_response(body: dict[str, Any], *, provider: str = ANTHROPIC) -> ChatReply:
    """The normalised reply of a `message` object."""
    content = [parse_block(block, provider=provider) for block in body.get("content") or []]
    raw = body.get("stop_reason")
    details = {"stop_sequence": body["stop_sequence"]} if body.get("stop_sequence") else {}
    return ChatReply(
        candidates=[
            Candidate(content=content, finish_reason=stop_reason(raw), provider_finish_reason=raw)
        ],
        usage=parse_usage(body.get("usage")),
        response_id=body.get("id"),
        response_model=body.get("model"),
        provider=provider,
        provider_details=details,
    )


def parse_block(block: dict[str, Any], *, provider: str) -> ContentBlock:
    """One content block of a reply (complete, or as `content_block_start` opens it)."""
    kind = block.get("type")
    if kind == "text":
        citations = [_citation(c) for c in block.get("citations") or []]
        return TextBlock(text=block.get("text", ""), citations=citations or None)
    if kind == "thinking":
        return ThinkingBlock(
            text=block.get("thinking", ""),
            signature=block.get("signature") or None,
            provider=provider,
        )
    if kind == "redacted_thinking":
        return ThinkingBlock(text="", redacted_data=block.get("data"), provider=provider)
    if kind == "tool_use":
        arguments = block.get("input")
        arguments = arguments if isinstance(arguments, dict) else {}
        return ToolCallBlock(
            id=block.get("id", ""),
            name=block.get("name", ""),
            arguments=arguments,
            arguments_raw=json.dumps(arguments, ensure_ascii=False),
        )
    # Server tools are never declared by us, so their blocks mean a reply we cannot record.
    raise invalid_response(f"unsupported Anthropic content block type {kind!r}")


def parse_usage(usage: Any) -> Usage | None:
    """Usage per llm-wire-formats §1.4: Anthropic's `input_tokens` excludes cache tokens."""
    if not isinstance(usage, dict):
        return None
    cache_read = usage.get("cache_read_input_tokens")
    cache_write = usage.get("cache_creation_input_tokens")
    details = usage.get("output_tokens_details") or {}
    return Usage(
        input_tokens=(usage.get("input_tokens") or 0) + (cache_read or 0) + (cache_write or 0),
        output_tokens=usage.get("output_tokens") or 0,
        cache_read_input_tokens=cache_read,
        cache_write_input_tokens=cache_write,
        reasoning_output_tokens=details.get("thinking_tokens"),
    )


def stop_reason(raw: str | None) -> FinishReason | None:
    """The normalised finish reason (§5.4); unknown values stay only raw."""
    return _STOP_REASONS.get(raw) if raw else None


# Request -------------------------------------------------------------------------------


def _system_text(message: Message) -> str:
    if not all(isinstance(block, TextBlock) for block in message.content):
        raise UnsupportedContentError(ANTHROPIC, "a system message may hold only text")
    return message.text


def _block(block: ContentBlock, *, role: str, version: str) -> dict[str, Any] | None:
    """The wire block, or `None` for reasoning that is not Anthropic's to replay."""
    if isinstance(block, TextBlock):
        return {"type": "text", "text": block.text}
    if isinstance(block, ThinkingBlock) and role == "assistant":
        if block.provider != ANTHROPIC:
            return None
        if block.redacted_data is not None:
            return {"type": "redacted_thinking", "data": block.redacted_data}
        if block.signature is None:
            return None  # unsigned reasoning (a cut stream) would be refused as forged
        return {"type": "thinking", "thinking": block.text, "signature": block.signature}
    if isinstance(block, ToolCallBlock) and role == "assistant":
        return {
            "type": "tool_use",
            "id": block.id,
            "name": block.name,
            "input": arguments_object(block),
        }
    if isinstance(block, ToolResultBlock) and role == "user":
        result: dict[str, Any] = {"type": "tool_result", "tool_use_id": block.tool_call_id}
        parts = [_media_or_text(part, role=role, version=version) for part in block.content]
        if len(parts) == 1 and parts[0]["type"] == "text":
            result["content"] = parts[0]["text"]
        elif parts:
            result["content"] = parts
        if block.is_error:
            result["is_error"] = True
        return result
    if isinstance(block, ImageBlock | DocumentBlock):
        if role == "assistant" and isinstance(block, ImageBlock):
            raise UnsupportedContentError(ANTHROPIC, "an assistant turn cannot hold an image")
        return _media_or_text(block, role=role, version=version)
    raise UnsupportedContentError(ANTHROPIC, f"a {role} turn cannot hold {block.type} content")


def _media_or_text(
    block: TextBlock | ImageBlock | DocumentBlock, *, role: str, version: str
) -> dict[str, Any]:
    if isinstance(block, TextBlock):
        return {"type": "text", "text": block.text}
    if isinstance(block, ImageBlock):
        return {"type": "image", "source": _source(block.source)}
    if role == "assistant" and version > SAMPLING_VERSION:
        raise UnsupportedContentError(
            ANTHROPIC, f"API version {version} refuses document blocks in assistant turns"
        )
    document: dict[str, Any] = {
        "type": "document",
        "source": _source(block.source),
    }
    if block.title:
        document["title"] = block.title
    return document


def _source(source: UrlSource | Base64Source | FileSource | TextSource) -> dict[str, Any]:
    if isinstance(source, Base64Source):
        return {"type": "base64", "media_type": source.media_type, "data": source.data}
    if isinstance(source, UrlSource):
        return {"type": "url", "url": source.url}
    if isinstance(source, TextSource):
        return {"type": "text", "media_type": "text/plain", "data": source.text}
    if isinstance(source, FileSource):
        if source.provider != ANTHROPIC:
            raise UnsupportedContentError(
                ANTHROPIC, f"file {source.file_id!r} belongs to {source.provider}"
            )
        return {"type": "file", "file_id": source.file_id}
    assert_never(source)


def _citation(citation: dict[str, Any]) -> Citation:
    def first(*keys: str) -> int | None:
        return next((citation[k] for k in keys if isinstance(citation.get(k), int)), None)

    return Citation(
        cited_text=citation.get("cited_text", ""),
        document_index=citation.get("document_index"),
        document_title=citation.get("document_title") or citation.get("title"),
        start=first("start_char_index", "start_page_number", "start_block_index"),
        end=first("end_char_index", "end_page_number", "end_block_index"),
    )
