"""`chatledger history|append|clear`: a session's model-facing messages."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import RenderableType

from adapters.cli.database import (
    command_context,
    describe_validation,
    load_settings,
    opened_ledger,
)
from adapters.cli.errors import CliInputError
from adapters.cli.options import (
    Actor,
    AsJson,
    Cursor,
    DatabaseUrl,
    ExpectedVersion,
    JsonMessage,
    Limit,
    MessagesFile,
    Offset,
    Order,
    SessionId,
    Tenant,
    json_value,
    text_file,
)
from adapters.cli.output import emit, messages_table, render_page, render_session
from adapters.http.schemas import (
    AppendedOut,
    MessageIn,
    MessageOut,
    MessagesIn,
    PageOut,
    SessionOut,
    page_of,
)
from domain.message import Message, Role


def history(
    session_id: SessionId,
    limit: Limit = 100,
    cursor: Cursor = None,
    offset: Offset = None,
    order: Order = "asc",
    tenant: Tenant = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Show a session's history (messages since the last clear), oldest first."""
    settings = load_settings(database_url=database_url, tenant_id=tenant)
    with opened_ledger(settings) as ledger:
        page = ledger.list_messages(
            settings.tenant_id, session_id, limit=limit, cursor=cursor, offset=offset, order=order
        )
    emit(PageOut[MessageOut](**page_of(page, MessageOut.of)), as_json, render_page(messages_table))


def append(
    session_id: SessionId,
    text: Annotated[
        str | None,
        typer.Argument(
            metavar="TEXT",
            help="The message text (or use --json-message / --file).",
            show_default=False,
        ),
    ] = None,
    role: Annotated[
        Role | None, typer.Option(help="Role of TEXT (default: user)", show_default=False)
    ] = None,
    json_message: JsonMessage = None,
    file: MessagesFile = None,
    expected_version: ExpectedVersion = None,
    tenant: Tenant = None,
    actor: Actor = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Append messages to a session's history (no model is called)."""
    settings = load_settings(database_url=database_url, tenant_id=tenant, actor=actor)
    messages = messages_given(text, role, json_message, file)
    with opened_ledger(settings) as ledger:
        result = ledger.append_messages(
            command_context(settings), session_id, messages, expected_version=expected_version
        )
    out = AppendedOut(
        session=SessionOut.of(result.session),
        messages=[MessageOut.of(entry) for entry in result.messages],
    )
    emit(out, as_json, render_appended)


def clear(
    session_id: SessionId,
    expected_version: ExpectedVersion = None,
    tenant: Tenant = None,
    actor: Actor = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Empty a session's history; events and `show --version` still reach the messages."""
    settings = load_settings(database_url=database_url, tenant_id=tenant, actor=actor)
    with opened_ledger(settings) as ledger:
        state = ledger.clear_history(
            command_context(settings), session_id, expected_version=expected_version
        )
    emit(SessionOut.of(state), as_json, render_session)


def messages_given(
    text: str | None, role: Role | None, json_message: str | None, file: str | None
) -> list[Message]:
    """The messages of exactly one of TEXT, --json-message and --file."""
    given = [
        name
        for name, value in (("TEXT", text), ("--json-message", json_message), ("--file", file))
        if value is not None
    ]
    if len(given) != 1:
        raise CliInputError(
            "give the message as TEXT, --json-message or --file (exactly one"
            f"{', not ' + ' and '.join(given) if given else ''})"
        )
    if text is not None:
        return [MessageIn(role=role or "user", content=text).to_message()]
    if role is not None:
        raise CliInputError(f"--role applies to TEXT; put the role in the JSON of {given[0]}")
    return json_messages(json_message, file)


def json_messages(json_message: str | None, file: str | None) -> list[Message]:
    """The messages of --json-message or --file (not both); none when neither is given."""
    if json_message is not None and file is not None:
        raise CliInputError("give the messages as --json-message or --file, not both")
    if json_message is not None:
        return parsed_messages("--json-message", json_value("--json-message", json_message))
    if file is not None:
        return parsed_messages("--file", json_value(f"--file {file}", text_file("--file", file)))
    return []


def parsed_messages(option: str, document: Any) -> list[Message]:
    """One message object, or `{"messages": [...]}`, as the HTTP API takes them."""
    try:
        if isinstance(document, dict) and "messages" in document:
            given = MessagesIn.model_validate(document).messages
        else:
            given = [MessageIn.model_validate(document)]
    except ValidationError as error:
        raise CliInputError(f"{option}: {describe_validation(error)}") from None
    return [message.to_message() for message in given]


def render_appended(out: AppendedOut) -> list[RenderableType]:
    session = out.session
    return [
        messages_table(out.messages),
        f"session {session.id} is at version {session.version} ({session.message_count} messages)",
    ]
