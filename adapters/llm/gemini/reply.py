"""Gemini generateContent JSON read back: a `GenerateContentResponse` as a `ChatReply`.

Reply parts become blocks through `PartAssembler`, the same code the stream decoder uses,
so a complete reply and a folded stream agree. Thought signatures stay on their block
(`provider_details["thought_signature"]`, or a thinking block's `signature`); a function
call without an id gets one of ours, marked `synthetic_id`. Finish reasons follow
llm-wire-formats §5.4 (`STOP` with a function call is `tool_call`; a blocked prompt has no
candidates and reads as `content_filter`). Pure functions; imports the domain and the
sibling modules only.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from adapters.llm.errors import invalid_response
from domain.content import (
    Base64Source,
    ContentBlock,
    ImageBlock,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from domain.llm import (
    Candidate,
    ChatReply,
    FinishReason,
    PartDelta,
    PartStarted,
    ReplyDelta,
    Usage,
    fold_deltas,
)

GEMINI = "gcp.gemini"
SIGNATURE = "thought_signature"
SYNTHETIC_ID = "synthetic_id"

_FINISH_REASONS: dict[str, FinishReason] = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    **dict.fromkeys(
        [
            "SAFETY",
            "RECITATION",
            "BLOCKLIST",
            "PROHIBITED_CONTENT",
            "SPII",
            "IMAGE_SAFETY",
            "IMAGE_PROHIBITED_CONTENT",
            "MODEL_ARMOR",
        ],
        "content_filter",
    ),
    **dict.fromkeys(
        [
            "MALFORMED_FUNCTION_CALL",
            "UNEXPECTED_TOOL_CALL",
            "LANGUAGE",
            "TOO_MANY_TOOL_CALLS",
            "MISSING_THOUGHT_SIGNATURE",
            "MALFORMED_RESPONSE",
        ],
        "error",
    ),
}


def parse_response(body: dict[str, Any], *, provider: str = GEMINI) -> ChatReply:
    """The normalised reply of a `GenerateContentResponse`, one candidate per candidate."""
    candidates: list[Candidate] = []
    for candidate in sorted(body.get("candidates") or [], key=lambda c: c.get("index", 0)):
        assembler = PartAssembler(provider=provider)
        deltas = assembler.feed(((candidate.get("content") or {}).get("parts")) or [])
        content = fold_deltas(deltas, provider=provider).content
        raw = candidate.get("finishReason")
        candidates.append(
            Candidate(
                index=candidate.get("index", 0),
                content=content,
                finish_reason=finish_reason(raw, called=assembler.called),
                provider_finish_reason=raw,
            )
        )
    blocked = prompt_block_reason(body)
    if not candidates and blocked:
        candidates = [
            Candidate(content=[], finish_reason="content_filter", provider_finish_reason=blocked)
        ]
    return ChatReply(
        candidates=candidates,
        usage=parse_usage(body.get("usageMetadata")),
        response_id=body.get("responseId"),
        response_model=body.get("modelVersion"),
        provider=provider,
        provider_details={"prompt_block_reason": blocked} if blocked else {},
    )


def parse_usage(metadata: Any) -> Usage | None:
    """Usage per llm-wire-formats §1.4: thoughts are counted outside the candidates."""
    if not isinstance(metadata, dict):
        return None
    thoughts = metadata.get("thoughtsTokenCount")
    return Usage(
        input_tokens=(metadata.get("promptTokenCount") or 0)
        + (metadata.get("toolUsePromptTokenCount") or 0),
        output_tokens=(metadata.get("candidatesTokenCount") or 0) + (thoughts or 0),
        cache_read_input_tokens=metadata.get("cachedContentTokenCount"),
        reasoning_output_tokens=thoughts,
    )


def finish_reason(raw: str | None, *, called: bool) -> FinishReason | None:
    """The normalised reason (§5.4): a function call still finishes with `STOP`."""
    if raw == "STOP" and called:
        return "tool_call"
    return _FINISH_REASONS.get(raw) if raw else None


def prompt_block_reason(body: dict[str, Any]) -> str | None:
    """Why the prompt was refused before any candidate was made, if it was."""
    reason = (body.get("promptFeedback") or {}).get("blockReason")
    return reason if isinstance(reason, str) and reason else None


class PartAssembler:
    """Reply parts, in arrival order, as the deltas of the blocks they make up.

    Text continues the open text block and thought text the open thinking block; a text part
    carrying a thought signature is a block of its own (so it is replayed as it came); a
    function call arrives whole and is always a block of its own.
    """

    def __init__(self, *, provider: str) -> None:
        self._provider = provider
        self._parts = 0
        self._open: tuple[str, int] | None = None
        self.called = False

    def feed(self, parts: list[dict[str, Any]]) -> list[ReplyDelta]:
        deltas: list[ReplyDelta] = []
        for part in parts:
            signature = part.get("thoughtSignature")
            if "functionCall" in part:
                deltas.extend(self._call(part["functionCall"] or {}, signature))
            elif part.get("thought"):
                if self._open is None or self._open[0] != "thinking":
                    block = ThinkingBlock(text="", provider=self._provider)
                    deltas.append(self._start("thinking", block))
                text = part.get("text") or ""
                if text or signature:
                    deltas.append(PartDelta(index=self._parts - 1, text=text, signature=signature))
                if signature:
                    self._open = None  # a signature seals its thought: never merge two of them
            elif "text" in part:
                deltas.extend(self._text(part.get("text") or "", signature))
            elif "inlineData" in part and str(part["inlineData"].get("mimeType", "")).startswith(
                "image/"
            ):
                data = part["inlineData"]
                image = ImageBlock(
                    source=Base64Source(data=data.get("data", ""), media_type=data["mimeType"])
                )
                deltas.append(self._start("image", image))
                self._open = None
            else:
                raise invalid_response(f"unsupported Gemini part with keys {sorted(part)}")
        return deltas

    def _text(self, text: str, signature: str | None) -> list[ReplyDelta]:
        deltas: list[ReplyDelta] = []
        if signature:
            block = TextBlock(text="", provider_details={SIGNATURE: signature})
            deltas.append(self._start("signed-text", block))
            self._open = None
            index = self._parts - 1
        elif not text:
            return deltas
        else:
            if self._open is None or self._open[0] != "text":
                deltas.append(self._start("text", TextBlock(text="")))
            index = self._parts - 1
        if text:
            deltas.append(PartDelta(index=index, text=text))
        return deltas

    def _call(self, call: dict[str, Any], signature: str | None) -> list[ReplyDelta]:
        self.called = True
        details: dict[str, Any] = {}
        if signature:
            details[SIGNATURE] = signature
        call_id = call.get("id")
        if not call_id:
            call_id = f"call_{uuid.uuid4().hex[:24]}"
            details[SYNTHETIC_ID] = True
        block = ToolCallBlock(
            id=call_id,
            name=call.get("name", ""),
            arguments_raw="",
            provider_details=details or None,
        )
        started = self._start("call", block)
        self._open = None
        arguments = json.dumps(call.get("args") or {}, ensure_ascii=False)
        return [started, PartDelta(index=started.index, arguments=arguments)]

    def _start(self, kind: str, block: ContentBlock) -> PartStarted:
        self._open = (kind, self._parts)
        self._parts += 1
        return PartStarted(index=self._parts - 1, part=block)
