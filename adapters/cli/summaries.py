"""`chatledger summarize`: let a summary stand in for a session's older messages.

From then on, prompts send the summary instead of the messages it covers; the
messages stay in the history and the log. Without `--text`, the session's
model writes the summary (one recorded call), so this command is an entry
point that builds telemetry from `OTEL_*`, as `chat` does.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.console import RenderableType

from adapters.cli.database import command_context, load_settings, opened_ledger
from adapters.cli.errors import CliInputError
from adapters.cli.options import Actor, AsJson, DatabaseUrl, SessionId, Tenant
from adapters.cli.otel import command_telemetry
from adapters.cli.output import compact, emit, new_table, render_session
from adapters.http.schemas import SessionOut


def summarize(
    session_id: SessionId,
    up_to_version: Annotated[
        int | None,
        typer.Option(
            "--up-to-version",
            metavar="N",
            min=1,
            help="Summarise the messages up to version N (default: all not yet summarised).",
            show_default=False,
        ),
    ] = None,
    text: Annotated[
        str | None,
        typer.Option(
            help="The summary (default: the session's model writes it).", show_default=False
        ),
    ] = None,
    tenant: Tenant = None,
    actor: Actor = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Record a summary that stands in for the history's older messages in prompts."""
    if text is not None and not text.strip():
        raise CliInputError("--text is empty")
    settings = load_settings(database_url=database_url, tenant_id=tenant, actor=actor)
    with (
        command_telemetry(os.environ) as telemetry,
        opened_ledger(settings, telemetry=telemetry) as ledger,
    ):
        state = ledger.summarize(
            command_context(settings), session_id, up_to_version=up_to_version, text=text
        )
    emit(SessionOut.of(state), as_json, render_summarized)


def render_summarized(session: SessionOut) -> list[RenderableType]:
    table = new_table("summaries")
    table.add_column("versions", no_wrap=True)
    table.add_column("summary", overflow="fold")
    for summary in session.summaries:
        table.add_row(f"{summary.from_version}–{summary.to_version}", compact(summary.text))
    return [*render_session(session), table]
