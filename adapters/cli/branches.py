"""`chatledger diff|fork|copy|merge`: compare two versions of a session, and branch it.

A fork, copy or merge prints the new session as `sessions show` does (`--json`:
the API's `SessionOut`); its inherited messages name where they came from
(`sessions show ID --messages`). A version the session never had is a usage
error naming the option (exit 2); an unknown session exits 1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import RenderableType

from adapters.cli.database import command_context, load_settings, opened_ledger
from adapters.cli.errors import CliInputError
from adapters.cli.options import (
    Actor,
    AsJson,
    DatabaseUrl,
    JsonObjectText,
    SessionId,
    Tenant,
    json_object,
)
from adapters.cli.output import block_text, compact, emit, new_table, render_session
from adapters.http.schemas import SessionOut
from adapters.http.schemas_branches import DiffOut
from domain.errors import InvalidVersionError
from domain.session import MergePolicy

NewTitle = Annotated[
    str | None,
    typer.Option(help="The new session's title (default: the source's).", show_default=False),
]


@contextmanager
def versions_named(options: dict[str, str]) -> Iterator[None]:
    """Re-raise a bad version under the name of the option that gave it (`at_version` ->
    `--at-version`), as the HTTP API names its query field."""
    try:
        yield
    except InvalidVersionError as error:
        if error.field not in options:
            raise
        reason = error.detail.split(": ", 1)[-1]
        raise InvalidVersionError(options[error.field], reason) from None


def diff_session(
    session_id: SessionId,
    from_version: Annotated[
        int, typer.Option("--from", metavar="N", min=1, help="The earlier version.")
    ],
    to_version: Annotated[int, typer.Option("--to", metavar="M", min=1, help="The later version.")],
    tenant: Tenant = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """What changed between two versions: fields before and after, messages out and in.

    --from after --to shows the change that undoes it. Deleted sessions answer too.
    """
    settings = load_settings(database_url=database_url, tenant_id=tenant)
    with (
        opened_ledger(settings) as ledger,
        versions_named({"from": "--from", "to": "--to"}),
    ):
        diff = ledger.diff(settings.tenant_id, session_id, from_version, to_version)
    emit(DiffOut.of(diff), as_json, render_diff)


def field_value(value: Any) -> str:
    """A field's value as typed: text as is (`""` when empty), anything else as JSON."""
    if isinstance(value, str):
        return compact(value) if value else '""'
    return compact(json.dumps(value, ensure_ascii=False))


def render_diff(diff: DiffOut) -> list[RenderableType]:
    heading = f"session {diff.session_id}, version {diff.from_version} → {diff.to_version}"
    renderables: list[RenderableType] = [heading]
    if diff.changes:
        fields = new_table("changed fields")
        fields.add_column("field", no_wrap=True)
        fields.add_column("before", overflow="fold")
        fields.add_column("after", overflow="fold")
        for name, change in diff.changes.items():
            fields.add_row(name, field_value(change.before), field_value(change.after))
        renderables.append(fields)
    if diff.messages_removed:
        removed = new_table("messages removed")
        removed.add_column("id", no_wrap=True)
        for message_id in diff.messages_removed:
            removed.add_row(message_id)
        renderables.append(removed)
    if diff.messages_added:
        added = new_table("messages added")
        added.add_column("id", no_wrap=True)
        added.add_column("role")
        added.add_column("content", overflow="fold")
        for message in diff.messages_added:
            text = " ".join(block_text(block) for block in message.content)
            added.add_row(message.id, message.role, compact(text))
        renderables.append(added)
    if not (diff.changes or diff.messages_removed or diff.messages_added):
        renderables.append("no changes")
    return renderables


def fork_session(
    session_id: SessionId,
    at_version: Annotated[
        int | None,
        typer.Option(
            "--at-version",
            metavar="N",
            min=1,
            help="Branch at the source's version N (default: its head).",
            show_default=False,
        ),
    ] = None,
    title: NewTitle = None,
    metadata: JsonObjectText = None,
    agent: Annotated[
        str | None,
        typer.Option(help="Chat with this agent from here on (id).", show_default=False),
    ] = None,
    situation: Annotated[
        str | None, typer.Option(help="The fork's situation.", show_default=False)
    ] = None,
    tenant: Tenant = None,
    actor: Actor = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """A new session with the source's state and history as of a version (default: now).

    The source is unchanged; the fork's messages name their origin.
    """
    settings = load_settings(database_url=database_url, tenant_id=tenant, actor=actor)
    given = json_object("--metadata", metadata)
    with opened_ledger(settings) as ledger, versions_named({"at_version": "--at-version"}):
        state = ledger.fork_session(
            command_context(settings),
            session_id,
            at_version=at_version,
            title=title,
            metadata=given,
            agent_id=agent,
            situation=situation,
        )
    emit(SessionOut.of(state), as_json, render_session)


def copy_session(
    session_id: SessionId,
    title: NewTitle = None,
    tenant: Tenant = None,
    actor: Actor = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """A new session with the source's state and history as it is now (a fork at its head)."""
    settings = load_settings(database_url=database_url, tenant_id=tenant, actor=actor)
    with opened_ledger(settings) as ledger:
        state = ledger.copy_session(command_context(settings), session_id, title=title)
    emit(SessionOut.of(state), as_json, render_session)


def merge_sessions(
    session_ids: Annotated[
        list[str],
        typer.Argument(metavar="ID", help="Two or more sessions, in order.", show_default=False),
    ],
    policy: Annotated[
        MergePolicy,
        typer.Option(
            help="concatenate: each session's messages in turn, in the order given;"
            " interleave: all of them by the time they were recorded.",
        ),
    ] = "concatenate",
    title: Annotated[
        str | None,
        typer.Option(help="Default: the sources' titles joined.", show_default=False),
    ] = None,
    metadata: Annotated[
        str | None,
        typer.Option(
            metavar="JSON", help="A JSON object (default: the first's).", show_default=False
        ),
    ] = None,
    tenant: Tenant = None,
    actor: Actor = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """A new session holding the histories of two or more sessions.

    Each source records that it was merged into it; each message names its origin.
    """
    if len(session_ids) < 2:
        raise CliInputError("merge needs two or more session ids")
    if len(set(session_ids)) != len(session_ids):
        raise CliInputError("merge needs distinct sessions")
    settings = load_settings(database_url=database_url, tenant_id=tenant, actor=actor)
    given = json_object("--metadata", metadata)
    with opened_ledger(settings) as ledger:
        state = ledger.merge_sessions(
            command_context(settings),
            session_ids,
            policy=policy,
            title=title,
            metadata=given,
        )
    emit(SessionOut.of(state), as_json, render_session)
