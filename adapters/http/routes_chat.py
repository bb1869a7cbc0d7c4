"""Routes that talk to models: one chat turn (JSON or SSE), the latest suggestions, and
summaries that stand in for older messages.

A turn is checked and started by `ChatService.start` before any byte is
answered, so every refusal (unknown or deleted session or agent, invalid
input, template errors, an unconfigured provider, a reused idempotency key) is
an ordinary problem+json response. Then the turn answers as one JSON
`TurnResult`, or streams its events (`sse.py`); a tenant's concurrent streams
are capped (`streams.py`: 429 with `Retry-After` over the cap). The turn runs in its own task:
a client that goes away mid-stream does not stop it from being recorded.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Response

from adapters.chat_events import TurnResult
from adapters.http.context import ContextDep, LedgerDep
from adapters.http.limits import json_input_guard
from adapters.http.openapi import problem_responses
from adapters.http.params import IdempotencyKeyDep, etag
from adapters.http.schemas import SessionOut
from adapters.http.schemas_branches import SummarizeIn
from adapters.http.schemas_chat import SETTINGS_RULE, ChatIn, SuggestionsOut
from adapters.http.sse import (
    SSE_HEADERS,
    SSE_MEDIA_TYPE,
    STREAM_DESCRIPTION,
    event_stream_content,
    turn_frames,
)
from adapters.http.streams import SlotStreamingResponse, StreamSlotsDep

router = APIRouter(
    prefix="/v1/sessions/{session_id}",
    tags=["chat"],
    dependencies=[Depends(json_input_guard)],
)

_CHAT_PROBLEMS = {
    404: "No such session in this tenant, or its agent does not exist",
    410: "The session, or its agent, was deleted",
    422: "Invalid input (`field` names it), a template that fails to render, a provider that "
    "is not configured or cannot take the content, or an `Idempotency-Key` reused for a "
    "different request",
}


def wants_stream(stream: bool | None, accept: str | None) -> bool:
    """`stream` when the body says; otherwise whether `Accept` names `text/event-stream`."""
    if stream is not None:
        return stream
    return SSE_MEDIA_TYPE in (accept or "").lower()


@router.post(
    "/chat",
    response_model=TurnResult,
    responses={
        200: {
            "description": "The turn's result (JSON), or its events (SSE)",
            "content": event_stream_content(),
        },
        **problem_responses(404, 410, 413, 415, 422, 429, 502, 504, descriptions=_CHAT_PROBLEMS),
    },
    summary="Chat: run one turn",
    description="Send new input (a `message`, and/or `messages` such as tool results), call "
    "the session's model with the history, and record the user message, the completion "
    "(`Session.CompletionRecorded`, or `Session.CompletionFailed`) and the reply.\n\n"
    f"{SETTINGS_RULE}\n\n{STREAM_DESCRIPTION}",
)
async def chat(
    ledger: LedgerDep,
    ctx: ContextDep,
    response: Response,
    session_id: str,
    body: ChatIn,
    key: IdempotencyKeyDep,
    slots: StreamSlotsDep,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Any:
    slot = slots.acquire(ctx.tenant_id) if wants_stream(body.stream, accept) else None
    try:
        handle = await ledger.chat_service.start(
            ctx, session_id, body.to_turn(), idempotency_key=key, suggestions=body.suggestions
        )
    except BaseException:
        if slot is not None:
            slot.release()
        raise
    if slot is not None:
        return SlotStreamingResponse(
            turn_frames(handle), slot, media_type=SSE_MEDIA_TYPE, headers=SSE_HEADERS
        )
    result = await handle.result()
    response.headers["ETag"] = etag(result.version)
    return result


@router.get(
    "/suggestions",
    response_model=SuggestionsOut,
    responses=problem_responses(404, 410, 422),
    summary="Get the latest follow-up suggestions",
)
def get_suggestions(ledger: LedgerDep, ctx: ContextDep, session_id: str) -> SuggestionsOut:
    """The suggestions recorded by the latest turn that asked for them (`suggestions: true`)."""
    return SuggestionsOut(data=ledger.get_suggestions(ctx.tenant_id, session_id))


@router.post(
    "/summarize",
    response_model=SessionOut,
    responses=problem_responses(
        404,
        410,
        413,
        415,
        422,
        429,
        502,
        504,
        descriptions={
            422: "Invalid input (`field` names it), nothing left to summarise (`messages`), "
            "or a provider that is not configured"
        },
    ),
    summary="Summarise the history",
)
async def summarize(
    ledger: LedgerDep,
    ctx: ContextDep,
    response: Response,
    session_id: str,
    body: SummarizeIn | None = None,
) -> SessionOut:
    """Record `Session.Summarized`: from now on, prompts send the summary instead of the
    messages up to `up_to_version` not yet summarised. The messages stay in the history
    and the log. Without `text`, the session's model writes the summary (the call is
    recorded as `Session.CompletionRecorded`). Answers the session with its `summaries`."""
    body = body or SummarizeIn()
    state = await ledger.asummarize(
        ctx, session_id, up_to_version=body.up_to_version, text=body.text
    )
    response.headers["ETag"] = etag(state.version)
    return SessionOut.of(state)
