"""Model calls beside a turn's answer: a summary of old messages, follow-up suggestions.

`summarize` has the model write a summary that stands in for a range of the
history in later prompts (an agent's `summarize` context policy, or
`Ledger.summarize` without a text); `suggest` asks, after an answer, for up to
three follow-up messages the user might send. Each is one recorded completion
(`remember=False`, so nothing enters the history) followed by its own event:
`Summarized` or `SuggestionsRecorded`.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID, uuid4

import anyio

from domain.context import CommandContext
from domain.llm import ChatReply
from domain.message import Message
from domain.ports import ChatModel
from domain.session import SessionState
from domain.turns import PreparedTurn, Recalled

if TYPE_CHECKING:
    from adapters.ledger import Ledger

SUMMARY_PROMPT = (
    "Summarise the conversation below for someone who must continue it: keep names, facts,"
    " decisions and open questions. Answer with the summary only."
)
SUGGESTIONS_PROMPT = (
    "Suggest up to three short follow-up messages the user might send next."
    " Answer with a JSON array of strings and nothing else."
)


async def summarize(
    ledger: Ledger,
    ctx: CommandContext,
    session_id: UUID,
    covered: list[Recalled],
    *,
    model: ChatModel,
    like: PreparedTurn,
) -> str:
    """Have the model summarise `covered`; record the call and `Summarized`."""
    conversation = "\n".join(f"{r.message.role}: {r.message.text}" for r in covered)
    asked, reply, started = await _ask(
        model,
        like,
        system=SUMMARY_PROMPT,
        messages=[Message.user(conversation)],
        response_format=None,
        message_ids=[r.message.id or "" for r in covered],
    )
    completion_id = uuid4().hex

    def record() -> None:
        ledger.record_turn(
            ctx,
            session_id,
            asked,
            reply,
            completion_id=completion_id,
            latency_ms=(time.monotonic() - started) * 1000,
        )
        ledger.record_summary(
            ctx, session_id, text=reply.text, covered=covered, completion_id=completion_id
        )

    await anyio.to_thread.run_sync(record)
    return reply.text


async def suggest(
    ledger: Ledger,
    ctx: CommandContext,
    session: SessionState,
    prepared: PreparedTurn,
    model: ChatModel,
    reply: ChatReply,
    after_completion: str,
) -> list[str]:
    """Ask the model for follow-ups; record the call and `SuggestionsRecorded`."""
    asked, suggestion_reply, started = await _ask(
        model,
        prepared,
        system=SUGGESTIONS_PROMPT,
        messages=[*prepared.request.messages, reply.message()],
        response_format="json",
    )
    suggestions = _parse_suggestions(suggestion_reply.text)
    completion_id = uuid4().hex

    def record() -> None:
        ledger.record_turn(
            ctx,
            session.id,
            asked,
            suggestion_reply,
            completion_id=completion_id,
            latency_ms=(time.monotonic() - started) * 1000,
        )
        ledger.record_suggestions(ctx, session.id, after_completion, suggestions)

    await anyio.to_thread.run_sync(record)
    return suggestions


async def _ask(
    model: ChatModel,
    like: PreparedTurn,
    *,
    system: str,
    messages: list[Message],
    response_format: Literal["json"] | None,
    message_ids: list[str] | None = None,
) -> tuple[PreparedTurn, ChatReply, float]:
    """One call like the turn's (same provider, model and settings) with its own prompt
    and no tools. Returns what was asked (to record, kept out of the history), the reply
    and when the call started."""
    request = like.request.model_copy(
        update={
            "system": system,
            "messages": messages,
            "tools": [],
            "settings": like.request.settings.model_copy(
                update={"response_format": response_format, "tool_choice": None}
            ),
        }
    )
    started = time.monotonic()
    reply = await model.complete(request)
    manifest: dict[str, Any] = {"system": system, "input_message_ids": []}
    if message_ids is not None:
        manifest |= {"message_ids": message_ids, "history": None}
    asked = PreparedTurn(
        provider=like.provider,
        request=request,
        manifest=like.manifest.model_copy(update=manifest),
        input_messages=[],
        agent_id=like.agent_id,
        remember=False,
    )
    return asked, reply, started


def _parse_suggestions(text: str) -> list[str]:
    try:
        value = json.loads(text)
    except ValueError:
        value = [line.strip(" -*\t") for line in text.splitlines()]
    if not isinstance(value, list):
        value = [value]
    return [str(item).strip() for item in value if str(item).strip()][:3]
