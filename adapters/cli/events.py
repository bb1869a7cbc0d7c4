"""`chatledger events|show`: a session's event stream, and its state at a version or time."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import RenderableType

from adapters.cli.database import load_settings, opened_ledger
from adapters.cli.errors import CliInputError
from adapters.cli.options import AsJson, Cursor, DatabaseUrl, Limit, SessionId, Tenant, rfc3339
from adapters.cli.output import emit, events_table, render_page, render_session
from adapters.http.schemas import EventOut, PageOut, StateOut, page_of


def events(
    session_id: SessionId,
    limit: Limit = 100,
    cursor: Cursor = None,
    tenant: Tenant = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Show a session's events, oldest first (the audit trail; deleted sessions too)."""
    settings = load_settings(database_url=database_url, tenant_id=tenant)
    with opened_ledger(settings) as ledger:
        page = ledger.list_events(settings.tenant_id, session_id, limit=limit, cursor=cursor)
    emit(PageOut[EventOut](**page_of(page, EventOut.of)), as_json, render_page(events_table))


def show(
    session_id: SessionId,
    version: Annotated[
        int | None,
        typer.Option("--version", metavar="N", help="As of version N.", show_default=False),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            metavar="TIME",
            help="As of an RFC 3339 time (the last version recorded at or before it).",
            show_default=False,
        ),
    ] = None,
    tenant: Tenant = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Time travel: the whole session, history included, as of a version or a time."""
    if (version is None) == (at is None):
        raise CliInputError("give exactly one of --version N and --at TIME")
    moment = None if at is None else rfc3339("--at", at)
    settings = load_settings(database_url=database_url, tenant_id=tenant)
    with opened_ledger(settings) as ledger:
        full = ledger.get_state(settings.tenant_id, session_id, version=version, at=moment)
    emit(StateOut.of_state(full.session, full.messages), as_json, render_state)


def render_state(state: StateOut) -> list[RenderableType]:
    return [f"as of version {state.as_of_version}", *render_session(state)]
