"""The core of the Python API: sessions, messages, events, projections.

`LedgerCore` wraps the engine (commands, event-sourced queries) and the views
(lists, histories). After a command it makes sure the views show it before
returning (read-your-writes): inline projections already did, a lagging view
is caught up here, and external workers are waited for. Every call is scoped
to a tenant. `adapters.ledger.Ledger` adds branches and time travel, agents and
chat to it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal
from uuid import UUID

from domain.context import CommandContext
from domain.engine import CommandResult, Engine, SessionUpdate
from domain.errors import SessionNotFoundError
from domain.message import Message
from domain.session import PatchMode, Session, SessionState
from projections.agent_list import AgentListView
from projections.api_keys import ApiKeyView
from projections.audit import AuditView
from projections.completions import CompletionsView
from projections.history import HistoryEntry, HistoryQuery, HistoryView, SessionNotInViewError
from projections.paging import Page, check_page_size, decode_cursor, encode_cursor
from projections.runner import Progress, ProjectionRunner, ProjectionStatus
from projections.session_list import SessionListView, SessionQuery, SessionSummary

log = logging.getLogger(__name__)


class AppendResult:
    """The session after an append, and the messages as recorded.

    Both are made on first use, from the command's result: an ingest that reads neither
    does not pay for them.
    """

    __slots__ = ("_messages", "_result")

    def __init__(self, result: CommandResult) -> None:
        self._result = result
        self._messages: list[HistoryEntry] | None = None

    @property
    def session(self) -> SessionState:
        return self._result.session

    @property
    def messages(self) -> list[HistoryEntry]:
        entries = self._messages
        if entries is None:
            entries = self._messages = [
                HistoryEntry.appended(event)
                for event in self._result.events
                if isinstance(event, Session.MessageAppended)
            ]
        return entries

    def __repr__(self) -> str:
        return f"AppendResult(messages={len(self.messages)}, version={self.session.version})"


@dataclass(frozen=True)
class Views:
    """The read models the ledger serves queries from."""

    sessions: SessionListView
    history: HistoryView
    agents: AgentListView
    completions: CompletionsView
    keys: ApiKeyView
    audit: AuditView

    def all(self) -> list[Any]:
        return [self.sessions, self.history, self.agents, self.completions, self.keys, self.audit]


def parse_id(value: str | UUID, not_found: Callable[[str], Exception]) -> UUID:
    """An aggregate id from its text; anything else is `not_found(value)` (an unknown id)."""
    if isinstance(value, UUID):
        return value
    try:
        return UUID(value)
    except ValueError:
        raise not_found(value) from None


def session_uuid(session_id: str | UUID) -> UUID:
    """A session id from its text; anything else is an unknown session."""
    return parse_id(session_id, SessionNotFoundError)


class LedgerCore:
    """Sessions, messages, events and projections over one database."""

    def __init__(
        self,
        engine: Engine,
        runner: ProjectionRunner,
        views: Views,
        *,
        inline: bool = True,
        read_your_writes_timeout: float = 5.0,
    ) -> None:
        self.engine = engine
        self.runner = runner
        self.views = views
        self.sessions = views.sessions
        self.history = views.history
        self.inline = inline
        self.read_your_writes_timeout = read_your_writes_timeout

    # Sessions

    def create_session(self, ctx: CommandContext, **fields: Any) -> SessionState:
        """Create a session; fields as `Engine.create_session`."""
        return self._visible(self.engine.create_session(ctx, **fields)).session

    def get_session(self, tenant_id: str, session_id: str | UUID) -> SessionState:
        return self.engine.get_session(tenant_id, session_uuid(session_id))

    def list_sessions(self, query: SessionQuery) -> Page[SessionSummary]:
        return self.sessions.list_sessions(query)

    def update_session(
        self,
        ctx: CommandContext,
        session_id: str | UUID,
        update: SessionUpdate,
        *,
        mode: PatchMode = "merge",
        expected_version: int | None = None,
    ) -> SessionState:
        result = self.engine.update_session(
            ctx, session_uuid(session_id), update, mode=mode, expected_version=expected_version
        )
        return self._visible(result).session

    def delete_session(
        self, ctx: CommandContext, session_id: str | UUID, *, expected_version: int | None = None
    ) -> SessionState:
        result = self.engine.delete_session(
            ctx, session_uuid(session_id), expected_version=expected_version
        )
        return self._visible(result).session

    def get_metadata(self, tenant_id: str, session_id: str | UUID) -> dict[str, Any]:
        return self.get_session(tenant_id, session_id).metadata

    # Messages

    def append_messages(
        self,
        ctx: CommandContext,
        session_id: str | UUID,
        messages: Sequence[Message],
        *,
        expected_version: int | None = None,
    ) -> AppendResult:
        result = self.engine.append_messages(
            ctx, session_uuid(session_id), messages, expected_version=expected_version
        )
        return AppendResult(self._visible(result))

    def list_messages(
        self,
        tenant_id: str,
        session_id: str | UUID,
        *,
        limit: int = 100,
        cursor: str | None = None,
        offset: int | None = None,
        order: Literal["asc", "desc"] = "asc",
    ) -> Page[HistoryEntry]:
        """The model-facing history (messages since the last clear).

        The view checks the owner and finds the last clear in the transaction that reads
        the page; a session it does not hold as live is the engine's to find (or refuse).
        """
        sid = session_uuid(session_id)
        query = HistoryQuery(
            tenant_id=tenant_id,
            session_id=str(sid),
            after_version=None,
            limit=limit,
            cursor=cursor,
            offset=offset,
            order=order,
        )
        try:
            return self.history.list_messages(query)
        except SessionNotInViewError:
            window = self.engine.get_history_window(tenant_id, sid)
            return self.history.list_messages(replace(query, after_version=window))

    def clear_history(
        self, ctx: CommandContext, session_id: str | UUID, *, expected_version: int | None = None
    ) -> SessionState:
        result = self.engine.clear_history(
            ctx, session_uuid(session_id), expected_version=expected_version
        )
        return self._visible(result).session

    # Events

    def list_events(
        self,
        tenant_id: str,
        session_id: str | UUID,
        *,
        limit: int = 100,
        cursor: str | None = None,
        after_version: int = 0,
    ) -> Page[Session.Event]:
        """The session's event stream, oldest first (deleted sessions included)."""
        limit = check_page_size(limit)
        if cursor is not None:
            after_version = decode_cursor(cursor, version=int)["version"]
        events = self.engine.list_events(
            tenant_id, session_uuid(session_id), after=after_version, limit=limit + 1
        )
        page = events[:limit]
        next_cursor = None
        if len(events) > limit:
            next_cursor = encode_cursor({"version": page[-1].originator_version})
        return Page(page, next_cursor)

    # Projections

    def projection_status(self) -> list[ProjectionStatus]:
        return self.runner.status()

    def rebuild_projection(self, name: str, *, on_progress: Progress | None = None) -> int:
        """Empty a view and replay the whole log into it; returns the events read."""
        return self.runner.rebuild(name, on_progress=on_progress)

    def catch_up(self) -> int:
        return self.runner.catch_up()

    def close(self) -> None:
        self.engine.close()

    # Internals

    def _visible(self, result: CommandResult) -> CommandResult:
        """`result`, once the views show it (read-your-writes)."""
        self._ensure_visible(result.position)
        return result

    def _ensure_visible(self, position: int | None) -> None:
        """Return only once every view has processed log `position`."""
        if position is None or self.runner.applied_inline(position):
            return
        if self.runner.is_current(position):
            return
        if self.inline:
            self.runner.catch_up()
        elif not self.runner.wait_for(position, timeout=self.read_your_writes_timeout):
            log.warning("views did not reach position %s in time", position)
