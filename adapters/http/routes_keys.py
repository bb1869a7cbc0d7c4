"""Admin routes on API keys: create, list, revoke, within the admin's own tenant.

Every route here is `admin` only (403 otherwise, recorded as `Access.Denied`).
Keys are created in the caller's tenant; another tenant's key is not found.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from adapters.http.context import ContextDep, LedgerDep, require_roles
from adapters.http.limits import json_input_guard
from adapters.http.openapi import problem_responses
from adapters.http.schemas_keys import IssuedKeyOut, KeyIn, KeyListOut, KeyOut

router = APIRouter(
    prefix="/v1/keys",
    tags=["keys"],
    dependencies=[Depends(json_input_guard), Depends(require_roles("admin"))],
)

_KEY_PROBLEMS = {404: "No such API key in this tenant (or a malformed id)"}


@router.post(
    "",
    status_code=201,
    response_model=IssuedKeyOut,
    responses=problem_responses(413, 415, 422),
    summary="Create an API key",
)
def create_key(ledger: LedgerDep, ctx: ContextDep, response: Response, body: KeyIn) -> IssuedKeyOut:
    """A new key of this tenant with a role; the answer holds the key, shown this once."""
    issued = ledger.create_api_key(ctx, role=body.role, name=body.name)
    response.headers["Location"] = f"/v1/keys/{issued.key.id}"
    response.headers["Cache-Control"] = "no-store"
    return IssuedKeyOut.issued(issued)


@router.get("", response_model=KeyListOut, summary="List API keys")
def list_keys(ledger: LedgerDep, ctx: ContextDep) -> KeyListOut:
    """This tenant's keys, revoked ones included, oldest first (never a secret or hash)."""
    return KeyListOut(data=[KeyOut.of(k) for k in ledger.list_api_keys(ctx.tenant_id)])


@router.get(
    "/{key_id}",
    response_model=KeyOut,
    responses=problem_responses(404, descriptions=_KEY_PROBLEMS),
    summary="Get an API key",
)
def get_key(ledger: LedgerDep, ctx: ContextDep, key_id: str) -> KeyOut:
    return KeyOut.of(ledger.get_api_key(ctx.tenant_id, key_id))


@router.delete(
    "/{key_id}",
    response_model=KeyOut,
    responses=problem_responses(404, descriptions=_KEY_PROBLEMS),
    summary="Revoke an API key",
)
def revoke_key(ledger: LedgerDep, ctx: ContextDep, key_id: str) -> KeyOut:
    """Revoke the key: requests with it answer 401 from now on (revoking twice is a no-op)."""
    return KeyOut.of(ledger.revoke_api_key(ctx, key_id))
