"""Routes that compare and branch sessions: diff two versions, fork, copy and merge.

Plain `def` endpoints (FastAPI runs them in its threadpool; the ledger is
synchronous). A fork, copy or merge answers 201 with the new session and its
`Location`; the new session's messages name where they came from (`origin`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from adapters.http.context import ContextDep, LedgerDep
from adapters.http.limits import json_input_guard
from adapters.http.openapi import problem_responses
from adapters.http.params import etag
from adapters.http.schemas import SessionOut
from adapters.http.schemas_branches import CopyIn, DiffOut, ForkIn, MergeIn
from domain.errors import InvalidVersionError
from domain.session import SessionState

router = APIRouter(
    prefix="/v1/sessions", tags=["branches"], dependencies=[Depends(json_input_guard)]
)

_NEW_SESSION: dict[int | str, dict[str, Any]] = {
    201: {
        "description": "The new session; `Location` names it",
        "headers": {"Location": {"schema": {"type": "string"}, "description": "Its URL"}},
    }
}


def _created(response: Response, state: SessionState) -> SessionOut:
    response.headers["Location"] = f"/v1/sessions/{state.id}"
    response.headers["ETag"] = etag(state.version)
    return SessionOut.of(state)


@router.get(
    "/{session_id}/diff",
    response_model=DiffOut,
    responses=problem_responses(404, 422),
    summary="Compare two versions of a session",
)
def diff_session(
    ledger: LedgerDep,
    ctx: ContextDep,
    session_id: str,
    from_version: Annotated[int, Query(alias="from", ge=1, description="The earlier version")],
    to_version: Annotated[int, Query(alias="to", ge=1, description="The later version")],
) -> DiffOut:
    """The fields that changed (before and after), the messages that left the model-facing
    history (by id) and those that entered it. Deleted sessions answer too (audit); `from`
    after `to` gives the change that undoes it."""
    try:
        diff = ledger.diff(ctx.tenant_id, session_id, from_version, to_version)
    except InvalidVersionError as error:  # the ledger names `from` or `to`
        raise InvalidVersionError(f"query.{error.field}", error.detail.split(": ", 1)[-1]) from None
    return DiffOut.of(diff)


@router.post(
    "/{session_id}/fork",
    status_code=201,
    response_model=SessionOut,
    responses={**_NEW_SESSION, **problem_responses(404, 413, 415, 422)},
    summary="Fork a session",
)
def fork_session(
    ledger: LedgerDep,
    ctx: ContextDep,
    response: Response,
    session_id: str,
    body: ForkIn | None = None,
) -> SessionOut:
    """A new session with the source's state and history as of `at_version` (default: now),
    recorded as `Session.Forked`. The source is unchanged; the fork's history is the
    source's messages up to then (each with its `origin`) followed by its own."""
    state = ledger.fork_session(ctx, session_id, **(body or ForkIn()).model_dump())
    return _created(response, state)


@router.post(
    "/{session_id}/copy",
    status_code=201,
    response_model=SessionOut,
    responses={**_NEW_SESSION, **problem_responses(404, 413, 415, 422)},
    summary="Copy a session",
)
def copy_session(
    ledger: LedgerDep,
    ctx: ContextDep,
    response: Response,
    session_id: str,
    body: CopyIn | None = None,
) -> SessionOut:
    """A fork at the source's head (`Session.Forked` with `is_copy: true`)."""
    state = ledger.copy_session(ctx, session_id, title=(body or CopyIn()).title)
    return _created(response, state)


@router.post(
    "/merge",
    status_code=201,
    response_model=SessionOut,
    responses={
        **_NEW_SESSION,
        **problem_responses(
            404,
            410,
            413,
            415,
            422,
            descriptions={
                404: "A session to merge is not in this tenant (or a malformed id)",
                410: "A session to merge was deleted",
            },
        ),
    },
    summary="Merge sessions",
)
def merge_sessions(
    ledger: LedgerDep, ctx: ContextDep, response: Response, body: MergeIn
) -> SessionOut:
    """A new session (`Session.Merged`) holding the sources' histories, each message with
    its `origin`; every source records `Session.MergedInto` in the same transaction."""
    state = ledger.merge_sessions(
        ctx, body.session_ids, policy=body.policy, title=body.title, metadata=body.metadata
    )
    return _created(response, state)
