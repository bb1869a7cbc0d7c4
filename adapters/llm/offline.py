"""Models that need no network: deterministic, scripted and replayed replies.

- `OfflineChatModel` answers deterministically from the prompt, so `make run`
  can chat at once with no key (the default provider, `offline`).
- `ScriptedChatModel` plays canned replies from a JSON file, in order: text,
  thinking, tool calls, usage, or a failure (optionally after some chunks).
- `ReplayChatModel` answers with a session's recorded completions, in order
  (deterministic replay).

All three stream their replies as normalised deltas, word by word, so they
exercise the same paths as the HTTP adapters; failures are `ProviderError`s.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import anyio
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain.content import TextBlock, ThinkingBlock, ToolCallBlock
from domain.errors import ProviderError, ProviderStreamError
from domain.llm import (
    Candidate,
    ChatReply,
    ChatRequest,
    FinishReason,
    PartDelta,
    PartStarted,
    ReplyDelta,
    ResponseEnded,
    ResponseStarted,
    Usage,
    fold_deltas,
)


def reply_deltas(reply: ChatReply, *, words_per_chunk: int = 1) -> list[ReplyDelta]:
    """The deltas a stream of `reply` would carry (text in chunks of a few words)."""
    deltas: list[ReplyDelta] = [
        ResponseStarted(response_id=reply.response_id, response_model=reply.response_model)
    ]
    for index, block in enumerate(reply.content):
        if isinstance(block, TextBlock | ThinkingBlock):
            deltas.append(PartStarted(index=index, part=block.model_copy(update={"text": ""})))
            deltas += [
                PartDelta(index=index, text=chunk) for chunk in _chunks(block.text, words_per_chunk)
            ]
        elif isinstance(block, ToolCallBlock):
            raw = block.arguments_raw or json.dumps(block.arguments or {})
            deltas.append(
                PartStarted(index=index, part=block.model_copy(update={"arguments_raw": ""}))
            )
            deltas.append(PartDelta(index=index, arguments=raw))
        else:
            deltas.append(PartStarted(index=index, part=block))
    deltas.append(
        ResponseEnded(
            finish_reason=reply.finish_reason,
            provider_finish_reason=reply.candidates[0].provider_finish_reason
            if reply.candidates
            else None,
            usage=reply.usage,
            provider_details=reply.provider_details,
        )
    )
    return deltas


def _chunks(text: str, words: int) -> list[str]:
    pieces = text.split(" ")
    return [
        " ".join(pieces[i : i + words]) + (" " if i + words < len(pieces) else "")
        for i in range(0, len(pieces), words)
    ]


def _count_words(request: ChatRequest) -> int:
    texts = [request.system or ""] + [m.text for m in request.messages]
    return sum(len(t.split()) for t in texts)


class _CannedModel:
    """Streams whatever `next_reply` decides, yielding between chunks like a real stream."""

    provider = "offline"
    operation_name = "chat"
    server_address: str | None = None
    server_port: int | None = None

    def __init__(self) -> None:
        self.calls = 0

    def next_reply(self, request: ChatRequest) -> tuple[ChatReply, int | None, str | None]:
        """The reply, and optionally: fail after this many chunks with this message."""
        raise NotImplementedError

    async def stream(self, request: ChatRequest) -> AsyncIterator[ReplyDelta]:
        self.calls += 1
        reply, fail_after, failure = self.next_reply(request)
        content_sent = 0
        for delta in reply_deltas(reply):
            ending = isinstance(delta, PartDelta | ResponseEnded)
            if failure is not None and ending and content_sent >= (fail_after or 0):
                kind = ProviderStreamError if content_sent else ProviderError
                raise kind(failure, error_type="scripted_failure")
            await anyio.lowlevel.checkpoint()
            yield delta
            if isinstance(delta, PartDelta):
                content_sent += 1

    async def complete(self, request: ChatRequest) -> ChatReply:
        deltas = [delta async for delta in self.stream(request)]
        return fold_deltas(deltas, provider=self.provider)


class OfflineChatModel(_CannedModel):
    """A deterministic stand-in for a model: no network, no key."""

    def next_reply(self, request: ChatRequest) -> tuple[ChatReply, int | None, str | None]:
        last = next((m.text for m in reversed(request.messages) if m.role == "user"), "")
        if request.settings.response_format == "json":
            topic = " ".join(last.split()[:6]) or "this"
            text = json.dumps(
                [
                    f"Tell me more about {topic}",
                    "Can you give an example?",
                    "What should I do next?",
                ]
            )
        else:
            heard = f"\u201c{last}\u201d" if last else "nothing yet"
            text = (
                f"(offline model) I heard {heard}. I am chatledger's offline stand-in:"
                " set CHATLEDGER_DEFAULT_PROVIDER and a provider key to talk to a real model."
            )
        reply = ChatReply(
            provider=self.provider,
            response_model=request.model,
            candidates=[
                {
                    "content": [TextBlock(text=text)],
                    "finish_reason": "stop",
                    "provider_finish_reason": "stop",
                }  # type: ignore[list-item]
            ],
            usage=Usage(input_tokens=_count_words(request), output_tokens=len(text.split())),
        )
        return reply, None, None


class ScriptedToolCall(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    id: str | None = None


class ScriptedReply(BaseModel):
    """One canned reply; `fail` makes the call fail (after `fail_after_chunks` chunks)."""

    model_config = ConfigDict(extra="forbid")
    text: str = ""
    thinking: str | None = None
    tool_calls: list[ScriptedToolCall] = Field(default_factory=list)
    finish_reason: FinishReason | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    fail: str | None = None
    fail_after_chunks: int = 0


class ScriptedChatModel(_CannedModel):
    """Plays canned replies in order; `loop` starts over when they run out."""

    provider = "scripted"

    def __init__(self, replies: Sequence[ScriptedReply], *, loop: bool = False) -> None:
        super().__init__()
        if not replies:
            raise ValueError("a script needs at least one reply")
        self.replies = list(replies)
        self.loop = loop

    @classmethod
    def from_file(cls, path: str | Path, *, loop: bool = False) -> ScriptedChatModel:
        """Replies from a JSON file: a list of `ScriptedReply` objects (or plain strings)."""
        try:
            raw = json.loads(Path(path).read_text())
            items = raw if isinstance(raw, list) else [raw]
            replies = [
                ScriptedReply(text=item) if isinstance(item, str) else ScriptedReply(**item)
                for item in items
            ]
        except (OSError, ValueError, TypeError, ValidationError) as error:
            raise ValueError(f"cannot read the script {path}: {error}") from None
        return cls(replies, loop=loop)

    def next_reply(self, request: ChatRequest) -> tuple[ChatReply, int | None, str | None]:
        index = self.calls - 1
        if index >= len(self.replies) and not self.loop:
            raise ProviderError(
                f"the script has no reply #{index + 1} (it has {len(self.replies)})",
                error_type="script_exhausted",
            )
        scripted = self.replies[index % len(self.replies)]
        content: list[Any] = []
        if scripted.thinking:
            content.append(ThinkingBlock(text=scripted.thinking, provider=self.provider))
        if scripted.text:
            content.append(TextBlock(text=scripted.text))
        for n, call in enumerate(scripted.tool_calls):
            content.append(
                ToolCallBlock(
                    id=call.id or f"call_{self.calls}_{n}",
                    name=call.name,
                    arguments=call.arguments,
                    arguments_raw=json.dumps(call.arguments),
                )
            )
        finish = scripted.finish_reason or ("tool_call" if scripted.tool_calls else "stop")
        reply = ChatReply(
            provider=self.provider,
            response_model=request.model,
            candidates=[Candidate(content=content, finish_reason=finish)],
            usage=Usage(
                input_tokens=scripted.input_tokens
                if scripted.input_tokens is not None
                else _count_words(request),
                output_tokens=scripted.output_tokens
                if scripted.output_tokens is not None
                else len(scripted.text.split()),
            ),
        )
        failing = scripted.fail is not None
        return reply, scripted.fail_after_chunks if failing else None, scripted.fail


class ReplayChatModel(_CannedModel):
    """Answers with recorded replies, in order (deterministic replay)."""

    provider = "replay"

    def __init__(self, replies: Sequence[ChatReply]) -> None:
        super().__init__()
        self.replies = list(replies)

    def next_reply(self, request: ChatRequest) -> tuple[ChatReply, int | None, str | None]:
        index = self.calls - 1
        if index >= len(self.replies):
            raise ProviderError(
                f"no recorded completion #{index + 1} to replay (there are {len(self.replies)})",
                error_type="replay_exhausted",
            )
        return self.replies[index], None, None
