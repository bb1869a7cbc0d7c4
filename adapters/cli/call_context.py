"""`chatledger context`: exactly what one recorded model call was sent."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import RenderableType
from rich.table import Table

from adapters.call_context import CallContext
from adapters.cli.database import load_settings, opened_ledger
from adapters.cli.options import AsJson, DatabaseUrl, SessionId, Tenant
from adapters.cli.output import block_text, compact, emit, new_table

CompletionId = Annotated[
    str,
    typer.Argument(
        metavar="COMPLETION",
        help="The call's completion id (a turn's `completion_id`, or its event's).",
        show_default=False,
    ),
]


def context(
    session_id: SessionId,
    completion_id: CompletionId,
    tenant: Tenant = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Show exactly what a recorded model call was sent, and what of the history it left
    out or had summarised."""
    settings = load_settings(database_url=database_url, tenant_id=tenant)
    with opened_ledger(settings) as ledger:
        found = ledger.call_context(settings.tenant_id, session_id, completion_id)
    emit(found, as_json, render_call_context)


def render_call_context(call: CallContext) -> list[RenderableType]:
    fields = Table(show_header=False, box=None, padding=(0, 2, 0, 0))
    fields.add_column(style="bold")
    fields.add_column(overflow="fold")
    window = call.history
    rows = {
        "completion": call.completion_id,
        "status": call.status,
        "recorded at version": str(call.version),
        "provider, model": f"{call.provider}, {call.model}",
        "history": "not recalled"
        if window is None
        else f"{window.length} messages at version {window.version}",
        "excluded": str(len(call.excluded_message_ids)),
        "summarised": str(len(call.summarized_message_ids)),
        "tools": ", ".join(call.tools),
        "system": compact(call.system or ""),
    }
    if call.missing_message_ids:
        rows["not in the log"] = ", ".join(call.missing_message_ids)
    for field, value in rows.items():
        fields.add_row(field, value)
    sent = new_table(f"sent: {len(call.message_ids)} messages")
    sent.add_column("#", justify="right")
    sent.add_column("id")
    sent.add_column("role")
    sent.add_column("content", overflow="fold")
    for number, message in enumerate(call.messages, start=1):
        text = " ".join(block_text(block) for block in message.content)
        sent.add_row(str(number), message.id or "", message.role, compact(text))
    return [fields, sent]
