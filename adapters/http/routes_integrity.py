"""Routes that check the event log for tampering: verify, and the signed digest.

Both need the `admin` or `auditor` role and cover the caller's tenant only.
`POST /v1/verify` walks the tenant's streams; with a digest from `GET /v1/digest`
as its body, it also finds streams truncated, deleted or rewritten since. A
digest that is malformed, altered or signed with another key is a 422. Plain
`def` endpoints: verification reads the whole log, in a worker thread.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from adapters.digest import Digest
from adapters.http.context import LedgerDep, PrincipalDep, require_roles
from adapters.http.errors import UnsupportedMediaTypeError, is_json_media_type
from adapters.http.openapi import problem_responses
from adapters.http.schemas_integrity import VerifyOut

router = APIRouter(
    prefix="/v1", tags=["integrity"], dependencies=[Depends(require_roles("admin", "auditor"))]
)

PEM_MEDIA_TYPE = "application/x-pem-file"


async def digest_body(request: Request) -> bytes | None:
    """The request body (a digest document), or None when there is none."""
    body = await request.body()
    if not body:
        return None
    content_type = request.headers.get("content-type")
    if content_type and not is_json_media_type(content_type):
        raise UnsupportedMediaTypeError("send the digest as application/json")
    return body


@router.post(
    "/verify",
    response_model=VerifyOut,
    responses=problem_responses(
        403,
        413,
        415,
        422,
        descriptions={
            403: "The role is neither admin nor auditor",
            422: "A digest that is malformed, altered, for another tenant, or signed with "
            "another key (`field: digest`)",
        },
    ),
    openapi_extra={
        "requestBody": {
            "required": False,
            "description": "Optional: a digest from `GET /v1/digest`, to check against",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Digest"}}},
        }
    },
    summary="Verify the hash chain",
)
def verify(
    ledger: LedgerDep,
    principal: PrincipalDep,
    digest: Annotated[bytes | None, Depends(digest_body)],
) -> Any:
    """Recompute every event's hash in this tenant's streams and report the first bad
    (stream, version) of each. `intact` is false when anything was edited, swapped,
    inserted or deleted; with a digest, also when a stream was truncated, deleted or
    rewritten since the digest was made."""
    report = ledger.verify(tenant_id=principal.tenant_id, digest=digest)
    return VerifyOut.of(report)


@router.get(
    "/digest",
    response_model=Digest,
    responses=problem_responses(
        403,
        409,
        descriptions={
            403: "The role is neither admin nor auditor",
            409: "The tenant's log fails verification, so it is not signed",
        },
    ),
    summary="A signed digest of this tenant's streams",
)
def digest(ledger: LedgerDep, principal: PrincipalDep) -> Any:
    """Every stream's count and head hash, with a root over them, signed (Ed25519) by the
    server's key. Keep it outside the database; `POST /v1/verify` checks against it."""
    return ledger.digest(tenant_id=principal.tenant_id)


@router.get(
    "/digest/public-key",
    response_class=Response,
    responses={
        200: {
            "description": "The PEM public key that checks digests",
            "content": {PEM_MEDIA_TYPE: {"schema": {"type": "string"}}},
        },
        **problem_responses(403, descriptions={403: "The role is neither admin nor auditor"}),
    },
    summary="The digest signing key's public half",
)
def public_key(ledger: LedgerDep) -> Response:
    """The Ed25519 public key (PEM) a third party needs to check a digest's signature."""
    return Response(ledger.signing_key().public_pem(), media_type=PEM_MEDIA_TYPE)
