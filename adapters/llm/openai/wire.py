"""OpenAI Chat Completions JSON: the request body for a `ChatRequest`, and the reply read back.

Also serves OpenAI-compatible servers (vLLM, Ollama, llama.cpp): `provider` says which one,
and decides what differs (llm-wire-formats §2.6): api.openai.com takes
`max_completion_tokens` and rejects `top_k`; compatible servers take `max_tokens` and
`top_k`; Ollama cannot fetch image URLs. Instructions go first as a `system` message (every
server knows that role). Reasoning is never replayed: api.openai.com does not take it back
and compatible servers disagree on the field (§5.3). Pure functions; imports the domain and
the sibling modules `parts` and `errors` only.
"""

from __future__ import annotations

import json
from typing import Any, assert_never

from adapters.llm.errors import UnsupportedContentError
from adapters.llm.parts import arguments_json, document_text, tool_result_text
from domain.content import (
    Base64Source,
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

OPENAI = "openai"

_FINISH_REASONS: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_call",
    "function_call": "tool_call",
    "content_filter": "content_filter",
}


def build_invocation(
    request: ChatRequest, *, provider: str = OPENAI, stream: bool = False
) -> dict[str, Any]:
    """The exact JSON body of `POST /chat/completions` for this request."""
    body: dict[str, Any] = {"model": request.model, "messages": _messages(request, provider)}
    if request.tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": tool.name,
                    **({"description": tool.description} if tool.description else {}),
                    "parameters": tool.parameters,
                },
            }
            for tool in request.tools
        ]
    settings = request.settings
    if settings.max_tokens is not None:
        # Reasoning models on api.openai.com reject `max_tokens`; local servers document it.
        field = "max_completion_tokens" if provider == OPENAI else "max_tokens"
        body[field] = settings.max_tokens
    if settings.temperature is not None:
        body["temperature"] = settings.temperature
    if settings.top_p is not None:
        body["top_p"] = settings.top_p
    if settings.top_k is not None and provider != OPENAI:
        body["top_k"] = settings.top_k  # an extension of vLLM and llama.cpp; OpenAI rejects it
    if settings.stop is not None:
        body["stop"] = list(settings.stop)
    if settings.seed is not None:
        body["seed"] = settings.seed
    if settings.tool_choice is not None:
        choice = settings.tool_choice
        body["tool_choice"] = (
            choice
            if choice in ("auto", "none", "required")
            else {"type": "function", "function": {"name": choice}}
        )
    if settings.response_format is not None:
        kind = "json_object" if settings.response_format == "json" else "text"
        body["response_format"] = {"type": kind}
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def parse_response(body: dict[str, Any], *, provider: str = OPENAI) -> ChatReply:
    """The normalised reply of a `chat.completion` object, one candidate per choice."""
    choices = sorted(body.get("choices") or [], key=lambda choice: choice.get("index", 0))
    details = {
        key: body[key]
        for key in ("system_fingerprint", "service_tier")
        if body.get(key) is not None
    }
    return ChatReply(
        candidates=[_candidate(choice, provider) for choice in choices],
        usage=parse_usage(body.get("usage")),
        response_id=body.get("id"),
        response_model=body.get("model"),
        provider=provider,
        provider_details=details,
    )


def parse_usage(usage: Any) -> Usage | None:
    """Usage per llm-wire-formats §1.4: `prompt_tokens` already includes cached tokens."""
    if not isinstance(usage, dict):
        return None
    prompt = usage.get("prompt_tokens_details") or {}
    completion = usage.get("completion_tokens_details") or {}
    return Usage(
        input_tokens=usage.get("prompt_tokens") or 0,
        output_tokens=usage.get("completion_tokens") or 0,
        cache_read_input_tokens=prompt.get("cached_tokens"),
        cache_write_input_tokens=prompt.get("cache_write_tokens"),
        reasoning_output_tokens=completion.get("reasoning_tokens"),
    )


def finish_reason(raw: str | None, *, refused: bool = False) -> FinishReason | None:
    """The normalised finish reason (§5.4); a refusal counts as filtered content."""
    if refused:
        return "content_filter"
    return _FINISH_REASONS.get(raw) if raw else None


def reasoning_text(fields: dict[str, Any]) -> str:
    """Reasoning that compatible servers add to a message or delta, under either name."""
    value = fields.get("reasoning_content") or fields.get("reasoning")
    return value if isinstance(value, str) else ""


# Request -------------------------------------------------------------------------------


def _messages(request: ChatRequest, provider: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if request.system:
        messages.append({"role": "system", "content": request.system})
    for message in request.messages:
        messages.extend(_message(message, provider))
    return messages


def _message(message: Message, provider: str) -> list[dict[str, Any]]:
    named = {"name": message.name} if message.name and message.role != "tool" else {}
    if message.role == "assistant":
        return [_assistant(message, provider) | named]
    # Each tool result is a `tool` message of its own, answering the assistant's call.
    results = [b for b in message.content if isinstance(b, ToolResultBlock)]
    rest = [b for b in message.content if not isinstance(b, ToolResultBlock)]
    shaped = [
        {
            "role": "tool",
            "tool_call_id": result.tool_call_id,
            "content": ("Error: " if result.is_error else "")
            + tool_result_text(result, provider=provider),
        }
        for result in results
    ]
    if message.role == "tool" and rest:
        raise UnsupportedContentError(
            provider, f"a tool message may hold only tool results, not {rest[0].type}"
        )
    if rest:
        parts = [_user_part(block, provider, role=message.role) for block in rest]
        content: Any = parts[0]["text"] if len(parts) == 1 and parts[0]["type"] == "text" else parts
        shaped.append({"role": message.role, "content": content} | named)
    return shaped


def _assistant(message: Message, provider: str) -> dict[str, Any]:
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for block in message.content:
        if isinstance(block, TextBlock):
            texts.append(block.text)
        elif isinstance(block, ToolCallBlock):
            calls.append(
                {
                    "id": block.id,
                    "type": "function",
                    "function": {"name": block.name, "arguments": arguments_json(block)},
                }
            )
        elif isinstance(block, ThinkingBlock):
            continue  # not replayed to Chat Completions (see the module docstring)
        else:
            raise UnsupportedContentError(
                provider, f"an assistant message cannot hold {block.type} content"
            )
    shaped: dict[str, Any] = {"role": "assistant", "content": "".join(texts) if texts else None}
    if calls:
        shaped["tool_calls"] = calls
    elif shaped["content"] is None:
        shaped["content"] = ""
    return shaped


def _user_part(block: ContentBlock, provider: str, *, role: str) -> dict[str, Any]:
    if isinstance(block, TextBlock):
        return {"type": "text", "text": block.text}
    if role == "system":
        raise UnsupportedContentError(provider, f"a system message cannot hold {block.type}")
    if isinstance(block, ImageBlock):
        return {"type": "image_url", "image_url": _image_url(block, provider)}
    if isinstance(block, DocumentBlock):
        return _document(block, provider)
    if isinstance(block, ToolCallBlock | ThinkingBlock | ToolResultBlock):
        raise UnsupportedContentError(provider, f"a {role} message cannot hold {block.type}")
    assert_never(block)


def _image_url(block: ImageBlock, provider: str) -> dict[str, Any]:
    source = block.source
    if isinstance(source, UrlSource):
        if provider == "ollama":
            raise UnsupportedContentError(
                provider, "Ollama cannot fetch image URLs; send the image as base64 data"
            )
        url = source.url
    elif isinstance(source, Base64Source):
        url = f"data:{source.media_type};base64,{source.data}"
    elif isinstance(source, FileSource):
        raise UnsupportedContentError(provider, "Chat Completions takes no image file ids")
    else:
        assert_never(source)
    return {"url": url} | ({"detail": block.detail} if block.detail else {})


def _document(block: DocumentBlock, provider: str) -> dict[str, Any]:
    source = block.source
    if isinstance(source, TextSource):
        return {"type": "text", "text": document_text(block, source)}
    if isinstance(source, Base64Source):
        filename = block.title or ("document.pdf" if source.media_type.endswith("pdf") else "file")
        data = f"data:{source.media_type};base64,{source.data}"
        return {"type": "file", "file": {"file_data": data, "filename": filename}}
    if isinstance(source, FileSource):
        if source.provider != provider:
            raise UnsupportedContentError(
                provider, f"file {source.file_id!r} belongs to {source.provider}"
            )
        return {"type": "file", "file": {"file_id": source.file_id}}
    if isinstance(source, UrlSource):
        raise UnsupportedContentError(
            provider, "Chat Completions cannot fetch documents by URL; send them as base64 data"
        )
    assert_never(source)


# Reply ---------------------------------------------------------------------------------


def _candidate(choice: dict[str, Any], provider: str) -> Candidate:
    message = choice.get("message") or {}
    content: list[ContentBlock] = []
    if reasoning := reasoning_text(message):
        content.append(ThinkingBlock(text=reasoning, provider=provider))
    text = message.get("content")
    if isinstance(text, list):  # some compatible servers answer with content parts
        text = "".join(p.get("text", "") for p in text if isinstance(p, dict))
    if text:
        content.append(TextBlock(text=text))
    refusal = message.get("refusal")
    if refusal:
        content.append(TextBlock(text=refusal, provider_details={"refusal": True}))
    for position, call in enumerate(message.get("tool_calls") or []):
        function = call.get("function") or {}
        call_id = call.get("id") or f"call_{position}"  # as the stream decoder names it
        content.append(tool_call(call_id, function.get("name") or "", function))
    raw = choice.get("finish_reason")
    return Candidate(
        index=choice.get("index", 0),
        content=content,
        finish_reason=finish_reason(raw, refused=bool(refusal)),
        provider_finish_reason=raw,
    )


def tool_call(call_id: str, name: str, function: dict[str, Any]) -> ToolCallBlock:
    """A tool call whose arguments arrived whole, parsed the way `fold_deltas` parses them."""
    raw = function.get("arguments")
    raw = raw if isinstance(raw, str) else ""
    try:
        arguments = json.loads(raw) if raw else {}
    except ValueError:
        arguments = None
    return ToolCallBlock(
        id=call_id,
        name=name,
        arguments=arguments if isinstance(arguments, dict) else None,
        arguments_raw=raw,
    )
