"""Routes that move sessions between databases: export a bundle, import one.

A bundle is NDJSON (`adapters.bundles`): a header, one checksummed line per
event and a footer. Export streams it line by line; import verifies every line
before writing anything, so a tampered bundle is a 422 naming its first bad
line and leaves the database as it was. The body size limit applies to imports
like to every request. Plain `def` endpoints: the ledger is synchronous.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from adapters.http.context import ContextDep, LedgerDep
from adapters.http.errors import UnsupportedMediaTypeError
from adapters.http.openapi import problem_responses
from adapters.http.schemas_branches import ImportedOut
from adapters.ledger import session_uuid

router = APIRouter(prefix="/v1/sessions", tags=["bundles"])

NDJSON_MEDIA_TYPE = "application/x-ndjson"
BUNDLE_MEDIA_TYPES = (NDJSON_MEDIA_TYPE, "application/octet-stream", "text/plain")
_BUNDLE_SCHEMA = {
    "type": "string",
    "description": "One JSON object per line: a header, the events (each with a SHA-256 "
    "chained over the previous one's) and a footer with the bundle's checksum",
}


async def bundle_body(request: Request) -> bytes:
    """The request body as a bundle's bytes; other media types are refused (415)."""
    media = (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if media and media not in BUNDLE_MEDIA_TYPES:
        raise UnsupportedMediaTypeError(
            f"send the bundle as {NDJSON_MEDIA_TYPE} (or {', '.join(BUNDLE_MEDIA_TYPES[1:])})"
        )
    return await request.body()


@router.get(
    "/{session_id}/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The bundle, streamed; `Content-Disposition` names it "
            "`<session id>.ndjson`",
            "content": {NDJSON_MEDIA_TYPE: {"schema": _BUNDLE_SCHEMA}},
        },
        **problem_responses(404, 422),
    },
    summary="Export a session as a bundle",
)
def export_session(
    ledger: LedgerDep,
    ctx: ContextDep,
    session_id: str,
    with_sources: Annotated[
        bool,
        Query(
            description="Also the sessions a fork or merge reads its history from (first), "
            "so the bundle imports into an empty database"
        ),
    ] = False,
) -> StreamingResponse:
    """Every event of the session (deleted ones too), verifiable on import and
    byte-identical whichever database it is exported from."""
    sid = session_uuid(session_id)
    lines = ledger.export_session(ctx.tenant_id, sid, with_sources=with_sources)
    # The bundle is lazy: reading its header checks the session now, while a 404 can
    # still be answered, instead of failing mid-stream.
    header = next(lines)
    return StreamingResponse(
        _chained(header, lines),
        media_type=NDJSON_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{sid}.ndjson"'},
    )


def _chained(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    return chain((first,), rest)


@router.post(
    "/import",
    status_code=201,
    response_model=ImportedOut,
    responses={
        201: {
            "description": "What was stored; `Location` names the session",
            "headers": {"Location": {"schema": {"type": "string"}, "description": "Its URL"}},
        },
        **problem_responses(
            413,
            415,
            422,
            descriptions={
                415: "The body is not sent as a bundle (application/x-ndjson)",
                422: "A malformed or tampered bundle (`field: bundle`, the detail names the "
                "first bad line), or one whose events clash with those stored",
            },
        ),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "A bundle from `GET /v1/sessions/{id}/export`",
            "content": {media: {"schema": _BUNDLE_SCHEMA} for media in BUNDLE_MEDIA_TYPES},
        }
    },
    summary="Import a bundle",
)
def import_session(
    ledger: LedgerDep,
    ctx: ContextDep,
    response: Response,
    data: Annotated[bytes, Depends(bundle_body)],
    new_id: Annotated[
        UUID | None, Query(description="Store the bundle's session under this id instead")
    ] = None,
) -> Any:
    """Verify the bundle and store its events into this tenant. Importing it again stores
    nothing new (the events are counted as `skipped`)."""
    result = ledger.import_bundle(ctx, data, new_id=new_id)
    response.headers["Location"] = f"/v1/sessions/{result.session_id}"
    return ImportedOut.of(result)
