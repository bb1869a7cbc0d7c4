"""`chatledger erase` and `chatledger redact`: destroy content for good (an operator's tools).

The CLI works on the database directly, so it acts as the configured actor with
every right; over HTTP both are admin-only.
"""

from __future__ import annotations

from typing import Annotated

import typer

from adapters.cli.database import command_context, load_settings, opened_ledger
from adapters.cli.options import Actor, AsJson, DatabaseUrl, SessionId, Tenant
from adapters.cli.output import emit, render_session
from adapters.http.schemas import SessionOut
from domain.erasure import ERASE_REASON, REDACT_REASON

Reason = Annotated[str | None, typer.Option(help="Why: a code such as gdpr-art-17, not prose.")]
MessageId = Annotated[str, typer.Argument(metavar="MESSAGE", help="Message id.")]


def erase(
    session_id: SessionId,
    reason: Reason = None,
    tenant: Tenant = None,
    actor: Actor = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Erase a session's content: destroy its keys (it also counts as deleted)."""
    settings = load_settings(database_url=database_url, tenant_id=tenant, actor=actor)
    with opened_ledger(settings) as ledger:
        state = ledger.erase_session(
            command_context(settings), session_id, reason=reason or ERASE_REASON
        )
    emit(SessionOut.of(state), as_json, render_session)


def redact(
    session_id: SessionId,
    message_id: MessageId,
    reason: Reason = None,
    tenant: Tenant = None,
    actor: Actor = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Redact one message: destroy its key (it reads as a placeholder from now on)."""
    settings = load_settings(database_url=database_url, tenant_id=tenant, actor=actor)
    with opened_ledger(settings) as ledger:
        state = ledger.redact_message(
            command_context(settings), session_id, message_id, reason=reason or REDACT_REASON
        )
    emit(SessionOut.of(state), as_json, render_session)
