"""Content-block conversions that several wire formats share.

Tool-call arguments as a JSON string (OpenAI) or an object (Anthropic, Gemini), a text
document rendered as delimited text for APIs without document blocks (our convention,
llm-wire-formats §5.3), and the text of a tool result for APIs that take only text. Imports
the domain and `adapters.llm.errors` only.
"""

from __future__ import annotations

import json
from typing import Any

from adapters.llm.errors import UnsupportedContentError
from domain.content import (
    DocumentBlock,
    ImageBlock,
    TextBlock,
    TextSource,
    ToolCallBlock,
    ToolResultBlock,
)

INVALID_JSON_KEY = "INVALID_JSON"
"""Arguments that were not a JSON object are replayed under this key (pydantic-ai does so)."""


def arguments_json(call: ToolCallBlock) -> str:
    """The call's arguments as the JSON string the model produced (or our encoding of them)."""
    if call.arguments_raw is not None:
        return call.arguments_raw
    return json.dumps(call.arguments or {}, ensure_ascii=False)


def arguments_object(call: ToolCallBlock) -> dict[str, Any]:
    """The call's arguments as a JSON object, for APIs that want one."""
    if call.arguments is not None:
        return dict(call.arguments)
    raw = (call.arguments_raw or "").strip()
    if not raw:
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:
        return {INVALID_JSON_KEY: call.arguments_raw}
    return parsed if isinstance(parsed, dict) else {INVALID_JSON_KEY: call.arguments_raw}


def document_text(block: DocumentBlock, source: TextSource) -> str:
    """A text document as delimited text, titled when it has a title."""
    title = f' title="{block.title}"' if block.title else ""
    return f"<document{title}>\n{source.text}\n</document>"


def tool_result_text(block: ToolResultBlock, *, provider: str) -> str:
    """The text of a tool result; media parts raise, since these APIs take only text here."""
    texts: list[str] = []
    for part in block.content:
        if isinstance(part, TextBlock):
            texts.append(part.text)
        elif isinstance(part, DocumentBlock) and isinstance(part.source, TextSource):
            texts.append(document_text(part, part.source))
        elif isinstance(part, ImageBlock | DocumentBlock):
            raise UnsupportedContentError(
                provider,
                f"tool result {block.tool_call_id!r} holds {part.type} content; "
                "this API takes only text in tool results",
            )
    return "\n".join(texts)
