"""`chatledger sessions create|list|show|update|delete`."""

from __future__ import annotations

from typing import Annotated

import typer

from adapters.cli.database import command_context, load_settings, opened_ledger
from adapters.cli.errors import CliInputError
from adapters.cli.history import json_messages
from adapters.cli.options import (
    Actor,
    AsJson,
    Cursor,
    DatabaseUrl,
    ExpectedVersion,
    JsonMessage,
    JsonObjectText,
    Limit,
    MessagesFile,
    Offset,
    Order,
    SessionId,
    Tenant,
    json_object,
)
from adapters.cli.output import emit, render_page, render_session, sessions_table
from adapters.http.schemas import (
    PageOut,
    SessionCreate,
    SessionOut,
    SessionPatch,
    SessionSummaryOut,
    page_of,
)
from domain.engine import SessionUpdate
from domain.errors import SessionDeletedError
from projections.session_list import SessionQuery

app = typer.Typer(help="Create, list, show, update and delete sessions.", no_args_is_help=True)

NewText = Annotated[str | None, typer.Option(show_default=False)]


@app.command("create")
def create_session(
    title: Annotated[str, typer.Option()] = "",
    user: Annotated[str | None, typer.Option(help="User id.", show_default=False)] = None,
    agent: Annotated[str | None, typer.Option(help="Agent id.", show_default=False)] = None,
    situation: Annotated[str, typer.Option(help="System context (or a template).")] = "",
    metadata: JsonObjectText = None,
    context: JsonObjectText = None,
    render_templates: Annotated[
        bool, typer.Option("--render-templates", help="Render the situation as a template.")
    ] = False,
    json_message: JsonMessage = None,
    file: MessagesFile = None,
    tenant: Tenant = None,
    actor: Actor = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Create a session, with its first messages when --json-message or --file gives them."""
    settings = load_settings(database_url=database_url, tenant_id=tenant, actor=actor)
    messages = json_messages(json_message, file)
    body = SessionCreate(
        title=title,
        user_id=user,
        agent_id=agent,
        situation=situation,
        metadata=json_object("--metadata", metadata) or {},
        context=json_object("--context", context) or {},
        render_templates=render_templates,
    )
    with opened_ledger(settings) as ledger:
        state = ledger.create_session(
            command_context(settings), **body.model_dump(exclude={"messages"}), messages=messages
        )
    emit(SessionOut.of(state), as_json, render_session)


@app.command("list")
def list_sessions(
    limit: Limit = 50,
    cursor: Cursor = None,
    offset: Offset = None,
    user: Annotated[str | None, typer.Option(help="Only this user's.", show_default=False)] = None,
    agent: Annotated[
        str | None, typer.Option(help="Only this agent's.", show_default=False)
    ] = None,
    metadata_filter: Annotated[
        str | None,
        typer.Option(
            metavar="JSON",
            help="Only sessions whose metadata contains this JSON object.",
            show_default=False,
        ),
    ] = None,
    order: Order = "desc",
    include_deleted: Annotated[bool, typer.Option("--include-deleted")] = False,
    tenant: Tenant = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """List sessions, most recently updated first."""
    settings = load_settings(database_url=database_url, tenant_id=tenant)
    query = SessionQuery(
        tenant_id=settings.tenant_id,
        limit=limit,
        cursor=cursor,
        offset=offset,
        user_id=user,
        agent_id=agent,
        metadata_filter=json_object("--metadata-filter", metadata_filter),
        order=order,
        include_deleted=include_deleted,
    )
    with opened_ledger(settings) as ledger:
        page = ledger.list_sessions(query)
    out = PageOut[SessionSummaryOut](**page_of(page, SessionSummaryOut.of))
    emit(out, as_json, render_page(sessions_table))


@app.command("show")
def show_session(
    session_id: SessionId,
    messages: Annotated[bool, typer.Option("--messages", help="Include the history.")] = False,
    tenant: Tenant = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Show one session (with its history when asked)."""
    settings = load_settings(database_url=database_url, tenant_id=tenant)
    with opened_ledger(settings) as ledger:
        if messages:
            full = ledger.get_state(settings.tenant_id, session_id)
            if full.session.is_deleted:
                raise SessionDeletedError(session_id)
            out = SessionOut.of(full.session, full.messages)
        else:
            out = SessionOut.of(ledger.get_session(settings.tenant_id, session_id))
    emit(out, as_json, render_session)


@app.command("update")
def update_session(
    session_id: SessionId,
    title: NewText = None,
    situation: NewText = None,
    metadata: JsonObjectText = None,
    context: JsonObjectText = None,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="Replace every field (PUT): fields not given are reset. Default: merge (PATCH),"
            " metadata and context as JSON Merge Patch.",
        ),
    ] = False,
    expected_version: ExpectedVersion = None,
    tenant: Tenant = None,
    actor: Actor = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Change a session's title, situation, metadata or context."""
    settings = load_settings(database_url=database_url, tenant_id=tenant, actor=actor)
    if (
        not overwrite
        and title is None
        and situation is None
        and metadata is None
        and context is None
    ):
        raise CliInputError(
            "nothing to update: give --title, --situation, --metadata or --context"
            " (or --overwrite to reset them all)"
        )
    patch = SessionPatch(
        title=title,
        situation=situation,
        metadata=json_object("--metadata", metadata),
        context=json_object("--context", context),
    )
    with opened_ledger(settings) as ledger:
        state = ledger.update_session(
            command_context(settings),
            session_id,
            SessionUpdate(**patch.model_dump()),
            mode="overwrite" if overwrite else "merge",
            expected_version=expected_version,
        )
    emit(SessionOut.of(state), as_json, render_session)


@app.command("delete")
def delete_session(
    session_id: SessionId,
    expected_version: ExpectedVersion = None,
    tenant: Tenant = None,
    actor: Actor = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Delete a session (soft: it stays in the log for audit)."""
    settings = load_settings(database_url=database_url, tenant_id=tenant, actor=actor)
    with opened_ledger(settings) as ledger:
        state = ledger.delete_session(
            command_context(settings), session_id, expected_version=expected_version
        )
    emit(SessionOut.of(state), as_json, render_session)
