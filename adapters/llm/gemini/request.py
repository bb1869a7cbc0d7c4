"""Gemini generateContent JSON: the request body for a `ChatRequest` (llm-wire-formats §4.2).

Roles are `user` and `model`; tool results are `functionResponse` parts of a `user` turn
with an object `response` (`{"result": …}`, or `{"error": …}` when the tool failed);
instructions go to `systemInstruction`; adjacent same-role turns are merged; camelCase
everywhere. Thought signatures are replayed on the part that carried them, reasoning only
to Gemini, and a call that came without an id (ours is marked `synthetic_id`) is replayed
without one. Media is sent inline or as a Files API / `gs://` URI: the adapter downloads
nothing. Pure functions; imports the domain and the sibling modules only.
"""

from __future__ import annotations

from typing import Any, assert_never

from adapters.llm.errors import UnsupportedContentError
from adapters.llm.gemini.reply import GEMINI, SIGNATURE, SYNTHETIC_ID
from adapters.llm.parts import arguments_object, document_text, tool_result_text
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
from domain.llm import ChatRequest

_FILE_URI_PREFIXES = ("gs://", "https://generativelanguage.googleapis.com/")


def build_invocation(request: ChatRequest) -> dict[str, Any]:
    """The exact JSON body of `models/{model}:generateContent` (and of the stream)."""
    calls = {
        block.id: block
        for message in request.messages
        for block in message.content
        if isinstance(block, ToolCallBlock)
    }
    system = [request.system] if request.system else []
    contents: list[dict[str, Any]] = []
    for message in request.messages:
        if message.role == "system":
            if not all(isinstance(block, TextBlock) for block in message.content):
                raise UnsupportedContentError(GEMINI, "a system message may hold only text")
            system.append(message.text)
            continue
        role = "model" if message.role == "assistant" else "user"
        parts = [
            p for p in (_part(block, role=role, calls=calls) for block in message.content) if p
        ]
        if not parts:
            continue
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})
    body: dict[str, Any] = {"contents": contents}
    if system:
        body["systemInstruction"] = {"parts": [{"text": text} for text in system]}
    if request.tools:
        declarations = [
            {
                "name": tool.name,
                **({"description": tool.description} if tool.description else {}),
                "parametersJsonSchema": tool.parameters,
            }
            for tool in request.tools
        ]
        body["tools"] = [{"functionDeclarations": declarations}]
    settings = request.settings
    if settings.tool_choice is not None:
        modes = {"auto": "AUTO", "none": "NONE", "required": "ANY"}
        config: dict[str, Any] = {"mode": modes.get(settings.tool_choice, "ANY")}
        if settings.tool_choice not in modes:
            config["allowedFunctionNames"] = [settings.tool_choice]
        body["toolConfig"] = {"functionCallingConfig": config}
    generation: dict[str, Any] = {
        wire: value
        for wire, value in (
            ("temperature", settings.temperature),
            ("topP", settings.top_p),
            ("topK", settings.top_k),
            ("maxOutputTokens", settings.max_tokens),
            ("stopSequences", settings.stop),
            ("seed", settings.seed),
        )
        if value is not None
    }
    if settings.response_format is not None:
        json_out = settings.response_format == "json"
        generation["responseMimeType"] = "application/json" if json_out else "text/plain"
    if generation:
        body["generationConfig"] = generation
    return body


# Request parts -------------------------------------------------------------------------


def _part(
    block: ContentBlock, *, role: str, calls: dict[str, ToolCallBlock]
) -> dict[str, Any] | None:
    """The wire part, or `None` for reasoning that is not Gemini's to replay."""
    details = block.provider_details or {}
    signed = {"thoughtSignature": details[SIGNATURE]} if details.get(SIGNATURE) else {}
    if isinstance(block, TextBlock):
        return {"text": block.text} | signed
    if isinstance(block, ThinkingBlock) and role == "model":
        if block.provider != GEMINI:
            return None
        signature = {"thoughtSignature": block.signature} if block.signature else {}
        return {"text": block.text, "thought": True} | signature
    if isinstance(block, ToolCallBlock) and role == "model":
        call = {"name": block.name, "args": arguments_object(block)}
        if not details.get(SYNTHETIC_ID):
            call = {"id": block.id} | call
        return {"functionCall": call} | signed
    if isinstance(block, ToolResultBlock) and role == "user":
        return {"functionResponse": _function_response(block, calls)}
    if isinstance(block, ImageBlock):
        return _media(block.source, media_type=None)
    if isinstance(block, DocumentBlock):
        if isinstance(block.source, TextSource):
            return {"text": document_text(block, block.source)}
        return _media(block.source, media_type=block.media_type)
    raise UnsupportedContentError(GEMINI, f"a {role} turn cannot hold {block.type} content")


def _function_response(block: ToolResultBlock, calls: dict[str, ToolCallBlock]) -> dict[str, Any]:
    call = calls.get(block.tool_call_id)
    name = block.name or (call.name if call else None)
    if not name:
        raise UnsupportedContentError(
            GEMINI, f"tool result {block.tool_call_id!r} names no tool and answers no known call"
        )
    text = tool_result_text(block, provider=GEMINI)
    response: dict[str, Any] = {
        "name": name,
        "response": {"error" if block.is_error else "result": text},
    }
    if not (call and (call.provider_details or {}).get(SYNTHETIC_ID)):
        response = {"id": block.tool_call_id} | response
    return response


def _media(
    source: UrlSource | Base64Source | FileSource, *, media_type: str | None
) -> dict[str, Any]:
    mime = {"mimeType": media_type} if media_type else {}
    if isinstance(source, Base64Source):
        return {"inlineData": {"mimeType": source.media_type, "data": source.data}}
    if isinstance(source, UrlSource):
        if not source.url.startswith(_FILE_URI_PREFIXES):
            raise UnsupportedContentError(
                GEMINI, "Gemini fetches only Files API and gs:// URIs; send other media inline"
            )
        return {"fileData": mime | {"fileUri": source.url}}
    if isinstance(source, FileSource):
        if source.provider != GEMINI:
            raise UnsupportedContentError(
                GEMINI, f"file {source.file_id!r} belongs to {source.provider}"
            )
        return {"fileData": mime | {"fileUri": source.file_id}}
    assert_never(source)
