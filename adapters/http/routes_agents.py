"""Routes on agents: create, list, get, update (merge or replace), delete.

Plain `def` endpoints (FastAPI runs them in its threadpool; the ledger is
synchronous), shaped like the session routes: `ETag` is the agent's version and
`If-Match` makes a change conditional on it (409 when it moved on). A deleted
agent answers 410; sessions bound to it can no longer chat.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from adapters.http.context import ContextDep, LedgerDep
from adapters.http.limits import json_input_guard
from adapters.http.openapi import problem_responses
from adapters.http.params import MAX_OFFSET, ExpectedVersionDep, agent_cursor, etag
from adapters.http.schemas import PageOut, page_of
from adapters.http.schemas_agents import AgentIn, AgentOut, AgentPatch, AgentSummaryOut
from adapters.ledger import Ledger
from domain.agent import AgentFields
from domain.context import CommandContext
from projections.agent_list import AgentQuery
from projections.paging import MAX_PAGE_SIZE

router = APIRouter(prefix="/v1/agents", tags=["agents"], dependencies=[Depends(json_input_guard)])

_AGENT_PROBLEMS = {
    404: "No such agent in this tenant (or a malformed id)",
    410: "The agent was deleted",
}


def _problems(*statuses: int) -> dict[int | str, dict[str, object]]:
    return problem_responses(*statuses, descriptions=_AGENT_PROBLEMS)


@router.post(
    "",
    status_code=201,
    response_model=AgentOut,
    responses=_problems(413, 415, 422),
    summary="Create an agent",
)
def create_agent(ledger: LedgerDep, ctx: ContextDep, response: Response, body: AgentIn) -> AgentOut:
    """Create an agent: a name, and optionally provider, model, instructions, default
    settings, tools and metadata. `Location` names the new agent."""
    state = ledger.create_agent(ctx, body.to_fields())
    response.headers["Location"] = f"/v1/agents/{state.id}"
    response.headers["ETag"] = etag(state.version)
    return AgentOut.of(state)


@router.get(
    "",
    response_model=PageOut[AgentSummaryOut],
    responses=_problems(422),
    summary="List agents",
)
def list_agents(
    ledger: LedgerDep,
    ctx: ContextDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page")] = None,
    offset: Annotated[int | None, Query(ge=0, le=MAX_OFFSET)] = None,
    order: Annotated[
        Literal["asc", "desc"], Query(description="by `updated_at`, then id")
    ] = "desc",
    include_deleted: bool = False,
) -> PageOut[AgentSummaryOut]:
    """This tenant's agents, most recently updated first by default."""
    page = ledger.list_agents(
        AgentQuery(
            tenant_id=ctx.tenant_id,
            limit=limit,
            cursor=agent_cursor(cursor),
            offset=offset,
            order=order,
            include_deleted=include_deleted,
        )
    )
    return PageOut[AgentSummaryOut](**page_of(page, AgentSummaryOut.of))


@router.get(
    "/{agent_id}",
    response_model=AgentOut,
    responses=_problems(404, 410, 422),
    summary="Get an agent",
)
def get_agent(ledger: LedgerDep, ctx: ContextDep, response: Response, agent_id: str) -> AgentOut:
    """The agent now."""
    state = ledger.get_agent(ctx.tenant_id, agent_id)
    response.headers["ETag"] = etag(state.version)
    return AgentOut.of(state)


def _update(
    ledger: Ledger,
    ctx: CommandContext,
    response: Response,
    agent_id: str,
    changes: AgentFields,
    expected: int | None,
) -> AgentOut:
    state = ledger.update_agent(ctx, agent_id, changes, expected_version=expected)
    response.headers["ETag"] = etag(state.version)
    return AgentOut.of(state)


@router.patch(
    "/{agent_id}",
    response_model=AgentOut,
    responses=_problems(404, 409, 410, 413, 415, 422),
    summary="Update an agent (the fields given)",
)
def patch_agent(
    ledger: LedgerDep,
    ctx: ContextDep,
    response: Response,
    agent_id: str,
    body: AgentPatch,
    expected: ExpectedVersionDep,
) -> AgentOut:
    """The fields given replace the agent's (`settings`, `tools` and `metadata` as wholes);
    a field set to null is reset to its default."""
    return _update(ledger, ctx, response, agent_id, body.to_fields(), expected)


@router.put(
    "/{agent_id}",
    response_model=AgentOut,
    responses=_problems(404, 409, 410, 413, 415, 422),
    summary="Replace an agent's editable fields",
)
def put_agent(
    ledger: LedgerDep,
    ctx: ContextDep,
    response: Response,
    agent_id: str,
    body: AgentIn,
    expected: ExpectedVersionDep,
) -> AgentOut:
    """Overwrite every editable field; omitted ones take their defaults."""
    return _update(ledger, ctx, response, agent_id, body.to_replacement(), expected)


@router.delete(
    "/{agent_id}",
    status_code=204,
    response_class=Response,
    responses=_problems(404, 409, 410, 422),
    summary="Delete an agent (soft)",
)
def delete_agent(
    ledger: LedgerDep, ctx: ContextDep, agent_id: str, expected: ExpectedVersionDep
) -> Response:
    """Hide the agent from lists and refuse chat through it; its events stay for audit."""
    ledger.delete_agent(ctx, agent_id, expected_version=expected)
    return Response(status_code=204)
