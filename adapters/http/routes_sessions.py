"""Routes on sessions themselves: create, list, get, update, delete, metadata.

Plain `def` endpoints (FastAPI runs them in its threadpool; the ledger is
synchronous) that translate HTTP to `Ledger` calls and back to the JSON shapes
of `schemas.py`. Errors are raised as engine errors and answered by `errors.py`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from adapters.http.auth import deny
from adapters.http.context import ContextDep, LedgerDep, PrincipalDep
from adapters.http.limits import json_input_guard
from adapters.http.openapi import problem_responses
from adapters.http.params import (
    MAX_OFFSET,
    ExpectedVersionDep,
    etag,
    metadata_filter,
    query_text,
    session_cursor,
)
from adapters.http.schemas import (
    PageOut,
    SessionCreate,
    SessionOut,
    SessionPatch,
    SessionSummaryOut,
    page_of,
)
from adapters.ledger import Ledger
from domain.context import CommandContext
from domain.engine import SessionUpdate
from domain.erasure import ERASE_REASON
from domain.errors import SessionDeletedError
from domain.session import PatchMode
from projections.paging import MAX_PAGE_SIZE
from projections.session_list import SessionQuery

router = APIRouter(
    prefix="/v1/sessions", tags=["sessions"], dependencies=[Depends(json_input_guard)]
)

Order = Literal["asc", "desc"]


@router.post(
    "",
    status_code=201,
    response_model=SessionOut,
    responses=problem_responses(413, 415, 422),
    summary="Create a session",
)
def create_session(
    ledger: LedgerDep, ctx: ContextDep, response: Response, body: SessionCreate | None = None
) -> SessionOut:
    """Create a session; every field is optional. `messages` are its first messages, stored
    with it atomically (each gets a new id). `Location` names the new session."""
    state = ledger.create_session(ctx, **(body or SessionCreate()).fields())
    response.headers["Location"] = f"/v1/sessions/{state.id}"
    response.headers["ETag"] = etag(state.version)
    return SessionOut.of(state)


@router.get(
    "",
    response_model=PageOut[SessionSummaryOut],
    responses=problem_responses(422),
    summary="List sessions",
)
def list_sessions(
    ledger: LedgerDep,
    ctx: ContextDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page")] = None,
    offset: Annotated[int | None, Query(ge=0, le=MAX_OFFSET)] = None,
    user_id: str | None = None,
    agent_id: str | None = None,
    metadata_filter_json: Annotated[
        str | None,
        Query(
            alias="metadata_filter",
            description='A JSON object; sessions whose metadata contain it, e.g. {"tier":"gold"}',
        ),
    ] = None,
    order: Annotated[Order, Query(description="by `updated_at`, then id")] = "desc",
    include_deleted: bool = False,
) -> PageOut[SessionSummaryOut]:
    """This tenant's sessions, most recently updated first by default."""
    page = ledger.list_sessions(
        SessionQuery(
            tenant_id=ctx.tenant_id,
            limit=limit,
            cursor=session_cursor(cursor),
            offset=offset,
            user_id=query_text(user_id, "user_id"),
            agent_id=query_text(agent_id, "agent_id"),
            metadata_filter=metadata_filter(metadata_filter_json),
            order=order,
            include_deleted=include_deleted,
        )
    )
    return PageOut[SessionSummaryOut](**page_of(page, SessionSummaryOut.of))


@router.get(
    "/{session_id}",
    response_model=SessionOut,
    responses=problem_responses(404, 410, 422),
    summary="Get a session",
)
def get_session(
    ledger: LedgerDep,
    ctx: ContextDep,
    response: Response,
    session_id: str,
    include: Annotated[
        Literal["messages"] | None,
        Query(description="`messages`: add the model-facing history"),
    ] = None,
) -> SessionOut:
    """The session now; with `include=messages`, its whole state and history."""
    if include == "messages":
        full = ledger.get_state(ctx.tenant_id, session_id)
        if full.session.is_deleted:
            raise SessionDeletedError(session_id)
        state, out = full.session, SessionOut.of(full.session, full.messages)
    else:
        state = ledger.get_session(ctx.tenant_id, session_id)
        out = SessionOut.of(state)
    response.headers["ETag"] = etag(state.version)
    return out


def _update(
    ledger: Ledger,
    ctx: CommandContext,
    response: Response,
    session_id: str,
    body: SessionPatch,
    *,
    mode: PatchMode,
    expected: int | None,
) -> SessionOut:
    state = ledger.update_session(
        ctx,
        session_id,
        SessionUpdate(**body.model_dump()),
        mode=mode,
        expected_version=expected,
    )
    response.headers["ETag"] = etag(state.version)
    return SessionOut.of(state)


@router.patch(
    "/{session_id}",
    response_model=SessionOut,
    responses=problem_responses(404, 409, 410, 413, 415, 422),
    summary="Update a session (merge)",
)
def patch_session(
    ledger: LedgerDep,
    ctx: ContextDep,
    response: Response,
    session_id: str,
    body: SessionPatch,
    expected: ExpectedVersionDep,
) -> SessionOut:
    """Change the fields given; metadata and context merge as JSON Merge Patch."""
    return _update(ledger, ctx, response, session_id, body, mode="merge", expected=expected)


@router.put(
    "/{session_id}",
    response_model=SessionOut,
    responses=problem_responses(404, 409, 410, 413, 415, 422),
    summary="Replace a session's editable fields",
)
def put_session(
    ledger: LedgerDep,
    ctx: ContextDep,
    response: Response,
    session_id: str,
    body: SessionPatch,
    expected: ExpectedVersionDep,
) -> SessionOut:
    """Overwrite title, situation, metadata and context; omitted ones are reset."""
    return _update(ledger, ctx, response, session_id, body, mode="overwrite", expected=expected)


async def admin_to_erase(
    request: Request,
    principal: PrincipalDep,
    erase: Annotated[
        bool, Query(description="Also destroy its content for good (admin only)")
    ] = False,
) -> bool:
    """The `erase` flag, refused (403, recorded as `Access.Denied`) to anyone but admins."""
    if erase and principal.role != "admin":
        await deny(request, principal, "erase sessions")
    return erase


EraseDep = Annotated[bool, Depends(admin_to_erase)]


@router.delete(
    "/{session_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(403, 404, 409, 410, 422),
    summary="Delete a session (soft), or erase its content",
)
def delete_session(
    ledger: LedgerDep,
    ctx: ContextDep,
    session_id: str,
    expected: ExpectedVersionDep,
    erase: EraseDep = False,
    reason: Annotated[str, Query(description="Why it is erased: a code, not prose")] = (
        ERASE_REASON
    ),
) -> Response:
    """Hide the session from lists and refuse changes; its events stay for audit.

    With `erase=true` (admins only; deleted sessions too), its keys are destroyed: its
    content reads as `[erased]` everywhere from now on (see docs/erasure.md).
    """
    if erase:
        ledger.erase_session(ctx, session_id, reason=reason)
    else:
        ledger.delete_session(ctx, session_id, expected_version=expected)
    return Response(status_code=204)


@router.get(
    "/{session_id}/metadata",
    response_model=dict[str, Any],
    responses=problem_responses(404, 410, 422),
    summary="Get a session's metadata",
)
def get_metadata(
    ledger: LedgerDep, ctx: ContextDep, response: Response, session_id: str
) -> dict[str, Any]:
    """The metadata object alone."""
    state = ledger.get_session(ctx.tenant_id, session_id)
    response.headers["ETag"] = etag(state.version)
    return state.metadata
