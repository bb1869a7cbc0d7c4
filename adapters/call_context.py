"""The exact context of one recorded model call, resolved from its manifest and the log.

A completion's manifest names what went into the call: its `history` window
(positions in the session's history at the version the turn read) and the ids sent
after it, or, for calls recorded before windows, every id. `resolve` turns either
into the messages themselves, read as of the versions the call saw (time travel), so
the answer does not change as the session moves on; erased or redacted content reads
as its placeholder, as everywhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from domain.errors import CompletionNotFoundError
from domain.history_window import HistoryWindow
from domain.llm import ChatSettings
from domain.message import Message
from domain.session import Session

if TYPE_CHECKING:
    from adapters.ledger_history import HistoryAPI


class CallContext(BaseModel):
    """What one model call was sent, and what of the history it left out."""

    model_config = ConfigDict(frozen=True)

    session_id: str
    completion_id: str
    version: int
    """The version that recorded the call."""
    status: Literal["ok", "failed"]
    provider: str
    model: str
    agent_id: str | None
    settings: ChatSettings
    system: str | None
    situation: str | None
    instructions: str | None
    tools: list[str]
    history: HistoryWindow | None
    """The manifest's window, as recorded (None for calls recorded before windows, and
    for calls that did not recall the history)."""
    message_ids: list[str]
    """Every message sent, in order."""
    messages: list[Message]
    """The messages sent, in order, as the log holds them now (erasure shows)."""
    missing_message_ids: list[str]
    """Ids sent whose message no event holds as a message (in a turn not remembered, the
    earlier rounds' messages a tool round sends again)."""
    input_message_ids: list[str]
    excluded_message_ids: list[str]
    summarized_message_ids: list[str]
    summary_ids: list[str]


def resolve(
    ledger: HistoryAPI, tenant_id: str, session_id: UUID, completion_id: str
) -> CallContext:
    """The context of `completion_id` in the session (404 when it recorded no such call)."""
    rows = ledger.views.completions.list_completions(tenant_id, str(session_id))
    row = next((r for r in rows if r.completion_id == completion_id), None)
    if row is None:
        ledger.engine.get_state(tenant_id, session_id)  # an unknown session is its own 404
        raise CompletionNotFoundError(session_id, completion_id)
    recorded = ledger.engine.list_events(
        tenant_id, session_id, after=row.version - 1, until=row.version
    )
    event = recorded[0] if recorded else None
    if not isinstance(event, Session.CompletionRecorded | Session.CompletionFailed):
        raise CompletionNotFoundError(session_id, completion_id)
    manifest = event.manifest
    at_call = ledger.get_state(tenant_id, session_id, version=event.originator_version).messages
    known = {e.message.id: e.message for e in at_call}
    known.update((m.id, m) for m in event.input_messages or [])
    sent: list[str] = []
    excluded = list(manifest.excluded_message_ids)
    summarized = list(manifest.summarized_message_ids)
    if manifest.history is not None:
        window = ledger.get_state(tenant_id, session_id, version=manifest.history.version).messages
        known.update((e.message.id, e.message) for e in window)
        from_window, excluded_before, summarized_before = manifest.history.ids(
            [e.message.id or "" for e in window]
        )
        sent += from_window
        excluded = excluded_before + excluded
        summarized = summarized_before + summarized
    sent += manifest.message_ids
    return CallContext(
        session_id=str(session_id),
        completion_id=completion_id,
        version=event.originator_version,
        status="ok" if isinstance(event, Session.CompletionRecorded) else "failed",
        provider=event.provider,
        model=event.model,
        agent_id=event.agent_id,
        settings=event.settings,
        system=manifest.system,
        situation=manifest.situation,
        instructions=manifest.instructions,
        tools=list(manifest.tools),
        history=manifest.history,
        message_ids=sent,
        messages=[known[i] for i in sent if i in known],
        missing_message_ids=[i for i in sent if i not in known],
        input_message_ids=list(manifest.input_message_ids),
        excluded_message_ids=excluded,
        summarized_message_ids=summarized,
        summary_ids=list(manifest.summary_ids),
    )
