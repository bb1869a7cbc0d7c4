"""Gemini `streamGenerateContent?alt=sse` chunks as reply deltas (llm-wire-formats §4.4).

Each `data:` event is a whole `GenerateContentResponse` holding the next parts; there is no
`[DONE]`: the reply is over when the body ends, and it is complete only if a finish reason
(or a prompt block) arrived. `usageMetadata` comes as cumulative snapshots that may omit a
field an earlier one had, so the last non-zero value of each field is kept, never a sum.
A chunk with an `error` key is an in-band failure. Only candidate 0 is read: we never ask
for `candidateCount`. Imports the domain and the sibling modules only.
"""

from __future__ import annotations

from typing import Any

from adapters.llm.calls import event_json
from adapters.llm.errors import in_band_error, incomplete_stream
from adapters.llm.gemini.reply import (
    PartAssembler,
    finish_reason,
    parse_usage,
    prompt_block_reason,
)
from adapters.llm.sse import ServerSentEvent
from domain.llm import ReplyDelta, ResponseEnded, ResponseStarted


class GeminiStreamDecoder:
    """The deltas of one streamed generateContent response."""

    def __init__(self, *, provider: str) -> None:
        self._assembler = PartAssembler(provider=provider)
        self._started = False
        self._usage: dict[str, Any] = {}
        self._finish: str | None = None
        self._blocked: str | None = None

    @property
    def done(self) -> bool:
        return False  # only the end of the body ends a Gemini stream

    def feed(self, event: ServerSentEvent) -> list[ReplyDelta]:
        chunk = event_json(event)
        if chunk.get("error") is not None:
            raise in_band_error(chunk)
        deltas: list[ReplyDelta] = []
        if not self._started:
            self._started = True
            deltas.append(
                ResponseStarted(
                    response_id=chunk.get("responseId"), response_model=chunk.get("modelVersion")
                )
            )
        metadata = chunk.get("usageMetadata")
        if isinstance(metadata, dict):
            self._usage.update({k: v for k, v in metadata.items() if v})
        self._blocked = prompt_block_reason(chunk) or self._blocked
        for candidate in chunk.get("candidates") or []:
            if candidate.get("index", 0) != 0:
                continue
            parts = (candidate.get("content") or {}).get("parts") or []
            deltas.extend(self._assembler.feed(parts))
            self._finish = candidate.get("finishReason") or self._finish
        return deltas

    def finish(self) -> ResponseEnded:
        usage = parse_usage(self._usage) if self._usage else None
        if self._finish is None and self._blocked:
            return ResponseEnded(
                finish_reason="content_filter",
                provider_finish_reason=self._blocked,
                usage=usage,
                provider_details={"prompt_block_reason": self._blocked},
            )
        if self._finish is None:
            raise incomplete_stream("the body ended before a finishReason")
        return ResponseEnded(
            finish_reason=finish_reason(self._finish, called=self._assembler.called),
            provider_finish_reason=self._finish,
            usage=usage,
        )
