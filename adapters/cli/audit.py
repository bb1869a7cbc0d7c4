"""`chatledger audit`: the tenant's audit trail, a page as a table or JSON, or everything
as NDJSON or CSV.

Filters as the HTTP API's (`GET /v1/audit`): actor, session, type (exact, or a
prefix ending in `.`), and a time range [--since, --until). `table` and `json`
print one page (`--limit`, `--cursor`); `ndjson` and `csv` stream every
matching entry, to stdout or to a file that appears only once complete.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, BinaryIO, Literal

import typer
from rich.table import Table

from adapters.cli.database import load_settings, opened_ledger
from adapters.cli.errors import CliInputError
from adapters.cli.files import writable_path, write_whole
from adapters.cli.options import AsJson, Cursor, DatabaseUrl, Limit, Tenant, rfc3339
from adapters.cli.output import emit, new_table, render_page, timestamp
from adapters.http.schemas import PageOut, page_of
from adapters.http.schemas_audit import AuditEntryOut
from projections.audit import AuditQuery

Format = Literal["table", "json", "ndjson", "csv"]


def audit(
    actor: Annotated[str | None, typer.Option(help="Only this actor's events.")] = None,
    session: Annotated[
        str | None, typer.Option(metavar="ID", help="Only events of (or naming) this session.")
    ] = None,
    event_type: Annotated[
        str | None,
        typer.Option(
            "--type",
            metavar="TYPE",
            help="An event type (Session.MessageAppended), or a prefix ending in '.' (Session.).",
        ),
    ] = None,
    since: Annotated[
        str | None, typer.Option(metavar="TIME", help="Recorded at or after (RFC 3339).")
    ] = None,
    until: Annotated[
        str | None, typer.Option(metavar="TIME", help="Recorded before (RFC 3339).")
    ] = None,
    output_format: Annotated[
        Format,
        typer.Option("--format", help="table/json: one page; ndjson/csv: every matching entry."),
    ] = "table",
    out: Annotated[
        str | None,
        typer.Option("--out", metavar="FILE", help="Write to FILE (json, ndjson, csv)."),
    ] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
    tenant: Tenant = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Show who did what and when: every event of the tenant, without content."""
    chosen: Format = "json" if as_json else output_format
    if out is not None and chosen == "table":
        raise CliInputError("--out: choose --format json, ndjson or csv to write a file")
    path = None if out is None else writable_path("--out", out)
    settings = load_settings(database_url=database_url, tenant_id=tenant)
    query = AuditQuery(
        tenant_id=settings.tenant_id,
        actor=actor,
        session_id=session,
        type=event_type,
        since=None if since is None else rfc3339("--since", since),
        until=None if until is None else rfc3339("--until", until),
        limit=limit,
        cursor=cursor,
    )
    with opened_ledger(settings) as ledger:
        if chosen == "ndjson" or chosen == "csv":
            _write(ledger.export_audit(query, chosen), path)
            return
        page = PageOut[AuditEntryOut](**page_of(ledger.list_audit(query), AuditEntryOut.of))
    if path is not None:
        _write([page.model_dump_json(indent=2) + "\n"], path)
        return
    emit(page, chosen == "json", render_page(audit_table))


def _write(lines: Iterable[str], path: Path | None) -> None:
    encoded = (line.encode() for line in lines)
    if path is None:
        sys.stdout.flush()
        _copy(encoded, sys.stdout.buffer)
    else:
        write_whole(path, lambda out: _copy(encoded, out))


def _copy(lines: Iterable[bytes], out: BinaryIO) -> None:
    for line in lines:
        out.write(line)
    out.flush()


def audit_table(entries: list[AuditEntryOut]) -> Table:
    table = new_table("Audit")
    for column in ("position", "time", "actor", "type", "stream", "version", "correlation"):
        table.add_column(column, overflow="fold")
    for entry in entries:
        table.add_row(
            str(entry.position),
            timestamp(entry.recorded_at),
            entry.actor,
            entry.type,
            entry.stream_id,
            str(entry.version),
            entry.correlation_id or "",
        )
    return table
