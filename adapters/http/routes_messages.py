"""Routes on a session's history: list, append (one or a batch) and clear.

Appending records messages without calling a model; `If-Match` makes it
conditional on the version the client last saw. The body is one message
object or `{"messages": [...]}`, told apart by the `messages` key.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Response
from pydantic import Discriminator, Tag

from adapters.http.context import ContextDep, LedgerDep
from adapters.http.limits import json_input_guard
from adapters.http.openapi import problem_responses
from adapters.http.params import MAX_OFFSET, ExpectedVersionDep, etag, version_cursor
from adapters.http.schemas import (
    AppendedOut,
    MessageIn,
    MessageOut,
    MessagesIn,
    PageOut,
    SessionOut,
    page_of,
)
from projections.paging import MAX_PAGE_SIZE


def _body_kind(value: Any) -> str:
    return "MessagesIn" if isinstance(value, dict) and "messages" in value else "MessageIn"


# Tags are the class names, so error locations read like pydantic's own union labels.
AppendBody = Annotated[
    Annotated[MessageIn, Tag("MessageIn")] | Annotated[MessagesIn, Tag("MessagesIn")],
    Discriminator(_body_kind),
]

router = APIRouter(
    prefix="/v1/sessions/{session_id}/messages",
    tags=["messages"],
    dependencies=[Depends(json_input_guard)],
)


@router.get(
    "",
    response_model=PageOut[MessageOut],
    responses=problem_responses(404, 410, 422),
    summary="List a session's messages",
)
def list_messages(
    ledger: LedgerDep,
    ctx: ContextDep,
    session_id: str,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 100,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page")] = None,
    offset: Annotated[int | None, Query(ge=0, le=MAX_OFFSET)] = None,
    order: Literal["asc", "desc"] = "asc",
) -> PageOut[MessageOut]:
    """The model-facing history (messages since the last clear), oldest first by default."""
    page = ledger.list_messages(
        ctx.tenant_id,
        session_id,
        limit=limit,
        cursor=version_cursor(cursor),
        offset=offset,
        order=order,
    )
    return PageOut[MessageOut](**page_of(page, MessageOut.of))


@router.post(
    "",
    status_code=201,
    response_model=AppendedOut,
    responses=problem_responses(404, 409, 410, 413, 415, 422),
    summary="Append messages",
)
def append_messages(
    ledger: LedgerDep,
    ctx: ContextDep,
    response: Response,
    session_id: str,
    body: Annotated[AppendBody, Body()],
    expected: ExpectedVersionDep,
) -> AppendedOut:
    """Append one message, or several atomically and in order, without calling a model."""
    given = body.messages if isinstance(body, MessagesIn) else [body]
    result = ledger.append_messages(
        ctx, session_id, [m.to_message() for m in given], expected_version=expected
    )
    response.headers["ETag"] = etag(result.session.version)
    return AppendedOut(
        session=SessionOut.of(result.session),
        messages=[MessageOut.of(entry) for entry in result.messages],
    )


@router.delete(
    "",
    response_model=SessionOut,
    responses=problem_responses(404, 409, 410, 422),
    summary="Clear a session's history",
)
def clear_history(
    ledger: LedgerDep,
    ctx: ContextDep,
    response: Response,
    session_id: str,
    expected: ExpectedVersionDep,
) -> SessionOut:
    """Empty the model-facing history; events and time travel still show the messages."""
    state = ledger.clear_history(ctx, session_id, expected_version=expected)
    response.headers["ETag"] = etag(state.version)
    return SessionOut.of(state)
