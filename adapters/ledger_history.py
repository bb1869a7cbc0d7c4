"""The Python API for branches and time travel (mixed into `Ledger`).

A session can be forked at any version, copied at its head, or merged with
others into a new session; each branch records where it came from, and its
inherited messages are read from its sources. Any session can be read as of a
version or a time (`get_state`, history included), two of its versions
compared (`diff`), and any recorded model call's exact context read back
(`call_context`). When the history view lags behind the log (a worker is
behind, or a view is being rebuilt), the messages are read from the events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from adapters.call_context import CallContext
from adapters.call_context import resolve as resolve_call_context
from adapters.ledger_core import LedgerCore, session_uuid
from domain.context import CommandContext
from domain.diff import SessionDiff, SessionView, diff_views
from domain.errors import InvalidVersionError
from domain.session import MergePolicy, Session, SessionState
from projections.history import HistoryEntry, HistoryQuery


@dataclass(frozen=True)
class FullState:
    """A session as of one version, with its model-facing history at that version."""

    session: SessionState
    messages: list[HistoryEntry]


class HistoryAPI(LedgerCore):
    """Forks, copies and merges; a session as of a version or a time, and diffs."""

    def fork_session(
        self,
        ctx: CommandContext,
        session_id: str | UUID,
        *,
        at_version: int | None = None,
        title: str | None = None,
        metadata: dict[str, Any] | None = None,
        agent_id: str | None = None,
        situation: str | None = None,
    ) -> SessionState:
        """A new session with the source's state and history as of `at_version` (the head);
        `agent_id` and `situation` let it differ from the source from the start."""
        result = self.engine.fork_session(
            ctx,
            session_uuid(session_id),
            at_version=at_version,
            title=title,
            metadata=metadata,
            agent_id=agent_id,
            situation=situation,
        )
        return self._visible(result).session

    def copy_session(
        self, ctx: CommandContext, session_id: str | UUID, *, title: str | None = None
    ) -> SessionState:
        """A fork at the head."""
        result = self.engine.fork_session(ctx, session_uuid(session_id), title=title, is_copy=True)
        return self._visible(result).session

    def merge_sessions(
        self,
        ctx: CommandContext,
        session_ids: Sequence[str | UUID],
        *,
        policy: MergePolicy = "concatenate",
        title: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> SessionState:
        """A new session with the sources' histories; each source records `MergedInto`."""
        result = self.engine.merge_sessions(
            ctx,
            [session_uuid(s) for s in session_ids],
            policy=policy,
            title=title,
            metadata=metadata,
        )
        return self._visible(result).session

    def get_state(
        self,
        tenant_id: str,
        session_id: str | UUID,
        *,
        version: int | None = None,
        at: datetime | None = None,
    ) -> FullState:
        """The whole session, history included, as of a version or a time."""
        sid = session_uuid(session_id)
        state = self.engine.get_state(tenant_id, sid, version=version, at=at)
        entries = self.history.list_messages(
            HistoryQuery(
                tenant_id=tenant_id,
                session_id=str(sid),
                after_version=state.cleared_at_version,
                until_version=state.version,
                limit=None,
            )
        ).data
        if len(entries) != state.message_count:
            # The view is behind (a worker lags, or it is being rebuilt): read the log.
            entries = self._messages_from_events(tenant_id, sid, state)
        return FullState(state, entries)

    def call_context(
        self, tenant_id: str, session_id: str | UUID, completion_id: str
    ) -> CallContext:
        """Exactly what one recorded model call was sent (its messages, system text, tools
        and settings), and what of the history it left out or had summarised."""
        return resolve_call_context(self, tenant_id, session_uuid(session_id), completion_id)

    def diff(
        self, tenant_id: str, session_id: str | UUID, from_version: int, to_version: int
    ) -> SessionDiff:
        """What changed between two versions: fields before and after, messages out and in."""
        states = []
        for field, version in (("from", from_version), ("to", to_version)):
            try:
                states.append(self.get_state(tenant_id, session_id, version=version))
            except InvalidVersionError as error:
                raise InvalidVersionError(field, error.detail.split(": ", 1)[-1]) from None
        a, b = states
        return diff_views(
            str(a.session.id),
            from_version,
            SessionView.of(a.session, [e.message for e in a.messages]),
            to_version,
            SessionView.of(b.session, [e.message for e in b.messages]),
        )

    # Internals

    def _messages_from_events(
        self, tenant_id: str, session_id: UUID, state: SessionState
    ) -> list[HistoryEntry]:
        events = self.engine.list_events(tenant_id, session_id, until=state.version)
        entries: list[HistoryEntry] = []
        for event in events:
            if event.originator_version <= state.cleared_at_version:
                continue
            if isinstance(event, Session.MessageAppended):
                entries.append(HistoryEntry.appended(event))
            elif isinstance(event, Session.Forked | Session.Merged):
                entries += self._inherited_from_events(tenant_id, session_id, event)
        return entries

    def _inherited_from_events(
        self, tenant_id: str, session_id: UUID, event: Session.Forked | Session.Merged
    ) -> list[HistoryEntry]:
        """A fork's or merge's inherited messages, read from its sources' logs."""
        if isinstance(event, Session.Forked):
            windows = [(event.source_id, event.source_version)]
        else:
            windows = [(s.session_id, s.version) for s in event.sources]
        inherited: list[HistoryEntry] = []
        for source_id, version in windows:
            source = self.get_state(tenant_id, source_id, version=version).messages
            inherited += [
                entry.replace(
                    session_id=str(session_id),
                    version=1,
                    origin_session_id=entry.origin_session_id or entry.session_id,
                    origin_version=entry.origin_version or entry.version,
                )
                for entry in source
            ]
        if isinstance(event, Session.Merged) and event.policy == "interleave":
            inherited.sort(key=lambda e: e.created_at)
        return [entry.replace(seq=n) for n, entry in enumerate(inherited, start=1)]
