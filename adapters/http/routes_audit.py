"""`GET /v1/audit`: the tenant's audit trail, a page as JSON or everything as NDJSON or CSV.

Admins and auditors only. The tenant is the principal's. Filters: actor,
session, type (exact, or a prefix ending in `.`), and a time range
[`since`, `until`). `format` (or `Accept: application/x-ndjson` / `text/csv`)
streams every matching entry in lines, read from the view a page at a time;
filters and cursors are checked before the first byte, so a bad one is a 422.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime

from adapters.audit_export import ExportFormat
from adapters.http.context import LedgerDep, Principal, require_roles
from adapters.http.openapi import problem_responses
from adapters.http.params import audit_cursor, query_text
from adapters.http.schemas import PageOut, page_of
from adapters.http.schemas_audit import AuditEntryOut
from projections.audit import AuditQuery
from projections.paging import MAX_PAGE_SIZE

router = APIRouter(prefix="/v1/audit", tags=["audit"])

MEDIA_TYPES: dict[ExportFormat, str] = {
    "ndjson": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8",
}
CHUNK_CHARS = 64 * 1024
"""Lines are sent in chunks of about this size (one thread hop per chunk, not per line)."""

AuditorDep = Annotated[Principal, Depends(require_roles("admin", "auditor"))]


@router.get(
    "",
    response_model=PageOut[AuditEntryOut],
    responses={
        200: {
            "description": "A page (JSON), or every matching entry as NDJSON or CSV",
            "content": {
                MEDIA_TYPES["ndjson"]: {"schema": {"type": "string"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        },
        **problem_responses(
            401, 403, 422, descriptions={403: "Only admins and auditors read the audit trail"}
        ),
    },
    summary="Read the audit trail",
)
def read_audit(
    ledger: LedgerDep,
    principal: AuditorDep,
    request: Request,
    actor: Annotated[str | None, Query(description="who recorded the events")] = None,
    session_id: Annotated[str | None, Query(description="events of (or naming) a session")] = None,
    type: Annotated[
        str | None,
        Query(
            description="an event type (`Session.MessageAppended`), or a prefix ending "
            "in `.` (`Session.`)"
        ),
    ] = None,
    since: Annotated[AwareDatetime | None, Query(description="recorded at or after")] = None,
    until: Annotated[AwareDatetime | None, Query(description="recorded before")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 100,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page")] = None,
    format: Annotated[
        Literal["json", "ndjson", "csv"] | None,
        Query(description="`json` (a page), or `ndjson`/`csv` (everything; default: by `Accept`)"),
    ] = None,
) -> PageOut[AuditEntryOut] | StreamingResponse:
    """Every event of this tenant, oldest first: position, stream, version, type, actor,
    time, correlation, causation and trace ids."""
    query = AuditQuery(
        tenant_id=principal.tenant_id,
        actor=query_text(actor, "actor"),
        session_id=query_text(session_id, "session_id"),
        type=query_text(type, "type"),
        since=since,
        until=until,
        limit=limit,
        cursor=audit_cursor(cursor),
    )
    chosen = format or _accepted(request.headers.get("accept", ""))
    if chosen == "json":
        return PageOut[AuditEntryOut](**page_of(ledger.list_audit(query), AuditEntryOut.of))
    return StreamingResponse(
        _chunks(ledger.export_audit(query, chosen)),
        media_type=MEDIA_TYPES[chosen],
        headers={"Content-Disposition": f'attachment; filename="audit.{chosen}"'},
    )


def _accepted(accept: str) -> Literal["json", "ndjson", "csv"]:
    media = {part.split(";", 1)[0].strip().lower() for part in accept.split(",")}
    if "application/x-ndjson" in media:
        return "ndjson"
    if "text/csv" in media:
        return "csv"
    return "json"


def _chunks(lines: Iterator[str]) -> Iterator[str]:
    chunk: list[str] = []
    size = 0
    for line in lines:
        chunk.append(line)
        size += len(line)
        if size >= CHUNK_CHARS:
            yield "".join(chunk)
            chunk, size = [], 0
    if chunk:
        yield "".join(chunk)
