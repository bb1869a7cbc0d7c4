"""Routes on a session's past: its event stream, its state at a version or time, and
the exact context of each recorded model call.

They read the event log itself, so they work for deleted sessions too (audit)
and show messages a later clear removed from the model-facing history.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from adapters.call_context import CallContext
from adapters.http.context import ContextDep, LedgerDep
from adapters.http.openapi import problem_responses
from adapters.http.params import version_cursor
from adapters.http.schemas import EventOut, PageOut, StateOut, page_of
from domain.errors import InvalidInputError
from projections.paging import MAX_PAGE_SIZE

router = APIRouter(prefix="/v1/sessions/{session_id}", tags=["history"])


@router.get(
    "/events",
    response_model=PageOut[EventOut],
    responses=problem_responses(404, 422),
    summary="List a session's events",
)
def list_events(
    ledger: LedgerDep,
    ctx: ContextDep,
    session_id: str,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 100,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page")] = None,
) -> PageOut[EventOut]:
    """The session's event stream, oldest first: the audit trail and timeline."""
    page = ledger.list_events(ctx.tenant_id, session_id, limit=limit, cursor=version_cursor(cursor))
    return PageOut[EventOut](**page_of(page, EventOut.of))


@router.get(
    "/state",
    response_model=StateOut,
    responses=problem_responses(404, 422),
    summary="Get a session as it was (time travel)",
)
def get_state(
    ledger: LedgerDep,
    ctx: ContextDep,
    session_id: str,
    version: Annotated[int | None, Query(ge=1, description="a version of the session")] = None,
    at: Annotated[
        AwareDatetime | None,
        Query(description="an RFC 3339 time; the last version recorded at or before it"),
    ] = None,
) -> StateOut:
    """The whole session with its history as of `version` or `at` (now, without either)."""
    if version is not None and at is not None:
        raise InvalidInputError("query.at", "give either version or at, not both")
    full = ledger.get_state(ctx.tenant_id, session_id, version=version, at=at)
    return StateOut.of_state(full.session, full.messages)


@router.get(
    "/completions/{completion_id}/context",
    response_model=CallContext,
    responses=problem_responses(404),
    summary="Get the exact context of a recorded model call",
)
def get_call_context(
    ledger: LedgerDep, ctx: ContextDep, session_id: str, completion_id: str
) -> CallContext:
    """What the call `completion_id` was sent, in order (messages, system text, tools,
    settings), resolved from its manifest as of the versions it saw, and which history
    messages it left out to fit a context limit or had summarised."""
    return ledger.call_context(ctx.tenant_id, session_id, completion_id)
